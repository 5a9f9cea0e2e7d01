"""What a person does with a transfer: accept it (exclusively), decline it, record a disposition.

Acceptance is a Lua script on the transfer's state hash, so of two agents pressing "accept" at the
same moment exactly one gets the call. Each acceptance is also published on the console's event
stream, which the live queue pages follow to remove the row everywhere.
"""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum

from redis.asyncio import Redis

from payment_tools.redaction import contains_luhn_run, mask_card_numbers
from voicepay.console.transfers import Transfer, declines_key, state_key
from voicepay.redis_client import make_key

EVENTS_STREAM = make_key("console", "events")
MAX_NOTE_LENGTH = 1000
_EVENTS_KEPT = 10_000

# KEYS[1] state hash; ARGV username, timestamp. Returns {won, agent holding the transfer}.
_ACCEPT = """
if redis.call('HSETNX', KEYS[1], 'agent', ARGV[1]) == 1 then
  redis.call('HSET', KEYS[1], 'accepted_at', ARGV[2])
  return {1, ARGV[1]}
end
return {0, redis.call('HGET', KEYS[1], 'agent')}
"""


class AcceptOutcome(StrEnum):
    """The result of pressing "accept"."""

    ACCEPTED = "accepted"
    ALREADY_YOURS = "already_yours"
    TAKEN = "taken"


class DispositionOutcome(StrEnum):
    """How a call ended once a person had it."""

    PAID = "paid"
    PROMISE_TO_PAY = "promise_to_pay"
    CALLBACK = "callback"
    DISPUTE = "dispute"
    ESCALATED = "escalated"
    NO_ACTION = "no_action"
    CALLER_HUNG_UP = "caller_hung_up"


class ActionRefused(ValueError):
    """The action is not allowed on this transfer now; the message is safe to show."""


def safe_text(text: str, *, what: str) -> str:
    """``text`` stripped, if it is short and holds nothing card-like.

    Raises:
        ActionRefused: it is too long, or holds a card number or a run of 12+ digits.
    """
    text = text.strip()
    if len(text) > MAX_NOTE_LENGTH:
        raise ActionRefused(f"The {what} is longer than {MAX_NOTE_LENGTH} characters.")
    if contains_luhn_run(text) or mask_card_numbers(text) != text:
        raise ActionRefused(f"The {what} looks like it holds card data; remove the digits.")
    return text


class TransferActions:
    """Records acceptances, declines and dispositions.

    Args:
        redis: an asyncio Redis client with decoded replies.
    """

    def __init__(self, redis: Redis) -> None:
        self._redis = redis
        self._accept = redis.register_script(_ACCEPT)

    async def accept(self, transfer: Transfer, username: str) -> AcceptOutcome:
        """Give the transfer to ``username`` unless someone already has it."""
        now = datetime.now(UTC).isoformat()
        key = state_key(transfer.queue, transfer.ref)
        won, holder = await self._accept(keys=[key], args=[username, now])
        if not won:
            return AcceptOutcome.ALREADY_YOURS if holder == username else AcceptOutcome.TAKEN
        await self._redis.xadd(
            EVENTS_STREAM,
            {"kind": "accepted", "queue": transfer.queue, "ref": transfer.ref, "agent": username},
            maxlen=_EVENTS_KEPT,
            approximate=True,
        )
        return AcceptOutcome.ACCEPTED

    async def decline(self, transfer: Transfer, username: str, reason: str) -> None:
        """Record that ``username`` passes on the transfer; it stays open for others.

        Raises:
            ActionRefused: it is already accepted, or the reason holds card data.
        """
        if not transfer.is_open:
            raise ActionRefused("This transfer was already accepted.")
        reason = safe_text(reason, what="reason")
        await self._redis.hset(declines_key(transfer.queue, transfer.ref), username, reason)

    async def dispose(
        self, transfer: Transfer, username: str, outcome: DispositionOutcome, note: str
    ) -> None:
        """Record how the call ended; only the person who accepted it may.

        Raises:
            ActionRefused: ``username`` does not hold the transfer, or the note holds card data.
        """
        if transfer.accepted_by != username:
            raise ActionRefused("Only the agent who accepted this transfer can record its outcome.")
        note = safe_text(note, what="note")
        await self._redis.hset(
            state_key(transfer.queue, transfer.ref),
            mapping={
                "disposition": outcome.value,
                "disposition_note": note,
                "disposed_at": datetime.now(UTC).isoformat(),
            },
        )

    async def take_feedback_slot(self, transfer: Transfer, username: str) -> bool:
        """Reserve the transfer's single feedback for ``username``; False if already given."""
        won = await self._redis.hsetnx(
            state_key(transfer.queue, transfer.ref), "feedback", username
        )
        return bool(won)
