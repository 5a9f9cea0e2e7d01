from __future__ import annotations

import asyncio
import calendar
from contextlib import AsyncExitStack
from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError
from redis.asyncio import Redis

from voicepay.plans import (
    Instalment,
    InstalmentStatus,
    PaymentPlan,
    PlanStore,
    new_plan,
    split_instalments,
)

PAN = "4242424242424242"
FIRST_DUE = date(2026, 12, 1)
TOKEN = "pm_sandbox_ok_visa_4242_0123456789abcdef"


def plan(
    plan_id: str = "plan_1",
    *,
    account: str = "12345678",
    total: int = 30_000,
    count: int = 3,
    first_due: date = FIRST_DUE,
    created_at: datetime | None = None,
) -> PaymentPlan:
    return new_plan(
        plan_id=plan_id,
        account_number=account,
        currency="EUR",
        customer="cus_sandbox_0123456789abcdef",
        token=TOKEN,
        brand="visa",
        last4="4242",
        call_id="call_1",
        created_at=created_at or datetime(2026, 12, 1, 10, tzinfo=UTC),
        schedule=split_instalments(total, count, first_due),
        first_reference="pi_first",
    )


@given(
    total=st.integers(min_value=1, max_value=10**9),
    count=st.integers(min_value=1, max_value=60),
    first_due=st.dates(min_value=date(2000, 1, 1), max_value=date(2090, 12, 31)),
)
def test_split_sums_spreads_evenly_and_falls_monthly(
    total: int, count: int, first_due: date
) -> None:
    if total < count:
        with pytest.raises(ValueError):
            split_instalments(total, count, first_due)
        return
    schedule = split_instalments(total, count, first_due)
    amounts = [amount for _, amount in schedule]
    assert len(schedule) == count
    assert sum(amounts) == total
    assert max(amounts) - min(amounts) <= 1
    assert amounts == sorted(amounts, reverse=True)  # the earlier ones carry the remainder
    for index, (due, _) in enumerate(schedule):
        months = first_due.month - 1 + index
        year, month = first_due.year + months // 12, months % 12 + 1
        assert (due.year, due.month) == (year, month)
        assert due.day == min(first_due.day, calendar.monthrange(year, month)[1])


@given(
    total=st.integers(min_value=-5, max_value=100),
    count=st.integers(min_value=-5, max_value=0),
)
def test_split_refuses_no_instalments(total: int, count: int) -> None:
    with pytest.raises(ValueError):
        split_instalments(total, count, FIRST_DUE)


def test_split_clamps_to_the_end_of_shorter_months() -> None:
    schedule = split_instalments(1000, 4, date(2027, 1, 31))
    assert [due for due, _ in schedule] == [
        date(2027, 1, 31),
        date(2027, 2, 28),
        date(2027, 3, 31),
        date(2027, 4, 30),
    ]
    assert [amount for _, amount in schedule] == [250, 250, 250, 250]
    assert split_instalments(1001, 3, FIRST_DUE)[0][1] == 334


def test_a_new_plan_has_its_first_instalment_paid() -> None:
    created = plan()
    assert created.instalment(1).status is InstalmentStatus.PAID
    assert created.instalment(1).reference == "pi_first"
    assert created.remaining_minor == 20_000
    assert created.next_due == date(2027, 1, 1)
    assert not created.complete


def test_plan_properties_follow_its_instalments() -> None:
    created = plan()
    declined = created.instalment(2).model_copy(
        update={"status": InstalmentStatus.DECLINED, "next_attempt": date(2027, 1, 4)}
    )
    assert created.with_instalment(declined).next_due == date(2027, 1, 4)
    given_up = created.instalment(2).model_copy(update={"status": InstalmentStatus.FAILED})
    assert created.with_instalment(given_up).next_due == date(2027, 2, 1)
    assert created.with_instalment(given_up).remaining_minor == 20_000
    done = created
    for number in (2, 3):
        paid = done.instalment(number).model_copy(
            update={"status": InstalmentStatus.PAID, "reference": f"pi_{number}"}
        )
        done = done.with_instalment(paid)
    assert done.complete and done.remaining_minor == 0 and done.next_due is None


