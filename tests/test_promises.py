from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import SecretStr
from redis.asyncio import Redis

from voicepay.accounts import Account, AccountRepository, KnowledgeFactor, knowledge_digest
from voicepay.promises import (
    PromiseStatus,
    PromiseStore,
    PromiseToPay,
    check_promise_date,
    settle_promises,
)

PEPPER = SecretStr("test-pepper")
TODAY = date(2026, 12, 1)
NUMBER = "12345678"


def promise(
    promise_id: str = "promise_1",
    *,
    due: date = date(2026, 12, 10),
    amount: int = 5_000,
    balance: int = 20_000,
    account: str = NUMBER,
    created_at: datetime | None = None,
) -> PromiseToPay:
    return PromiseToPay(
        promise_id=promise_id,
        account_number=account,
        amount_minor=amount,
        currency="EUR",
        due=due,
        call_id="call_1",
        created_at=created_at or datetime(2026, 12, 1, 9, tzinfo=UTC),
        balance_at_promise_minor=balance,
    )


def account(balance: int = 20_000) -> Account:
    return Account(
        number=NUMBER,
        holder_name="Ada Lovelace",
        phone="+447700900001",
        balance_minor=balance,
        currency="EUR",
        due_date=date(2026, 12, 31),
        minimum_due_minor=0,
        language="en",
        knowledge_factor=KnowledgeFactor(
            kind="postcode", digest=knowledge_digest(PEPPER, NUMBER, "75011")
        ),
    )


@given(
    today=st.dates(min_value=date(2000, 1, 1), max_value=date(2090, 1, 1)),
    offset=st.integers(min_value=-400, max_value=400),
    max_days=st.integers(min_value=1, max_value=120),
)
def test_promise_date_is_today_up_to_max_days_ahead(
    today: date, offset: int, max_days: int
) -> None:
    day = today + timedelta(days=offset)
    error = check_promise_date(day, today, max_days)
    if offset < 0:
        assert error == "in_past"
    elif offset > max_days:
        assert error == "too_far"
    else:
        assert error is None


@given(
    amount=st.integers(min_value=1, max_value=10**7),
    before=st.integers(min_value=0, max_value=10**7),
    paid=st.integers(min_value=0, max_value=10**7),
)
def test_a_promise_is_kept_when_payments_reach_the_amount(
    amount: int, before: int, paid: int
) -> None:
    made = promise(amount=amount, balance=before)
    expected = PromiseStatus.KEPT if paid >= amount else PromiseStatus.BROKEN
    assert made.settled(before - paid) is expected


async def test_store_adds_once_and_lists_by_account(redis: Redis) -> None:
    store = PromiseStore(redis)
    first = promise("p_a", created_at=datetime(2026, 12, 2, tzinfo=UTC))
    await store.add(first)
    await store.add(promise("p_a", amount=1))  # a replayed add changes nothing
    await store.add(promise("p_b", created_at=datetime(2026, 12, 1, tzinfo=UTC)))
    await store.add(promise("p_c", account="87654321"))
    assert [p.promise_id for p in await store.for_account(NUMBER)] == ["p_b", "p_a"]
    assert (await store.for_account(NUMBER))[1] == first
    assert await store.for_account("11111111") == []


async def test_due_lists_open_promises_whose_date_has_passed(redis: Redis) -> None:
    store = PromiseStore(redis)
    await store.add(promise("p_early", due=date(2026, 12, 5)))
    await store.add(promise("p_late", due=date(2026, 12, 10)))
    assert await store.due(date(2026, 12, 5)) == []  # the due day itself is still in time
    assert [p.promise_id for p in await store.due(date(2026, 12, 6))] == ["p_early"]
    assert [p.promise_id for p in await store.due(date(2027, 1, 1))] == ["p_early", "p_late"]
    await store.settle("p_early", PromiseStatus.BROKEN)
    assert [p.promise_id for p in await store.due(date(2027, 1, 1))] == ["p_late"]
    with pytest.raises(ValueError):
        await store.settle("p_late", PromiseStatus.OPEN)


async def test_settle_promises_marks_kept_and_broken(redis: Redis) -> None:
    accounts = AccountRepository(redis, PEPPER)
    await accounts.put(account(balance=20_000))
    store = PromiseStore(redis)
    await store.add(promise("p_kept", amount=5_000, due=date(2026, 12, 5)))
    await store.add(promise("p_broken", amount=8_000, due=date(2026, 12, 5)))
    await store.add(promise("p_later", amount=1_000, due=date(2026, 12, 20)))
    await accounts.apply_payment(NUMBER, 6_000, "EUR", "pi_paid_by_phone")

    settled = await settle_promises(today=date(2026, 12, 6), promises=store, accounts=accounts)

    assert {p.promise_id: p.status for p in settled} == {
        "p_kept": PromiseStatus.KEPT,
        "p_broken": PromiseStatus.BROKEN,
    }
    stored = {p.promise_id: p.status for p in await store.for_account(NUMBER)}
    assert stored["p_later"] is PromiseStatus.OPEN
    assert await settle_promises(today=date(2026, 12, 6), promises=store, accounts=accounts) == []


async def test_concurrent_settlements_settle_once(redis: Redis) -> None:
    accounts = AccountRepository(redis, PEPPER)
    await accounts.put(account())
    store = PromiseStore(redis)
    await store.add(promise(due=date(2026, 12, 5)))
    runs = await asyncio.gather(
        *(settle_promises(today=date(2026, 12, 6), promises=store, accounts=accounts) for _ in "ab")
    )
    assert sorted(len(run) for run in runs) == [0, 1]


async def test_a_promise_of_an_unknown_account_stays_open(redis: Redis) -> None:
    store = PromiseStore(redis)
    accounts = AccountRepository(redis, PEPPER)
    await store.add(promise(due=date(2026, 12, 5)))
    assert await settle_promises(today=date(2026, 12, 6), promises=store, accounts=accounts) == []
    assert (await store.due(date(2026, 12, 6)))[0].status is PromiseStatus.OPEN
