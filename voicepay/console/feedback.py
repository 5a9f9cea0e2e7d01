"""Agents' ratings of the bot's hand-offs, kept in ``voicepay:handoff-feedback`` for the evals.

Each transfer gets one rating, from the agent who took it: was handing off the right call, how
useful was the brief (1-5), what was missing, and a comment. :func:`export_jsonl` writes them as
JSON lines, the format the eval suite reads.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field
from redis.asyncio import Redis

from voicepay.console._redis import stream_entries
from voicepay.console.claims import ActionRefused, TransferActions, safe_text
from voicepay.console.transfers import Transfer
from voicepay.redis_client import make_key

FEEDBACK_STREAM = make_key("handoff-feedback")

MISSING_ITEMS: dict[str, str] = {
    "goal": "What the caller wanted",
    "verification": "How the caller was verified",
    "payment": "Where the payment stood",
    "transcript": "What was said",
    "mood": "How the caller felt",
    "next_step": "What to do next",
}
"""What a brief can lack, as offered on the feedback form: code -> label."""


class RightCall(StrEnum):
    """Whether handing the call to a person was right."""

    YES = "yes"
    NO = "no"
    UNSURE = "unsure"


class HandoffFeedback(BaseModel):
    """One agent's rating of one hand-off."""

    model_config = ConfigDict(frozen=True)

    call_id: str
    queue: str
    transfer: str
    reason: str
    agent: str
    right_call: RightCall
    score: int = Field(ge=1, le=5)
    missing: list[str]
    comment: str
    brief: str = Field("", description="The brief as the agent saw it (JSON), if there was one.")
    at: datetime


class FeedbackStore:
    """Stores and reads hand-off feedback.

    Args:
        redis: an asyncio Redis client with decoded replies.
        actions: used to reserve the single feedback slot of a transfer.
    """

    def __init__(self, redis: Redis, actions: TransferActions) -> None:
        self._redis = redis
        self._actions = actions

    async def add(
        self,
        transfer: Transfer,
        username: str,
        *,
        right_call: RightCall,
        score: int,
        missing: Iterable[str],
        comment: str,
    ) -> HandoffFeedback:
        """Store the rating of ``transfer`` by the agent who accepted it.

        Raises:
            ActionRefused: ``username`` did not accept it, it was already rated, the score or a
                missing item is invalid, or the comment holds card data.
        """
        if transfer.accepted_by != username:
            raise ActionRefused("Only the agent who accepted this transfer can rate it.")
        if not 1 <= score <= 5:
            raise ActionRefused("The score is from 1 to 5.")
        items = sorted(set(missing))
        if any(item not in MISSING_ITEMS for item in items):
            raise ActionRefused("Unknown item in 'what was missing'.")
        comment = safe_text(comment, what="comment")
        if not await self._actions.take_feedback_slot(transfer, username):
            raise ActionRefused("This hand-off was already rated.")
        feedback = HandoffFeedback(
            call_id=transfer.call_id,
            queue=transfer.queue,
            transfer=transfer.ref,
            reason=transfer.reason,
            agent=username,
            right_call=right_call,
            score=score,
            missing=items,
            comment=comment,
            brief=transfer.brief.model_dump_json() if transfer.brief is not None else "",
            at=datetime.now(UTC),
        )
        fields: dict[str | bytes, str | bytes] = {
            key: str(value) for key, value in feedback.model_dump(mode="json").items()
        }
        fields["missing"] = ",".join(items)
        await self._redis.xadd(FEEDBACK_STREAM, fields)  # type: ignore[arg-type]
        return feedback

    async def all(self) -> list[HandoffFeedback]:
        """Every rating, oldest first."""
        rows = await self._redis.xrange(FEEDBACK_STREAM)
        return [_parse(fields) for _, fields in stream_entries(rows)]


def _parse(fields: dict[str, str]) -> HandoffFeedback:
    data: dict[str, object] = dict(fields)
    data["missing"] = [item for item in fields.get("missing", "").split(",") if item]
    return HandoffFeedback.model_validate(data)


def export_jsonl(feedback: Iterable[HandoffFeedback], path: Path) -> int:
    """Write ``feedback`` to ``path`` as JSON lines (the brief as an object); returns the count."""
    count = 0
    with path.open("w", encoding="utf-8") as out:
        for item in feedback:
            record = item.model_dump(mode="json")
            record["brief"] = json.loads(item.brief) if item.brief else None
            out.write(json.dumps(record, ensure_ascii=False) + "\n")
            count += 1
    return count