def test_plan_refuses_an_unpaid_first_instalment_or_gaps() -> None:
    fields = plan().model_dump()
    fields["instalments"][0].update(status="scheduled", reference=None)
    with pytest.raises(ValidationError, match="first instalment"):
        PaymentPlan.model_validate(fields)
    fields = plan().model_dump()
    fields["instalments"][2]["number"] = 4
    with pytest.raises(ValidationError, match="numbered"):
        PaymentPlan.model_validate(fields)
    with pytest.raises(ValidationError, match="reference"):
        Instalment(number=1, due=FIRST_DUE, amount_minor=100, status=InstalmentStatus.PAID)


def test_plan_refuses_card_digits_without_repeating_them() -> None:
    fields = plan().model_dump()
    fields["token"] = PAN
    with pytest.raises(ValidationError) as refused:
        PaymentPlan.model_validate(fields)
    assert PAN not in str(refused.value)


async def test_store_creates_once_and_finds_by_account(redis: Redis) -> None:
    store = PlanStore(redis)
    first = plan("plan_a", created_at=datetime(2026, 12, 2, tzinfo=UTC))
    await store.create(first)
    await store.create(plan("plan_a", total=99_999))  # a replayed create changes nothing
    assert await store.get("plan_a") == first
    await store.create(plan("plan_b", created_at=datetime(2026, 12, 1, tzinfo=UTC)))
    await store.create(plan("plan_c", account="87654321"))
    assert [p.plan_id for p in await store.for_account("12345678")] == ["plan_b", "plan_a"]
    assert await store.for_account("11111111") == []
    assert await store.get("missing") is None


async def test_concurrent_creates_store_one_plan(redis: Redis) -> None:
    store = PlanStore(redis)
    await asyncio.gather(*(store.create(plan("plan_x", total=30_000 + n)) for n in range(5)))
    stored = await store.for_account("12345678")
    assert len(stored) == 1


async def test_due_index_follows_saved_plans(redis: Redis) -> None:
    store = PlanStore(redis)
    created = plan()
    await store.create(created)
    assert await store.due(date(2026, 12, 31)) == []
    assert await store.due(date(2027, 1, 1)) == ["plan_1"]
    retry = date(2027, 1, 4)
    declined = created.instalment(2).model_copy(
        update={"status": InstalmentStatus.DECLINED, "next_attempt": retry}
    )
    await store.save(created.with_instalment(declined))
    assert await store.due(retry - timedelta(days=1)) == []
    assert await store.due(retry) == ["plan_1"]
    done = created
    for number in (2, 3):
        paid = done.instalment(number).model_copy(
            update={"status": InstalmentStatus.PAID, "reference": f"pi_{number}"}
        )
        done = done.with_instalment(paid)
    await store.save(done)
    assert await store.due(date(2030, 1, 1)) == []


async def test_lock_is_held_by_one_at_a_time(redis: Redis) -> None:
    store = PlanStore(redis)
    async with store.lock("plan_1", ttl_ms=10_000) as first:
        async with store.lock("plan_1", ttl_ms=10_000) as second:
            assert first and not second
        async with store.lock("plan_2", ttl_ms=10_000) as other:
            assert other
    async with store.lock("plan_1", ttl_ms=10_000) as again:
        assert again


async def test_an_expired_lock_is_not_released_by_its_old_holder(redis: Redis) -> None:
    store = PlanStore(redis)
    async with AsyncExitStack() as second_holder:
        async with store.lock("plan_1", ttl_ms=50) as first:
            assert first
            await asyncio.sleep(0.1)
            assert await second_holder.enter_async_context(store.lock("plan_1", ttl_ms=10_000))
        # The first holder has left; the second one's lock must still stand.
        async with store.lock("plan_1", ttl_ms=10_000) as third:
            assert not third
