"""Call records: what every call leaves behind for KPIs, without card data, kept for a while.

A record is written when the call ends (:func:`record_call`, from ``agent.call_end``). It holds the
account, language, outcome, amounts, the card's brand and last four at most, the authentication
method, the transfer reason, when each funnel stage was reached, durations, the survey score if one
was given, and a keyed hash of the caller's number (to spot a repeat call, never to dial back).
Records live in Redis under a TTL; an index sorted by end time finds the recent ones.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from pydantic import BaseModel, Field, SecretStr
from redis.asyncio import Redis
from redis.exceptions import RedisError

from agent.events import CallEvent
from agent.workflow import CallState
from voicepay.metrics import FUNNEL_STAGES

if TYPE_CHECKING:
    from agent.call_context import CallContext

logger = logging.getLogger(__name__)

_KEY = "voicepay:callrecord:{call_id}"
_INDEX = "voicepay:callrecords"
_READ_BATCH = 500
# The workflow transition that marks each funnel stage (see agent.workflow.CallState).
_CAUSE_STAGES = {
    "account_identified": "identified",
    "amount_set": "amount_agreed",
    "card_captured": "captured",
    "charge_succeeded": "paid",
}


class CallRecord(BaseModel):
    """One ended call, as KPIs see it. Holds no card number, expiry or security code."""

    call_id: str
    started_at: datetime
    ended_at: datetime
    duration_s: float = Field(ge=0)
    language: str
    account: str | None = None
    caller: str | None = Field(None, description="Keyed hash of the caller's phone number.")
    outcome: str
    last_step: str = Field(description="The last workflow step before the call ended.")
    stages: list[str] = Field(default_factory=list, description="Funnel stages reached, in order.")
    stage_at_s: dict[str, float] = Field(
        default_factory=dict, description="Seconds into the call each stage was reached."
    )
    contained: bool = Field(description="Whether the call never went to a person.")
    auth_method: str | None = None
    transfer_reason: str | None = None
    amount_minor: int | None = None
    currency: str | None = None
    amount_kind: str | None = None
    card_brand: str | None = None
    card_last4: str | None = Field(None, pattern=r"^\d{4}$")
    declines: list[str] = Field(default_factory=list, description="Decline codes, in order.")
    capture_errors: int = 0
    llm_fallback: bool = False
    survey_score: int | None = Field(None, ge=1, le=5)

    @property
    def paid(self) -> bool:
        """Whether the call's payment succeeded."""
        return "paid" in self.stages


def caller_hash(phone: str, pepper: SecretStr) -> str:
    """A keyed, one-way tag of a phone number: equal for the same caller, useless to dial."""
    digest = hmac.new(pepper.get_secret_value().encode(), phone.encode(), hashlib.sha256).digest()
    # Base32 keeps long digit runs (which card-data scanners flag) out of the tag.
    return base64.b32encode(digest[:10]).decode().lower()


def _stage_times(state: CallState, started_at: datetime) -> dict[str, float]:
    reached: dict[str, float] = {}
    for transition in state.transitions:
        stage = _CAUSE_STAGES.get(transition.cause)
        if transition.cause.startswith("verified_by_"):
            stage = "verified"
        if stage is not None and stage not in reached:
            reached[stage] = round(max(0.0, (transition.at - started_at).total_seconds()), 3)
    return reached


def _last_step(state: CallState) -> str:
    if state.transitions and state.step.value == "end":
        return state.transitions[-1].source.value
    return state.step.value


