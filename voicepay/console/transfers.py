"""Reads the bot's hand-offs from their Redis streams, with what the console recorded on each.

The agent writes one stream entry per transfer to ``voicepay:handoffs:<queue>`` (see
``agent/handoff.py``). The console never edits those entries: what people do with a transfer
lives under its own keys (see :mod:`voicepay.console.claims`). In URLs and pages a transfer is
named by a *ref*, the entry ID in base 36, because a raw entry ID is a 13-digit number that
card-data scanners would flag.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime

from redis.asyncio import Redis

from payment_tools.redaction import contains_luhn_run
from voicepay.console._redis import stream_entries, text_fields
from voicepay.handoff_brief import BRIEF_FIELD, HandoffBrief, UnsafeBrief
from voicepay.redis_client import make_key

HANDOFF_PREFIX = make_key("handoffs") + ":"
_REF = re.compile(r"^[0-9a-z]{1,13}-[0-9a-z]{1,13}$")
_DIGITS36 = "0123456789abcdefghijklmnopqrstuvwxyz"


def handoff_stream(queue: str) -> str:
    """The stream the agent writes ``queue``'s hand-offs to."""
    return make_key("handoffs", queue)


def state_key(queue: str, ref: str) -> str:
    """The hash holding what the console recorded on one transfer."""
    return make_key("console", "transfer", queue, ref)


def declines_key(queue: str, ref: str) -> str:
    """The hash of agents who declined one transfer, with their reasons."""
    return make_key("console", "declines", queue, ref)


def _base36(number: int) -> str:
    digits = ""
    while True:
        number, rest = divmod(number, 36)
        digits = _DIGITS36[rest] + digits
        if number == 0:
            return digits


def ref_of(entry_id: str) -> str:
    """The URL-safe ref of a stream entry ID (``1700000000000-0`` -> ``lonfk1k0-0``)."""
    millis, seq = entry_id.split("-")
    return f"{_base36(int(millis))}-{_base36(int(seq))}"


def entry_id_of(ref: str) -> str | None:
    """The stream entry ID a ref names, or None when it is not a ref."""
    if not _REF.fullmatch(ref):
        return None
    millis, seq = ref.split("-")
    return f"{int(millis, 36)}-{int(seq, 36)}"


@dataclass(frozen=True, slots=True)
class Disposition:
    """How the call ended after a person took it."""

    outcome: str
    note: str
    at: datetime


@dataclass(frozen=True, slots=True)
class Transfer:
    """One hand-off and what the console knows of it.

    Attributes:
        queue: the queue it waits in.
        ref: its URL-safe name within the queue.
        call_id: the bot's call ID.
        reason: the transfer reason code.
        account: the account number, or empty.
        verified: whether the caller was verified.
        summary: the agent's one-paragraph summary; empty if it failed the card-data guard.
        created_at: when the bot queued it.
        brief: the structured brief, when present and safe.
        brief_withheld: a brief was present but failed the guard.
        accepted_by: who accepted it, or empty.
        accepted_at: when.
        declined_by: who declined it, with their reasons.
        disposition: how the call ended, once recorded.
        feedback_by: who rated the hand-off, or empty.
    """

    queue: str
    ref: str
    call_id: str
    reason: str
    account: str
    verified: bool
    summary: str
    created_at: datetime
    brief: HandoffBrief | None = None
    brief_withheld: bool = False
    accepted_by: str = ""
    accepted_at: datetime | None = None
    declined_by: dict[str, str] = field(default_factory=dict)
    disposition: Disposition | None = None
    feedback_by: str = ""

    @property
    def is_open(self) -> bool:
        """Whether no one has accepted it yet."""
        return not self.accepted_by

    def wait_s(self, now: datetime | None = None) -> int:
        """Seconds the caller waited: until acceptance, or until ``now`` while still open."""
        end = self.accepted_at or now or datetime.now(UTC)
        return max(0, int((end - self.created_at).total_seconds()))


