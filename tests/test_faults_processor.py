"""The processor times out, fails or drops the connection on charges: never charged twice or lost.

Every payment here goes through the real ``StripeGateway`` (the Stripe SDK, its retries and
idempotency keys, over HTTP) to :class:`fault_processor.FaultyProcessor`, whose ledger is the
truth: the money that actually moved.
"""

from __future__ import annotations

import asyncio
import random
from collections import Counter, deque
from collections.abc import AsyncIterator, Callable, Iterable
from pathlib import Path

import pytest
from fault_calls import (
    BALANCE_MINOR,
    CONFIRM_TURN,
    HAPPY_PATH,
    agent_call,
    balance,
    handoffs,
    play,
    receipts,
)
from fault_processor import DECLINING_PAN, Fault, FaultyProcessor
from redis.asyncio import Redis
from stripe_server import NoBackoffClient

from agent.workflow import ChargeState
from evals.scenario import SayTurn
from payment_tools.gateway import ChargeRequest, ChargeResult, ChargeStatus, StripeGateway
from payment_tools.secure_card import SecureCard

PAYMENTS = 1000
CONCURRENCY = 50
# A timeout fault holds a request longer than the client waits, and the client waits far longer
# than a request takes even on a busy machine, so only injected faults time out.
CLIENT_TIMEOUT_S = 0.5
HANG_S = 0.6
# Retries of one payment with its key, as the agent makes them (its own retry, then the caller's
# "try again" or the reconciliation at hang-up); each is up to 3 HTTP requests (SDK retries).
MAX_ATTEMPTS = 10
RETRY_DELAY_S = HANG_S
CALLS = 6
# One call at a time: shorter, yet the tool's retry (0.5 s later) comes after a hang has ended.
CALL_TIMEOUT_S = 0.3
CALL_HANG_S = 0.4
FAULTS = [fault for fault in Fault if fault is not Fault.NONE]


def card(number: str = "4242424242424242") -> SecureCard:
    return SecureCard(number=number, exp_month=9, exp_year=2031, security_code="739", brand="visa")


def random_faults(seed: int, fault_rate: float) -> Callable[[], Fault]:
    """Each request fails with ``fault_rate``, the fault drawn uniformly from every kind."""
    rng = random.Random(seed)

    def pick() -> Fault:
        return rng.choice(FAULTS) if rng.random() < fault_rate else Fault.NONE

    return pick


@pytest.fixture
async def http_client() -> AsyncIterator[NoBackoffClient]:
    client = NoBackoffClient(timeout_s=CLIENT_TIMEOUT_S)
    try:
        yield client
    finally:
        await client.aclose()


async def pay_until_known(gateway: StripeGateway, request: ChargeRequest) -> ChargeResult:
    """Charge, retrying an unknown outcome with the same key, as the agent does."""
    result = await gateway.charge(request)
    for _ in range(MAX_ATTEMPTS - 1):
        if result.status is not ChargeStatus.FAILED:
            break
        await asyncio.sleep(RETRY_DELAY_S)
        result = await gateway.charge(request)
    return result


async def test_a_thousand_payments_with_random_faults_are_charged_exactly_once(
    http_client: NoBackoffClient,
) -> None:
    async with FaultyProcessor(random_faults(seed=7, fault_rate=0.5), hang_s=HANG_S) as processor:
        gateway = StripeGateway(
            api_key="sk_test_faults", api_base=processor.url, http_client=http_client
        )
        good = await gateway.tokenize(card(), idempotency_key="tok-good")
        declining = await gateway.tokenize(card(DECLINING_PAN), idempotency_key="tok-declining")
        limit = asyncio.Semaphore(CONCURRENCY)
        results: dict[int, ChargeResult] = {}

        async def pay(index: int) -> None:
            token = declining.token if index % 10 == 9 else good.token
            request = ChargeRequest(
                token=token,
                amount_minor=100 + index,
                currency="EUR",
                idempotency_key=f"payment-{index}:charge:0",
                description="chaos payment",
                metadata={"payment": str(index)},
            )
            async with limit:
                results[index] = await pay_until_known(gateway, request)

        await asyncio.gather(*(pay(index) for index in range(PAYMENTS)))
        await gateway.aclose()

    statuses = Counter(result.status for result in results.values())
    charged = Counter(charge.metadata["payment"] for charge in processor.ledger)
    double_charges = [payment for payment, count in charged.items() if count > 1]
    lost = [
        index
        for index, result in results.items()
        if (result.status is ChargeStatus.SUCCEEDED) != (charged[str(index)] == 1)
    ]
    injected = {fault.value: processor.injected[fault] for fault in FAULTS}
    # The chaos numbers are what this test is for: shown with -s, and in the report below.
    print(  # noqa: T201
        f"\n{PAYMENTS} payments, {processor.intent_requests} requests, faults {injected}; "
        f"succeeded {statuses[ChargeStatus.SUCCEEDED]}, "
        f"declined {statuses[ChargeStatus.DECLINED]}, unresolved {statuses[ChargeStatus.FAILED]}; "
        f"double charges {len(double_charges)}, lost payments {len(lost)}"
    )
    assert double_charges == []
    assert lost == []
    assert statuses == {ChargeStatus.SUCCEEDED: 900, ChargeStatus.DECLINED: 100}
    for index, result in results.items():
        if result.status is ChargeStatus.SUCCEEDED:
            (charge,) = processor.charges_for("payment", str(index))
            assert (charge.intent_id, charge.amount_minor) == (result.reference, 100 + index)
    # The faults that matter most happened often: money moved and the answer was lost.
    assert all(count >= 50 for count in injected.values())