def build_record(
    state: CallState,
    history: Sequence[CallEvent],
    *,
    ended_at: datetime,
    duration_s: float,
) -> CallRecord:
    """The record of a call from its final workflow state and its event history."""
    started_at = ended_at - timedelta(seconds=duration_s)
    stage_at = _stage_times(state, started_at)
    card = state.card
    captured = [e.data for e in history if e.kind == "capture_result" and e.data.get("last4")]
    brand = card.brand if card else (captured[-1].get("brand") if captured else None)
    last4 = card.last4 if card else (captured[-1].get("last4") if captured else None)
    callers = [e.data.get("phone_hash") for e in history if e.kind == "caller"]
    scores = [e.data.get("score") for e in history if e.kind == "survey"]
    score = scores[-1] if scores and isinstance(scores[-1], int) else None
    handed_off = state.transfer_reason is not None or any(e.kind == "handoff" for e in history)
    handoff_reasons = [e.data.get("reason") for e in history if e.kind == "handoff"]
    return CallRecord(
        call_id=state.call_id,
        started_at=started_at,
        ended_at=ended_at,
        duration_s=round(duration_s, 3),
        language=state.language,
        account=state.account_number,
        caller=str(callers[-1]) if callers and callers[-1] else None,
        outcome=state.outcome or "unknown",
        last_step=_last_step(state),
        stages=[stage for stage in FUNNEL_STAGES if stage in stage_at],
        stage_at_s=stage_at,
        contained=not handed_off,
        auth_method=state.auth_method,
        transfer_reason=state.transfer_reason
        or (str(handoff_reasons[-1]) if handoff_reasons else None),
        amount_minor=state.amount_minor,
        currency=state.currency,
        amount_kind=state.amount_kind.value if state.amount_kind else None,
        card_brand=str(brand) if brand else None,
        card_last4=str(last4) if last4 else None,
        declines=[decline.reason for decline in state.declines],
        capture_errors=sum(
            1 for e in history if e.kind == "capture_progress" and e.data.get("error")
        ),
        llm_fallback=any(
            e.kind == "llm_fallback" and e.data.get("available") is False for e in history
        ),
        survey_score=score if score is not None and 1 <= score <= 5 else None,
    )


class CallRecordStore:
    """Call records in Redis, each under a TTL, with an index by end time.

    Args:
        redis: an asyncio Redis client with decoded replies.
        ttl_s: how long a record is kept.
    """

    def __init__(self, redis: Redis, *, ttl_s: int) -> None:
        self._redis = redis
        self._ttl_s = ttl_s

    @staticmethod
    def key(call_id: str) -> str:
        """The Redis key of a call's record."""
        return _KEY.format(call_id=call_id)

    async def save(self, record: CallRecord) -> None:
        """Store ``record`` (replacing any earlier one of the same call) and prune the index."""
        ended = record.ended_at.timestamp()
        expired_before = datetime.now(UTC).timestamp() - self._ttl_s
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.set(self.key(record.call_id), record.model_dump_json(), ex=self._ttl_s)
            pipe.zadd(_INDEX, {record.call_id: ended})
            pipe.zremrangebyscore(_INDEX, "-inf", expired_before)
            await pipe.execute()

    async def since(self, start: datetime | None = None) -> list[CallRecord]:
        """Records of calls ended at or after ``start`` (by default all kept ones), oldest first."""
        low: float | str = start.timestamp() if start is not None else "-inf"
        ids = [str(call_id) for call_id in await self._redis.zrangebyscore(_INDEX, low, "+inf")]
        records: list[CallRecord] = []
        for first in range(0, len(ids), _READ_BATCH):
            batch = ids[first : first + _READ_BATCH]
            values = await self._redis.mget([self.key(call_id) for call_id in batch])
            records += [CallRecord.model_validate_json(value) for value in values if value]
        return records


async def record_call(call: CallContext, final: CallState) -> CallRecord:
    """Build the ended call's record, publish it as a ``call_record`` event and store it.

    A record that cannot be stored is logged and dropped: reporting never breaks a call's end.
    """
    closing = call.events.emit("call_closed", outcome=final.outcome or "unknown")
    record = build_record(
        final, call.events.history, ended_at=datetime.now(UTC), duration_s=closing.at_ms / 1000
    )
    call.events.emit("call_record", **record.model_dump(mode="json"))
    store = call.services.records
    if store is not None:
        try:
            await store.save(record)
        except (RedisError, OSError):
            logger.warning("call record not stored", exc_info=True)
    return record
