"""The console's audit log: who did or viewed what, when, in the Redis stream ``voicepay:audit``.

Entries are never trimmed by the console; retention is an operations decision. Every text is
passed through :func:`mask_card_numbers` so a typed card number cannot reach the log.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from redis.asyncio import Redis

from payment_tools.redaction import mask_card_numbers
from voicepay.console._redis import stream_entries
from voicepay.redis_client import make_key

AUDIT_STREAM = make_key("audit")
ANONYMOUS = "-"


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """One audited view or action.

    Attributes:
        at: when it happened (UTC).
        actor: the username, or ``-`` before log-in.
        role: the actor's role, or ``-``.
        action: what, e.g. ``transfer.accept`` or ``view.queue``.
        target: what it was done to, e.g. ``payments/abc123``; may be empty.
        outcome: ``ok``, ``denied``, ``conflict``, ``invalid``...
        ip: the client address.
    """

    at: datetime
    actor: str
    role: str
    action: str
    target: str
    outcome: str
    ip: str


class AuditLog:
    """Appends to and reads the audit stream.

    Args:
        redis: an asyncio Redis client with decoded replies.
    """

    def __init__(self, redis: Redis) -> None:
        self._redis = redis

    async def record(
        self,
        *,
        actor: str,
        role: str,
        action: str,
        target: str = "",
        outcome: str = "ok",
        ip: str = "",
    ) -> AuditEntry:
        """Append one entry and return it."""
        entry = AuditEntry(
            at=datetime.now(UTC),
            actor=mask_card_numbers(actor),
            role=role,
            action=action,
            target=mask_card_numbers(target),
            outcome=outcome,
            ip=ip,
        )
        await self._redis.xadd(
            AUDIT_STREAM,
            {
                "at": entry.at.isoformat(),
                "actor": entry.actor,
                "role": entry.role,
                "action": entry.action,
                "target": entry.target,
                "outcome": entry.outcome,
                "ip": entry.ip,
            },
        )
        return entry

    async def recent(self, count: int = 200) -> list[AuditEntry]:
        """The latest ``count`` entries, newest first."""
        rows = await self._redis.xrevrange(AUDIT_STREAM, count=count)
        return [_entry(fields) for _, fields in stream_entries(rows)]


def _entry(fields: dict[str, str]) -> AuditEntry:
    return AuditEntry(
        at=datetime.fromisoformat(fields["at"]),
        actor=fields.get("actor", ANONYMOUS),
        role=fields.get("role", ANONYMOUS),
        action=fields.get("action", ""),
        target=fields.get("target", ""),
        outcome=fields.get("outcome", ""),
        ip=fields.get("ip", ""),
    )
