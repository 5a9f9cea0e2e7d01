"""Payment-line KPIs from call records: containment, the funnel, handle time, transfers, CSAT.

Definitions (each over the calls that ended in the period):

* containment: calls that never went to a person, over all calls;
* true containment: contained calls whose caller did not call again within 24 hours (the same
  caller is the same phone-number hash, else the same account; a call with neither is taken as
  not repeated, since nothing can tell);
* funnel: calls that reached each stage (identified → verified → amount agreed → captured → paid);
  conversion is paid over amount agreed, the point at which a call reaches card capture;
* average handle time: mean call duration;
* transfer rate by reason: calls handed to a person for that reason, over all calls;
* CSAT: share of survey scores of 4 or 5, with the mean score and the number of answers.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from voicepay.call_records import CallRecord
from voicepay.metrics import FUNNEL_STAGES

REPEAT_WINDOW = timedelta(hours=24)
_SINCE = re.compile(r"^(\d+)\s*([mhdw])$")
_UNITS = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


class BadSince(ValueError):
    """A ``--since`` value that is neither a duration (``24h``, ``7d``) nor an ISO date."""


def parse_since(text: str, now: datetime) -> datetime:
    """The start of a period: ``30m``, ``24h``, ``7d`` or ``2w`` before ``now``, or an ISO date.

    A date or time without a zone is taken as UTC.
    """
    value = text.strip().lower()
    match = _SINCE.match(value)
    if match:
        amount = int(match.group(1))
        try:
            return now - timedelta(**{_UNITS[match.group(2)]: amount})
        except OverflowError:
            raise BadSince(f"{text!r} reaches too far back") from None
    try:
        start = datetime.fromisoformat(text.strip())
    except ValueError:
        raise BadSince(f"{text!r} is not a duration like 24h or 7d, nor an ISO date") from None
    return start if start.tzinfo is not None else start.replace(tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class FunnelStage:
    """One funnel stage: calls that reached it, and their share of all calls."""

    stage: str
    calls: int
    pct: float | None


@dataclass(frozen=True, slots=True)
class Kpis:
    """The KPIs of the calls that ended in a period."""

    since: datetime | None
    until: datetime
    calls: int
    contained: int
    containment_pct: float | None
    truly_contained: int
    true_containment_pct: float | None
    funnel: list[FunnelStage]
    conversion_pct: float | None
    average_handle_s: float | None
    outcomes: list[tuple[str, int]]
    transfers: int
    transfer_rate_pct: float | None
    transfers_by_reason: list[tuple[str, int, float]]
    survey_answers: int
    csat_pct: float | None
    average_score: float | None

    def to_json(self) -> dict[str, Any]:
        """The KPIs as a JSON-safe mapping."""
        data = asdict(self)
        data["since"] = self.since.isoformat() if self.since else None
        data["until"] = self.until.isoformat()
        return data


def _pct(part: int, whole: int) -> float | None:
    return round(100 * part / whole, 1) if whole else None


def _caller(record: CallRecord) -> str | None:
    if record.caller:
        return f"phone:{record.caller}"
    return f"account:{record.account}" if record.account else None


def repeated_calls(records: list[CallRecord]) -> set[str]:
    """Ids of calls whose caller called again within :data:`REPEAT_WINDOW` after they ended."""
    by_caller: dict[str, list[CallRecord]] = defaultdict(list)
    for record in records:
        caller = _caller(record)
        if caller is not None:
            by_caller[caller].append(record)
    repeated: set[str] = set()
    for calls in by_caller.values():
        calls.sort(key=lambda r: r.started_at)
        for earlier, later in zip(calls, calls[1:], strict=False):
            gap = later.started_at - earlier.ended_at
            if gap <= REPEAT_WINDOW:
                repeated.add(earlier.call_id)
    return repeated


def compute(records: list[CallRecord], *, since: datetime | None, until: datetime) -> Kpis:
    """The KPIs of ``records``: the calls that ended from ``since`` (``None``: ever) on."""
    calls = len(records)
    repeats = repeated_calls(records)
    contained = [r for r in records if r.contained]
    truly = [r for r in contained if r.call_id not in repeats]
    reached = Counter(stage for r in records for stage in r.stages)
    transferred = [r for r in records if not r.contained]
    reasons = Counter(r.transfer_reason or "unknown" for r in transferred)
    scores = [r.survey_score for r in records if r.survey_score is not None]
    return Kpis(
        since=since,
        until=until,
        calls=calls,
        contained=len(contained),
        containment_pct=_pct(len(contained), calls),
        truly_contained=len(truly),
        true_containment_pct=_pct(len(truly), calls),
        funnel=[FunnelStage(s, reached[s], _pct(reached[s], calls)) for s in FUNNEL_STAGES],
        conversion_pct=_pct(reached["paid"], reached["amount_agreed"]),
        average_handle_s=round(sum(r.duration_s for r in records) / calls, 1) if calls else None,
        outcomes=Counter(r.outcome for r in records).most_common(),
        transfers=len(transferred),
        transfer_rate_pct=_pct(len(transferred), calls),
        transfers_by_reason=[
            (reason, count, _pct(count, calls) or 0.0) for reason, count in reasons.most_common()
        ],
        survey_answers=len(scores),
        csat_pct=_pct(sum(1 for s in scores if s >= 4), len(scores)),
        average_score=round(sum(scores) / len(scores), 2) if scores else None,
    )
