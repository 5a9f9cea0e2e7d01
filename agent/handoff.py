"""Hand-off requests to a human agent, queued in a Redis stream with a redacted summary."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, cast

from redis.asyncio import Redis

from agent.events import CallEvent
from agent.workflow import CallState
from payment_tools.redaction import contains_luhn_run, redact_card_data
from voicepay.handoff_brief import BRIEF_FIELD, HandoffBrief, UnsafeBrief
from voicepay.money import Money

logger = logging.getLogger(__name__)

STREAM = "voicepay:handoffs:{queue}"
CALLBACKS_STREAM = "voicepay:callbacks"
_LAST_CALLER_LINES = 4


class TransferReason(StrEnum):
    """Why a call goes to a person; recorded on the call and the hand-off."""

    CALLER_REQUEST = "caller_request"
    NEGATIVE_SENTIMENT = "negative_sentiment"
    DISPUTE = "dispute"
    FRAUD = "fraud"
    HARDSHIP = "hardship"
    BEREAVEMENT = "bereavement"
    COMPLAINT = "complaint"
    LEGAL_THREAT = "legal_threat"
    REPEATED_MISUNDERSTANDING = "repeated_misunderstanding"
    IDENTIFICATION_FAILED = "identification_failed"
    AUTHENTICATION_FAILED = "authentication_failed"
    REPEATED_DECLINES = "repeated_declines"
    CAPTURE_FAILED = "capture_failed"
    PAYMENT_UNCONFIRMED = "payment_unconfirmed"
    TECHNICAL_ISSUE = "technical_issue"
    NO_ARRANGEMENT = "no_arrangement"
    OTHER = "other"


class UnsafeSummary(ValueError):
    """A summary that still holds something card-like; it is never queued."""


@dataclass(frozen=True, slots=True)
class HandoffRequest:
    """What a human agent receives before taking the call."""

    call_id: str
    reason: TransferReason
    queue: str
    account: str
    verified: bool
    summary: str
    created_at: datetime


def summarise(state: CallState, events: list[CallEvent]) -> str:
    """A short, redacted account of the call for the human agent."""
    parts = [
        f"Account {state.account_number or 'not identified'}",
        f"verified by {state.auth_method}" if state.verified else f"not verified ({state.auth})",
        f"step {state.step.value}",
    ]
    if state.amount_minor is not None and state.currency:
        parts.append(f"amount agreed {Money(state.amount_minor, state.currency).format('en')}")
    if state.card is not None:
        parts.append(f"card {state.card.brand} ending {state.card.last4}")
    parts.extend(f"declined: {d.reason} ({d.brand} ending {d.last4})" for d in state.declines)
    if state.payment_reference:
        parts.append(f"paid, processor reference {state.payment_reference}")
    elif state.charge_state.value == "pending":
        parts.append("a charge is pending with an unknown outcome: do not charge again")
    said = [e.data.get("text", "") for e in events if e.kind == "caller_said"]
    if said:
        quoted = " | ".join(str(line) for line in said[-_LAST_CALLER_LINES:])
        parts.append(f"caller last said: {redact_card_data(quoted).text}")
    return "; ".join(parts) + "."


class HandoffQueue:
    """Writes hand-off requests to a Redis stream per queue.

    Args:
        redis: an asyncio Redis client.
    """

    def __init__(self, redis: Redis) -> None:
        self._redis = redis

    async def enqueue(self, request: HandoffRequest, brief: HandoffBrief | None = None) -> str:
        """Queue ``request`` with its brief; returns the stream entry id.

        A summary holding a card-like digit run is refused outright; a brief that fails its own
        card-data guard is left out (the redacted summary still goes).
        """
        if contains_luhn_run(request.summary):
            raise UnsafeSummary("hand-off summary failed the card-data guard")
        fields = {
            "call_id": request.call_id,
            "reason": request.reason.value,
            "account": request.account,
            "verified": "yes" if request.verified else "no",
            "summary": request.summary,
            "created_at": request.created_at.isoformat(),
        }
        if brief is not None:
            try:
                fields[BRIEF_FIELD] = brief.to_json()
            except UnsafeBrief:
                logger.error("hand-off brief failed the card-data guard; queued without it")
        entry_id = await self._redis.xadd(
            STREAM.format(queue=request.queue), cast("dict[Any, Any]", fields)
        )
        return str(entry_id)

    async def book_callback(
        self, *, call_id: str, account: str, phone: str, reason: TransferReason
    ) -> None:
        """Record that a person must call the caller back (nobody was free to take the call)."""
        await self._redis.xadd(
            CALLBACKS_STREAM,
            {
                "call_id": call_id,
                "account": account,
                "phone": phone,
                "reason": reason.value,
                "requested_at": datetime.now(UTC).isoformat(),
            },
        )

    async def callbacks(self) -> list[dict[str, str]]:
        """Every booked call-back, oldest first."""
        entries = await self._redis.xrange(CALLBACKS_STREAM) or []
        return [{str(k): str(v) for k, v in (fields or {}).items()} for _, fields in entries]

    async def pending(self, queue: str) -> list[dict[str, str]]:
        """Every request in ``queue``, oldest first."""
        entries = await self._redis.xrange(STREAM.format(queue=queue)) or []
        return [{str(k): str(v) for k, v in (fields or {}).items()} for _, fields in entries]


def new_request(
    state: CallState, events: list[CallEvent], reason: TransferReason, queue: str
) -> HandoffRequest:
    """Build the hand-off request for a call that is leaving the bot."""
    return HandoffRequest(
        call_id=state.call_id,
        reason=reason,
        queue=queue,
        account=state.account_number or "",
        verified=state.verified,
        summary=summarise(state, events),
        created_at=datetime.now(UTC),
    )
