"""Supervisor figures: transfers by reason, accept rate, waits, feedback scores, per agent."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime

from voicepay.console.feedback import HandoffFeedback, RightCall
from voicepay.console.transfers import Transfer
from voicepay.console.users import User


@dataclass(frozen=True, slots=True)
class QueueFigures:
    """One queue right now."""

    queue: str
    waiting: int
    longest_wait_s: int
    accepted: int


@dataclass(frozen=True, slots=True)
class Kpis:
    """The figures on the supervisor overview (over the listed transfers)."""

    transfers: int
    by_reason: list[tuple[str, int]]
    accepted: int
    declines: int
    accept_rate_pct: int | None
    average_wait_s: int | None
    feedback_count: int
    average_score_tenths: int | None
    right_call_pct: int | None
    dispositions: list[tuple[str, int]]
    queues: list[QueueFigures]


@dataclass(frozen=True, slots=True)
class AgentFigures:
    """One console user's activity over the listed transfers."""

    username: str
    role: str
    queues: list[str]
    accepted: int
    declined: int
    disposed: int
    holding: int


def _pct(part: int, whole: int) -> int | None:
    return round(100 * part / whole) if whole else None


def compute(
    transfers: list[Transfer], feedback: list[HandoffFeedback], queues: list[str], now: datetime
) -> Kpis:
    """The overview figures for ``transfers`` and ``feedback`` in ``queues``."""
    accepted = [t for t in transfers if not t.is_open]
    waits = [t.wait_s(now) for t in accepted]
    scores = [f.score for f in feedback]
    per_queue = []
    for queue in queues:
        mine = [t for t in transfers if t.queue == queue]
        waiting = [t.wait_s(now) for t in mine if t.is_open]
        per_queue.append(
            QueueFigures(
                queue=queue,
                waiting=len(waiting),
                longest_wait_s=max(waiting, default=0),
                accepted=len(mine) - len(waiting),
            )
        )
    dispositions = Counter(t.disposition.outcome for t in transfers if t.disposition)
    return Kpis(
        transfers=len(transfers),
        by_reason=Counter(t.reason for t in transfers).most_common(),
        accepted=len(accepted),
        declines=sum(len(t.declined_by) for t in transfers),
        accept_rate_pct=_pct(len(accepted), len(transfers)),
        average_wait_s=round(sum(waits) / len(waits)) if waits else None,
        feedback_count=len(feedback),
        average_score_tenths=round(10 * sum(scores) / len(scores)) if scores else None,
        right_call_pct=_pct(sum(f.right_call is RightCall.YES for f in feedback), len(feedback)),
        dispositions=dispositions.most_common(),
        queues=per_queue,
    )


def agent_figures(users: list[User], transfers: list[Transfer]) -> list[AgentFigures]:
    """Per-user counts of accepted, declined, disposed and still-held transfers."""
    return [
        AgentFigures(
            username=user.username,
            role=user.role.value,
            queues=user.queues,
            accepted=sum(t.accepted_by == user.username for t in transfers),
            declined=sum(user.username in t.declined_by for t in transfers),
            disposed=sum(
                t.accepted_by == user.username and t.disposition is not None for t in transfers
            ),
            holding=sum(
                t.accepted_by == user.username and t.disposition is None for t in transfers
            ),
        )
        for user in users
    ]
