"""Promises to pay: a caller's word that an amount will be paid by a date, and whether it was kept.

A promise records the account's balance when it was made. Once its date has passed, it is kept
if the balance has since dropped by at least the promised amount (payments are the only thing that
lowers a balance), else broken; :func:`settle_promises` (run by the scheduler) settles them.
"""

from __future__ import annotations

import logging
from datetime import date, datetime
from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints
from redis.asyncio import Redis
from redis.asyncio.client import Pipeline
from redis.exceptions import WatchError

from voicepay.accounts import AccountNumber, AccountRepository, Currency
from voicepay.redis_client import make_key, store_once

logger = logging.getLogger(__name__)

PromiseId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{1,64}$")]
_OPEN_INDEX = make_key("promises", "open")
_MAX_WATCH_RETRIES = 5


def check_promise_date(day: date, today: date, max_days: int) -> str | None:
    """Why ``day`` cannot be a promise's date, or ``None`` when it can.

    Returns:
        ``"in_past"`` before ``today``, ``"too_far"`` more than ``max_days`` after it, else
        ``None`` (``today`` itself is accepted).
    """
    if day < today:
        return "in_past"
    if (day - today).days > max_days:
        return "too_far"
    return None


class PromiseStatus(StrEnum):
    """Whether a promise is awaited, was kept or was broken."""

    OPEN = "open"
    KEPT = "kept"
    BROKEN = "broken"


class PromiseToPay(BaseModel):
    """The caller's promise to pay ``amount_minor`` by ``due`` (inclusive)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    promise_id: PromiseId
    account_number: AccountNumber
    amount_minor: int = Field(gt=0)
    currency: Currency
    due: date
    call_id: str
    created_at: datetime
    balance_at_promise_minor: int = Field(
        ge=0,
        description="The account balance when the promise was made; payments are measured"
        " against it.",
    )
    status: PromiseStatus = PromiseStatus.OPEN

    def settled(self, balance_minor: int) -> PromiseStatus:
        """Kept when the balance dropped by at least the promised amount since, else broken."""
        paid_since = self.balance_at_promise_minor - balance_minor
        return PromiseStatus.KEPT if paid_since >= self.amount_minor else PromiseStatus.BROKEN


class PromiseStore:
    """Promises in Redis, indexed by account and, while open, by date.

    Args:
        redis: an asyncio Redis client with decoded replies.
    """

    def __init__(self, redis: Redis) -> None:
        self._redis = redis

    @staticmethod
    def key(promise_id: str) -> str:
        """The Redis key of a promise."""
        return make_key("promise", promise_id)

    @staticmethod
    def account_key(account_number: str) -> str:
        """The Redis set of an account's promise ids."""
        return make_key("promises", "account", account_number)

    async def add(self, promise: PromiseToPay) -> None:
        """Store a new promise; a promise whose id is already stored is left as it is."""

        def write(pipe: Pipeline) -> None:
            pipe.set(self.key(promise.promise_id), promise.model_dump_json())
            pipe.sadd(self.account_key(promise.account_number), promise.promise_id)
            if promise.status is PromiseStatus.OPEN:
                pipe.zadd(_OPEN_INDEX, {promise.promise_id: promise.due.toordinal()})

        await store_once(self._redis, self.key(promise.promise_id), write)

    async def get(self, promise_id: str) -> PromiseToPay | None:
        """The promise, or ``None`` when the id is unknown."""
        raw = await self._redis.get(self.key(promise_id))
        return None if raw is None else PromiseToPay.model_validate_json(raw)

    async def for_account(self, account_number: str) -> list[PromiseToPay]:
        """The account's promises, oldest first."""
        ids = sorted(str(i) for i in await self._redis.smembers(self.account_key(account_number)))
        return sorted(await self._load(ids), key=lambda promise: promise.created_at)

    async def due(self, today: date) -> list[PromiseToPay]:
        """Open promises whose date has passed (before ``today``), earliest date first."""
        ids = await self._redis.zrangebyscore(_OPEN_INDEX, "-inf", today.toordinal() - 1)
        promises = await self._load([str(promise_id) for promise_id in ids])
        return [promise for promise in promises if promise.status is PromiseStatus.OPEN]

    async def settle(self, promise_id: str, status: PromiseStatus) -> PromiseToPay | None:
        """Mark an open promise kept or broken; returns it, or ``None`` if it was not open.

        Settling twice (two schedulers at once) changes it once: the second call returns ``None``.

        Raises:
            ValueError: ``status`` is ``open``.
        """
        if status is PromiseStatus.OPEN:
            raise ValueError("a promise is settled as kept or broken")
        key = self.key(promise_id)
        for _ in range(_MAX_WATCH_RETRIES):
            async with self._redis.pipeline(transaction=True) as pipe:
                try:
                    await pipe.watch(key)
                    raw = await pipe.get(key)
                    if raw is None:
                        return None
                    promise = PromiseToPay.model_validate_json(raw)
                    if promise.status is not PromiseStatus.OPEN:
                        return None
                    settled = promise.model_copy(update={"status": status})
                    pipe.multi()  # type: ignore[no-untyped-call]  # redis-py leaves it unannotated
                    pipe.set(key, settled.model_dump_json())
                    pipe.zrem(_OPEN_INDEX, promise_id)
                    await pipe.execute()
                    return settled
                except WatchError:
                    continue
        raise RuntimeError(f"promise {promise_id} kept changing while being settled")

    async def _load(self, ids: list[str]) -> list[PromiseToPay]:
        if not ids:
            return []
        values = await self._redis.mget([self.key(promise_id) for promise_id in ids])
        return [PromiseToPay.model_validate_json(value) for value in values if value]


async def settle_promises(
    *, today: date, promises: PromiseStore, accounts: AccountRepository
) -> list[PromiseToPay]:
    """Mark each open promise whose date has passed kept or broken; returns those settled now.

    A promise is kept when the account's balance has dropped by at least the promised amount
    since it was made. A promise whose account is gone is left open.
    """
    settled: list[PromiseToPay] = []
    for promise in await promises.due(today):
        account = await accounts.get(promise.account_number)
        if account is None:
            logger.warning("promise account not found", extra={"promise_id": promise.promise_id})
            continue
        done = await promises.settle(promise.promise_id, promise.settled(account.balance_minor))
        if done is not None:
            settled.append(done)
    return settled