def scripted(faults: Iterable[Fault]) -> Callable[[], Fault]:
    """These faults on the first requests, in order, then none."""
    queue = deque(faults)
    return lambda: queue.popleft() if queue else Fault.NONE


@pytest.mark.parametrize("fault", FAULTS)
async def test_a_call_whose_charge_meets_a_fault_pays_once(
    redis: Redis, tmp_path: Path, fault: Fault
) -> None:
    async with (
        FaultyProcessor(scripted([fault]), hang_s=CALL_HANG_S) as processor,
        agent_call(redis, processor.url, tmp_path, timeout_s=CALL_TIMEOUT_S) as text_call,
    ):
        await play(text_call, HAPPY_PATH)
        state = await text_call.close(outcome="caller_hung_up")
    (charge,) = processor.ledger
    assert (state.outcome, state.payment_reference) == ("paid", charge.intent_id)
    assert processor.intent_requests >= 2
    assert await balance(redis) == 0
    assert (handoffs(text_call.call), receipts(tmp_path)) == ([], 1)


async def test_a_charge_unknown_after_every_retry_is_checked_again_when_the_caller_asks(
    redis: Redis, tmp_path: Path
) -> None:
    """The SDK's three requests and the tool's retry all lose the answer; the caller says yes."""
    async with (
        FaultyProcessor(scripted([Fault.ERROR_AFTER] * 6), hang_s=CALL_HANG_S) as processor,
        agent_call(redis, processor.url, tmp_path, timeout_s=CALL_TIMEOUT_S) as text_call,
    ):
        await play(text_call, HAPPY_PATH[: CONFIRM_TURN + 1])
        said = [
            str(e.data["text"]) for e in text_call.call.events.history if e.kind == "agent_said"
        ]
        assert "couldn't confirm whether your payment went through" in said[-1]
        assert (await text_call.call.state()).charge_state is ChargeState.PENDING
        await play(text_call, [SayTurn(say="Yes, please check again."), HAPPY_PATH[-1]])
        state = await text_call.close(outcome="caller_hung_up")
    (charge,) = processor.ledger
    assert (state.outcome, state.payment_reference) == ("paid", charge.intent_id)
    assert processor.intent_requests == 7
    assert await balance(redis) == 0
    assert (handoffs(text_call.call), receipts(tmp_path)) == ([], 1)


async def test_calls_with_random_processor_faults_never_pay_twice_or_lose_a_payment(
    redis: Redis, tmp_path: Path
) -> None:
    faults = random_faults(seed=11, fault_rate=0.5)
    async with FaultyProcessor(faults, hang_s=CALL_HANG_S) as processor:
        for index in range(CALLS):
            outbox = tmp_path / f"call{index}"
            async with agent_call(
                redis, processor.url, outbox, timeout_s=CALL_TIMEOUT_S
            ) as text_call:
                await play(text_call, HAPPY_PATH)
                state = await text_call.close(outcome="caller_hung_up")
            charges = processor.charges_for("call_id", state.call_id)
            assert len(charges) == (1 if state.paid else 0)
            if state.paid:
                assert state.payment_reference == charges[0].intent_id
                assert (await balance(redis), receipts(outbox)) == (0, 1)
            else:
                assert handoffs(text_call.call) == ["payment_unconfirmed"]
                assert await balance(redis) == BALANCE_MINOR
    assert sum(processor.injected[fault] for fault in FAULTS) >= CALLS