def parse_entry(queue: str, entry_id: str, fields: dict[str, str]) -> Transfer:
    """A :class:`Transfer` from one hand-off stream entry, without console state.

    Missing or malformed fields are tolerated: the entry ID gives the time, an unsafe summary or
    brief is dropped rather than shown.
    """
    summary = fields.get("summary", "")
    brief: HandoffBrief | None = None
    withheld = False
    if raw_brief := fields.get(BRIEF_FIELD):
        try:
            brief = HandoffBrief.from_json(raw_brief)
        except UnsafeBrief:
            withheld = True
    return Transfer(
        queue=queue,
        ref=ref_of(entry_id),
        call_id=fields.get("call_id", ""),
        reason=fields.get("reason", "other"),
        account=fields.get("account", ""),
        verified=fields.get("verified") == "yes",
        summary="" if contains_luhn_run(summary) else summary,
        created_at=_created_at(entry_id, fields.get("created_at")),
        brief=brief,
        brief_withheld=withheld,
    )


def _created_at(entry_id: str, raw: str | None) -> datetime:
    if raw:
        try:
            parsed = datetime.fromisoformat(raw)
        except ValueError:
            parsed = None
        if parsed is not None and parsed.tzinfo is not None:
            return parsed
    return datetime.fromtimestamp(int(entry_id.split("-")[0]) / 1000, tz=UTC)


def _with_state(transfer: Transfer, state: dict[str, str], declines: dict[str, str]) -> Transfer:
    disposition = None
    if state.get("disposition"):
        disposition = Disposition(
            outcome=state["disposition"],
            note=state.get("disposition_note", ""),
            at=datetime.fromisoformat(state["disposed_at"]),
        )
    accepted_at = state.get("accepted_at")
    return replace(
        transfer,
        accepted_by=state.get("agent", ""),
        accepted_at=datetime.fromisoformat(accepted_at) if accepted_at else None,
        declined_by=dict(declines),
        disposition=disposition,
        feedback_by=state.get("feedback", ""),
    )


class TransferReader:
    """Finds queues and reads their transfers with the console's state.

    Args:
        redis: an asyncio Redis client with decoded replies.
        window_s: only transfers queued this recently are listed.
    """

    def __init__(self, redis: Redis, *, window_s: int = 24 * 3600) -> None:
        self._redis = redis
        self._window_s = window_s

    async def queues(self) -> list[str]:
        """Every queue that has a hand-off stream, by name."""
        found = {
            key.removeprefix(HANDOFF_PREFIX)
            async for key in self._redis.scan_iter(match=HANDOFF_PREFIX + "*", _type="STREAM")
        }
        return sorted(found)

    async def get(self, queue: str, ref: str) -> Transfer | None:
        """One transfer by queue and ref, or None."""
        entry_id = entry_id_of(ref)
        if entry_id is None:
            return None
        rows = stream_entries(
            await self._redis.xrange(handoff_stream(queue), min=entry_id, max=entry_id)
        )
        if not rows:
            return None
        found = await self._attach([parse_entry(queue, entry_id, rows[0][1])])
        return found[0]

    async def recent(self, queues: list[str]) -> list[Transfer]:
        """Transfers of the last ``window_s`` seconds in ``queues``, oldest first."""
        since_ms = int(datetime.now(UTC).timestamp() * 1000) - self._window_s * 1000
        parsed: list[Transfer] = []
        for queue in queues:
            rows = stream_entries(
                await self._redis.xrange(handoff_stream(queue), min=f"{since_ms}-0")
            )
            parsed += [parse_entry(queue, entry_id, fields) for entry_id, fields in rows]
        parsed.sort(key=lambda transfer: transfer.created_at)
        return await self._attach(parsed)

    async def _attach(self, transfers: list[Transfer]) -> list[Transfer]:
        if not transfers:
            return []
        async with self._redis.pipeline(transaction=False) as pipe:
            for transfer in transfers:
                pipe.hgetall(state_key(transfer.queue, transfer.ref))
                pipe.hgetall(declines_key(transfer.queue, transfer.ref))
            replies = await pipe.execute()
        return [
            _with_state(transfer, text_fields(replies[2 * i]), text_fields(replies[2 * i + 1]))
            for i, transfer in enumerate(transfers)
        ]
