"""Payment plans: a balance split into monthly instalments charged to a card kept on file.

The first instalment is charged on the call by the agent and recorded as paid when the plan is
created; :mod:`voicepay.scheduler` charges the others when they fall due. Plans live in Redis as
JSON, with an index per account and one sorted set of the date each plan next needs a charge.
A plan holds the card's processor token and masked face only, never its digits.
"""

from __future__ import annotations

import calendar
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import date, datetime
from enum import StrEnum
from typing import Annotated, Self

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator
from redis.asyncio import Redis
from redis.asyncio.client import Pipeline

from payment_tools.ids import random_hex
from voicepay.accounts import AccountNumber, Currency
from voicepay.redis_client import make_key, store_once
from voicepay.saved_cards import Brand, Last4, ProcessorId

PlanId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{1,64}$")]
_DUE_INDEX = make_key("plans", "due")
# Deletes the lock only if it still holds our token: an expired lock may belong to someone else.
_RELEASE = """
if redis.call("get", KEYS[1]) == ARGV[1] then return redis.call("del", KEYS[1]) end
return 0
"""


def _add_months(day: date, months: int, day_of_month: int) -> date:
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(day_of_month, calendar.monthrange(year, month)[1]))


def split_instalments(total_minor: int, count: int, first_due: date) -> list[tuple[date, int]]:
    """Split ``total_minor`` into ``count`` monthly instalments starting on ``first_due``.

    Each instalment falls on the day of month of ``first_due`` (the month's last day when it is
    shorter). Amounts differ by at most one minor unit and sum to ``total_minor``; the earlier
    instalments carry the remainder.

    Raises:
        ValueError: ``count`` is below 1 or ``total_minor`` below ``count``.
    """
    if count < 1:
        raise ValueError("count must be at least 1")
    if total_minor < count:
        raise ValueError("total_minor must be at least one minor unit per instalment")
    base, remainder = divmod(total_minor, count)
    return [
        (_add_months(first_due, index, first_due.day), base + (1 if index < remainder else 0))
        for index in range(count)
    ]


class InstalmentStatus(StrEnum):
    """Where one instalment stands.

    - ``scheduled``: not tried yet.
    - ``paid``: charged; ``reference`` is the processor's payment id.
    - ``pending``: a charge was sent and its outcome is unknown; it is retried with the same
      idempotency key, so it cannot be charged twice.
    - ``declined``: the card was declined; tried again on ``next_attempt``.
    - ``failed``: given up; a person must follow up.
    """

    SCHEDULED = "scheduled"
    PAID = "paid"
    PENDING = "pending"
    DECLINED = "declined"
    FAILED = "failed"


_OPEN = frozenset({InstalmentStatus.SCHEDULED, InstalmentStatus.PENDING, InstalmentStatus.DECLINED})


class Instalment(BaseModel):
    """One payment of a plan, in minor units of the plan's currency."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    number: int = Field(ge=1)
    due: date
    amount_minor: int = Field(gt=0)
    status: InstalmentStatus = InstalmentStatus.SCHEDULED
    attempts: int = Field(0, ge=0, description="Charges with a final answer (paid or declined).")
    reference: str | None = None
    last_error: str | None = Field(None, description="Decline or error code of the last try.")
    next_attempt: date | None = Field(None, description="When a declined try is made again.")
    pending_since: datetime | None = Field(
        None, description="When the attempt whose outcome is unknown was first sent."
    )

    @model_validator(mode="after")
    def _paid_has_reference(self) -> Self:
        if self.status is InstalmentStatus.PAID and not self.reference:
            raise ValueError("a paid instalment needs its payment reference")
        return self

    @property
    def open(self) -> bool:
        """Whether the scheduler still has to charge it."""
        return self.status in _OPEN

    @property
    def acts_on(self) -> date | None:
        """The day the scheduler next charges it, ``None`` once paid or given up."""
        if not self.open:
            return None
        return self.next_attempt or self.due


class PaymentPlan(BaseModel):
    """A balance paid in instalments with a card kept on file (token and masked face only)."""

    # Rejected values stay out of error messages: card digits could be put in the wrong field.
    model_config = ConfigDict(frozen=True, extra="forbid", hide_input_in_errors=True)

    plan_id: PlanId
    account_number: AccountNumber
    currency: Currency
    customer: ProcessorId
    token: ProcessorId
    brand: Brand
    last4: Last4
    call_id: str
    created_at: datetime
    instalments: list[Instalment] = Field(min_length=1)

    @model_validator(mode="after")
    def _numbered_and_started(self) -> Self:
        numbers = [instalment.number for instalment in self.instalments]
        if numbers != list(range(1, len(numbers) + 1)):
            raise ValueError("instalments must be numbered 1, 2, 3, ... in order")
        if self.instalments[0].status is not InstalmentStatus.PAID:
            raise ValueError("the first instalment is paid on the call that creates the plan")
        return self

    @property
    def remaining_minor(self) -> int:
        """What is still unpaid, instalments given up included."""
        return sum(
            i.amount_minor for i in self.instalments if i.status is not InstalmentStatus.PAID
        )

    @property
    def next_due(self) -> date | None:
        """The next day an instalment is charged (or retried), ``None`` when nothing is left."""
        days = [day for day in (i.acts_on for i in self.instalments) if day is not None]
        return min(days, default=None)

    @property
    def complete(self) -> bool:
        """Whether every instalment is paid."""
        return all(i.status is InstalmentStatus.PAID for i in self.instalments)

    def instalment(self, number: int) -> Instalment:
        """The instalment numbered ``number`` (from 1)."""
        return self.instalments[number - 1]

    def with_instalment(self, instalment: Instalment) -> PaymentPlan:
        """A copy of the plan with ``instalment`` replacing the one of the same number."""
        instalments = list(self.instalments)
        instalments[instalment.number - 1] = instalment
        return self.model_copy(update={"instalments": instalments})


def new_plan(
    *,
    plan_id: str,
    account_number: str,
    currency: str,
    customer: str,
    token: str,
    brand: str,
    last4: str,
    call_id: str,
    created_at: datetime,
    schedule: list[tuple[date, int]],
    first_reference: str,
) -> PaymentPlan:
    """A plan from a :func:`split_instalments` schedule whose first instalment was just paid.

    Raises:
        ValueError: a field is invalid (the message never repeats the rejected value).
    """
    instalments = [
        Instalment(number=number, due=due, amount_minor=amount)
        for number, (due, amount) in enumerate(schedule, start=1)
    ]
    if instalments:
        instalments[0] = instalments[0].model_copy(
            update={"status": InstalmentStatus.PAID, "attempts": 1, "reference": first_reference}
        )
    return PaymentPlan(
        plan_id=plan_id,
        account_number=account_number,
        currency=currency,
        customer=customer,
        token=token,
        brand=brand,
        last4=last4,
        call_id=call_id,
        created_at=created_at,
        instalments=instalments,
    )


class PlanStore:
    """Payment plans in Redis, indexed by account and by the day each next needs a charge.

    Args:
        redis: an asyncio Redis client with decoded replies.
    """

    def __init__(self, redis: Redis) -> None:
        self._redis = redis

    @staticmethod
    def key(plan_id: str) -> str:
        """The Redis key of a plan."""
        return make_key("plan", plan_id)

    @staticmethod
    def account_key(account_number: str) -> str:
        """The Redis set of an account's plan ids."""
        return make_key("plans", "account", account_number)

    async def create(self, plan: PaymentPlan) -> None:
        """Store a new plan; a plan whose id is already stored is left as it is."""
        await store_once(self._redis, self.key(plan.plan_id), lambda pipe: self._write(pipe, plan))

    async def save(self, plan: PaymentPlan) -> None:
        """Replace a stored plan and move it in the due index."""
        async with self._redis.pipeline(transaction=True) as pipe:
            self._write(pipe, plan)
            await pipe.execute()

    async def get(self, plan_id: str) -> PaymentPlan | None:
        """The plan, or ``None`` when the id is unknown."""
        raw = await self._redis.get(self.key(plan_id))
        return None if raw is None else PaymentPlan.model_validate_json(raw)

    async def for_account(self, account_number: str) -> list[PaymentPlan]:
        """The account's plans, oldest first."""
        ids = sorted(str(i) for i in await self._redis.smembers(self.account_key(account_number)))
        if not ids:
            return []
        values = await self._redis.mget([self.key(plan_id) for plan_id in ids])
        plans = [PaymentPlan.model_validate_json(value) for value in values if value]
        return sorted(plans, key=lambda plan: plan.created_at)

    async def due(self, today: date) -> list[str]:
        """Ids of the plans with an instalment due, or a retry due, on or before ``today``."""
        ids = await self._redis.zrangebyscore(_DUE_INDEX, "-inf", today.toordinal())
        return [str(plan_id) for plan_id in ids]

    @asynccontextmanager
    async def lock(self, plan_id: str, *, ttl_ms: int) -> AsyncIterator[bool]:
        """Hold the plan's short lock for the body; yields ``False`` if another holder has it.

        The lock expires after ``ttl_ms`` so a crashed holder cannot block the plan for long.
        """
        key, token = make_key("plan", plan_id, "lock"), random_hex(16)
        held = bool(await self._redis.set(key, token, nx=True, px=ttl_ms))
        try:
            yield held
        finally:
            if held:
                await self._redis.eval(_RELEASE, 1, key, token)

    def _write(self, pipe: Pipeline, plan: PaymentPlan) -> None:
        pipe.set(self.key(plan.plan_id), plan.model_dump_json())
        pipe.sadd(self.account_key(plan.account_number), plan.plan_id)
        next_due = plan.next_due
        if next_due is None:
            pipe.zrem(_DUE_INDEX, plan.plan_id)
        else:
            pipe.zadd(_DUE_INDEX, {plan.plan_id: next_due.toordinal()})
