from __future__ import annotations

import asyncio
import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from pydantic import SecretStr
from redis.asyncio import Redis
from stripe_server import NoBackoffClient, Scripted, ScriptedStripe, payment_intent_body

from agent.formatting import confirmation_code
from payment_tools.gateway import (
    ChargeRequest,
    ChargeResult,
    ChargeStatus,
    Fault,
    FaultPlan,
    PaymentGateway,
    SandboxGateway,
    StripeGateway,
)
from payment_tools.secure_card import SecureCard
from voicepay import scheduler as scheduler_module
from voicepay.accounts import Account, AccountRepository, KnowledgeFactor, knowledge_digest
from voicepay.email_sender import OutboxEmailSender
from voicepay.plans import InstalmentStatus, PaymentPlan, PlanStore, new_plan, split_instalments
from voicepay.receipts import ReceiptSender
from voicepay.redis_client import connect
from voicepay.scheduler import PlanReceipts, SchedulerRun, charge_due_instalments
from voicepay.settings import PlanSettings
from voicepay.sms import OutboxSmsSender

PEPPER = SecretStr("test-pepper")
NUMBER = "12345678"
PAN = "4242424242424242"
DECLINING_PAN = "4000000000000002"
AUTHENTICATION_PAN = "4000002760003184"
JAN, FEB = date(2027, 1, 1), date(2027, 2, 1)


class RecordingSandbox(SandboxGateway):
    """The sandbox processor, recording every request the scheduler sends it."""

    def __init__(self, *, faults: FaultPlan | None = None, delay_s: float = 0.0) -> None:
        super().__init__(faults=faults)
        self.requests: list[ChargeRequest] = []
        self.delay_s = delay_s
        self.crash_after_charge = False

    async def charge(self, request: ChargeRequest) -> ChargeResult:
        self.requests.append(request)
        await asyncio.sleep(self.delay_s)
        result = await super().charge(request)
        if self.crash_after_charge:
            raise RuntimeError("scheduler process killed after the charge")
        return result

    @property
    def keys(self) -> list[str]:
        return [request.idempotency_key for request in self.requests]


def account(balance: int) -> Account:
    return Account(
        number=NUMBER,
        holder_name="Ada Lovelace",
        phone="+447700900001",
        email="ada@example.com",
        balance_minor=balance,
        currency="EUR",
        due_date=date(2026, 12, 31),
        minimum_due_minor=0,
        language="en",
        knowledge_factor=KnowledgeFactor(
            kind="postcode", digest=knowledge_digest(PEPPER, NUMBER, "75011")
        ),
    )


@pytest.fixture
async def accounts(redis: Redis) -> AccountRepository:
    repository = AccountRepository(redis, PEPPER)
    await repository.put(account(balance=30_000))
    return repository


async def open_plan(redis: Redis, accounts: AccountRepository, pan: str = PAN) -> PaymentPlan:
    """The call: tokenize, pay the first instalment saving the card, store the plan."""
    on_call = SandboxGateway()
    card = SecureCard(number=pan, exp_month=11, exp_year=2037, security_code="735", brand="visa")
    token = await on_call.tokenize(card, idempotency_key="call_1:tokenize")
    customer = await on_call.create_customer(account_number=NUMBER, idempotency_key="call_1:cus")
    first = await on_call.charge(
        ChargeRequest(
            token=token.token,
            amount_minor=10_000,
            currency="EUR",
            idempotency_key="call_1:charge",
            customer=customer,
            save_card=True,
        )
    )
    # A declining card cannot pay on the call; its plan still shows what the scheduler does.
    reference = first.reference if first.status is ChargeStatus.SUCCEEDED else "pi_on_call"
    assert reference is not None
    return await store_plan(redis, accounts, customer, token.token, token.last4, reference)


async def store_plan(
    redis: Redis,
    accounts: AccountRepository,
    customer: str,
    token: str,
    last4: str,
    first_reference: str,
) -> PaymentPlan:
    """A plan of 3 x €100.00 from 2026-12-01 whose first instalment was paid on the call."""
    schedule = split_instalments(30_000, 3, date(2026, 12, 1))
    await accounts.apply_payment(NUMBER, schedule[0][1], "EUR", first_reference)
    plan = new_plan(
        plan_id="plan_1",
        account_number=NUMBER,
        currency="EUR",
        customer=customer,
        token=token,
        brand="visa",
        last4=last4,
        call_id="call_1",
        created_at=datetime(2026, 12, 1, 10, tzinfo=UTC),
        schedule=schedule,
        first_reference=first_reference,
    )
    await PlanStore(redis).create(plan)
    return plan


async def run(
    redis: Redis,
    gateway: PaymentGateway,
    accounts: AccountRepository,
    today: date,
    receipts: PlanReceipts | None = None,
) -> SchedulerRun:
    return await charge_due_instalments(
        today=today,
        plans=PlanStore(redis),
        gateway=gateway,
        accounts=accounts,
        settings=PlanSettings(),
        receipts=receipts,
    )


async def balance(accounts: AccountRepository) -> int:
    found = await accounts.get(NUMBER)
    assert found is not None
    return found.balance_minor


async def stored(redis: Redis) -> PaymentPlan:
    plan = await PlanStore(redis).get("plan_1")
    assert plan is not None
    return plan


async def test_a_card_saved_on_the_call_is_charged_off_session_by_another_instance(
    redis: Redis, accounts: AccountRepository
) -> None:
    plan = await open_plan(redis, accounts)
    scheduler = RecordingSandbox()  # a new process: a new gateway instance

    result = await run(redis, scheduler, accounts, JAN)

    assert (result.charged, result.declined, result.unknown, result.gave_up) == (1, 0, 0, 0)
    [line] = result.lines
    assert (line.plan_id, line.number, line.status) == ("plan_1", 2, InstalmentStatus.PAID)
    [entry] = scheduler.ledger
    assert entry.off_session and entry.customer == plan.customer and entry.amount_minor == 10_000
    assert entry.idempotency_key == "plan:plan_1:instalment:2:attempt:1"
    assert line.reference == entry.reference
    assert await balance(accounts) == 10_000
    after = await stored(redis)
    assert after.instalment(2).status is InstalmentStatus.PAID
    assert after.instalment(2).reference == entry.reference
    assert after.next_due == FEB
    assert plan.token not in result.model_dump_json()


async def test_running_again_charges_nothing_more(
    redis: Redis, accounts: AccountRepository
) -> None:
    await open_plan(redis, accounts)
    scheduler = RecordingSandbox()
    await run(redis, scheduler, accounts, JAN)

    again = await run(redis, scheduler, accounts, JAN)
    later = await run(redis, scheduler, accounts, date(2027, 1, 20))

    assert again.lines == [] and later.lines == []
    assert len(scheduler.requests) == 1
    assert await balance(accounts) == 10_000


async def test_instalments_not_yet_due_are_untouched(
    redis: Redis, accounts: AccountRepository
) -> None:
    plan = await open_plan(redis, accounts)
    scheduler = RecordingSandbox()

    result = await run(redis, scheduler, accounts, date(2026, 12, 31))

    assert result.lines == [] and scheduler.requests == []
    assert await stored(redis) == plan
    assert await balance(accounts) == 20_000


async def test_two_schedulers_at_once_charge_once(
    redis: Redis, redis_server: str, accounts: AccountRepository
) -> None:
    await open_plan(redis, accounts)
    # Two processes: their own Redis connections and gateway instances; slow charges overlap.
    gateways = [RecordingSandbox(delay_s=0.2), RecordingSandbox(delay_s=0.2)]
    clients = [connect(redis_server), connect(redis_server)]
    try:
        runs = await asyncio.gather(
            *(
                run(client, gateway, AccountRepository(client, PEPPER), JAN)
                for client, gateway in zip(clients, gateways, strict=True)
            )
        )
    finally:
        for client in clients:
            await client.aclose()

    assert sorted(r.charged for r in runs) == [0, 1]
    assert sorted(r.busy for r in runs) == [0, 1]
    assert sum(len(gateway.ledger) for gateway in gateways) == 1
    assert await balance(accounts) == 10_000


async def test_the_idempotency_key_guards_when_a_lock_expires_mid_charge(
    redis: Redis, accounts: AccountRepository, monkeypatch: pytest.MonkeyPatch
) -> None:
    await open_plan(redis, accounts)
    monkeypatch.setattr(scheduler_module, "LOCK_TTL_MS", 50)
    processor = RecordingSandbox(delay_s=0.3)  # one processor, slower than the lock lasts

    async def late_run() -> SchedulerRun:
        await asyncio.sleep(0.15)  # the first run's lock has expired, its charge is in flight
        return await run(redis, processor, accounts, JAN)

    runs = await asyncio.gather(run(redis, processor, accounts, JAN), late_run())

    assert [r.charged for r in runs] == [1, 1]
    assert processor.keys == ["plan:plan_1:instalment:2:attempt:1"] * 2
    assert len(processor.ledger) == 1
    assert runs[0].lines[0].reference == runs[1].lines[0].reference
    assert await balance(accounts) == 10_000


async def test_a_lost_response_is_retried_with_the_same_key_and_charged_once(
    redis: Redis, accounts: AccountRepository
) -> None:
    await open_plan(redis, accounts)
    scheduler = RecordingSandbox(faults=FaultPlan.of(charge=[Fault.LOST_RESPONSE]))

    first = await run(redis, scheduler, accounts, JAN)

    assert first.unknown == 1 and first.lines[0].status is InstalmentStatus.PENDING
    assert len(scheduler.ledger) == 1  # the processor did charge; the answer was lost
    assert await balance(accounts) == 20_000
    assert (await stored(redis)).instalment(2).last_error == "timeout"

    second = await run(redis, scheduler, accounts, JAN)

    assert second.charged == 1
    assert scheduler.keys == ["plan:plan_1:instalment:2:attempt:1"] * 2
    assert len(scheduler.ledger) == 1
    assert second.lines[0].reference == scheduler.ledger[0].reference
    assert await balance(accounts) == 10_000


async def test_an_outcome_unknown_for_a_day_goes_to_a_person_instead_of_a_resend(
    redis: Redis, accounts: AccountRepository
) -> None:
    await open_plan(redis, accounts)
    scheduler = RecordingSandbox(faults=FaultPlan.of(charge=[Fault.LOST_RESPONSE]))
    await run(redis, scheduler, accounts, JAN)
    plan = await stored(redis)
    lost = plan.instalment(2)
    assert lost.status is InstalmentStatus.PENDING and lost.pending_since is not None
    day_old = lost.model_copy(update={"pending_since": lost.pending_since - timedelta(hours=24)})
    await PlanStore(redis).save(plan.with_instalment(day_old))

    later = await run(redis, scheduler, accounts, JAN + timedelta(days=1))

    assert scheduler.keys == ["plan:plan_1:instalment:2:attempt:1"]
    assert later.gave_up == 1
    assert (await stored(redis)).instalment(2).last_error == "unconfirmed_check_processor"


async def test_a_crash_after_the_charge_replays_it_instead_of_charging_again(
    redis: Redis, accounts: AccountRepository
) -> None:
    await open_plan(redis, accounts)
    processor = RecordingSandbox()
    processor.crash_after_charge = True
    with pytest.raises(RuntimeError):
        await run(redis, processor, accounts, JAN)
    assert (await stored(redis)).instalment(2).status is InstalmentStatus.PENDING

    processor.crash_after_charge = False
    restarted = await run(redis, processor, accounts, JAN)

    assert restarted.charged == 1
    assert len(set(processor.keys)) == 1 and len(processor.ledger) == 1
    assert await balance(accounts) == 10_000


async def test_a_declined_instalment_is_retried_then_given_up(
    redis: Redis, accounts: AccountRepository
) -> None:
    await open_plan(redis, accounts, pan=DECLINING_PAN)
    scheduler = RecordingSandbox()
    statuses: dict[date, list[InstalmentStatus]] = {}
    for day in (JAN, date(2027, 1, 3), date(2027, 1, 4), date(2027, 1, 7), date(2027, 1, 20)):
        statuses[day] = [line.status for line in (await run(redis, scheduler, accounts, day)).lines]

    assert statuses == {
        JAN: [InstalmentStatus.DECLINED],
        date(2027, 1, 3): [],  # retry_after_days = 3
        date(2027, 1, 4): [InstalmentStatus.DECLINED],
        date(2027, 1, 7): [InstalmentStatus.FAILED],  # max_attempts = 3
        date(2027, 1, 20): [],
    }
    assert scheduler.keys == [f"plan:plan_1:instalment:2:attempt:{k}" for k in (1, 2, 3)]
    gave_up = (await stored(redis)).instalment(2)
    assert (gave_up.attempts, gave_up.last_error) == (3, "generic_decline")
    assert gave_up.next_attempt is None
    assert scheduler.ledger == [] and await balance(accounts) == 20_000


async def test_a_card_needing_the_cardholder_is_given_up_at_once(
    redis: Redis, accounts: AccountRepository
) -> None:
    # Paid on the call (the cardholder was there); the scheduler's charge cannot authenticate.
    await open_plan(redis, accounts, pan=AUTHENTICATION_PAN)
    scheduler = RecordingSandbox()

    result = await run(redis, scheduler, accounts, JAN)

    assert result.gave_up == 1 and result.lines[0].error == "authentication_required"
    assert len(scheduler.requests) == 1


async def test_an_instalment_larger_than_the_balance_is_not_charged(
    redis: Redis, accounts: AccountRepository
) -> None:
    await open_plan(redis, accounts)
    await accounts.apply_payment(NUMBER, 15_000, "EUR", "pi_paid_by_transfer")
    scheduler = RecordingSandbox()

    result = await run(redis, scheduler, accounts, JAN)

    assert result.gave_up == 1 and result.lines[0].error == "exceeds_balance"
    assert scheduler.requests == []
    assert await balance(accounts) == 5_000


async def test_a_hopeless_processor_failure_is_given_up_without_a_new_key(
    redis: Redis, accounts: AccountRepository
) -> None:
    plan = await open_plan(redis, accounts)
    # The processor no longer knows the customer (e.g. deleted on its dashboard).
    await PlanStore(redis).save(plan.model_copy(update={"customer": "cus_deleted"}))
    scheduler = RecordingSandbox()

    result = await run(redis, scheduler, accounts, JAN)
    again = await run(redis, scheduler, accounts, date(2027, 1, 10))

    assert result.gave_up == 1 and result.lines[0].error == "resource_missing"
    assert again.lines == [] and len(scheduler.requests) == 1


async def test_overdue_instalments_are_all_charged_and_the_plan_completes(
    redis: Redis, accounts: AccountRepository
) -> None:
    await open_plan(redis, accounts)
    scheduler = RecordingSandbox()

    result = await run(redis, scheduler, accounts, date(2027, 2, 15))

    assert [(line.number, line.status) for line in result.lines] == [
        (2, InstalmentStatus.PAID),
        (3, InstalmentStatus.PAID),
    ]
    assert (await stored(redis)).complete
    assert await balance(accounts) == 0
    assert await PlanStore(redis).due(date(2030, 1, 1)) == []


async def test_a_receipt_is_sent_for_each_instalment_charged(
    redis: Redis, accounts: AccountRepository, tmp_path: Path
) -> None:
    await open_plan(redis, accounts)
    sms = OutboxSmsSender(tmp_path)
    receipts = PlanReceipts(
        sender=ReceiptSender(sms, OutboxEmailSender(tmp_path, "billing@example.com")),
        merchant="VoicePay Utilities",
        channels=["sms"],
    )

    result = await run(redis, RecordingSandbox(), accounts, JAN, receipts=receipts)

    reference = result.lines[0].reference
    assert reference is not None
    [message] = sms.messages()
    assert confirmation_code(reference) in message["body"]
    assert "4242" in message["body"] and "€100.00" in message["body"]
    assert PAN not in json.dumps(sms.messages())


async def test_stripe_gets_an_off_session_charge_and_the_same_key_after_a_timeout(
    redis: Redis, accounts: AccountRepository
) -> None:
    await store_plan(redis, accounts, "cus_scripted", "pm_scripted", "4242", "pi_on_call")
    script = [
        Scripted(200, payment_intent_body("pi_instalment_2"), hang_s=5),
        Scripted(200, payment_intent_body("pi_instalment_2")),
    ]
    client = NoBackoffClient(timeout_s=0.3)
    try:
        async with ScriptedStripe(*script) as server:
            gateway = StripeGateway(
                api_key="sk_test_voicepay",
                api_base=server.url,
                max_network_retries=0,
                http_client=client,
            )
            lost = await run(redis, gateway, accounts, JAN)
            replayed = await run(redis, gateway, accounts, JAN)
    finally:
        await client.aclose()

    assert lost.unknown == 1 and replayed.charged == 1
    assert replayed.lines[0].reference == "pi_instalment_2"
    assert [r.path for r in server.requests] == ["/v1/payment_intents"] * 2
    keys = {r.headers["Idempotency-Key"] for r in server.requests}
    assert keys == {"plan:plan_1:instalment:2:attempt:1"}
    form = server.requests[0].form
    assert form["off_session"] == "true" and form["customer"] == "cus_scripted"
    assert form["payment_method"] == "pm_scripted" and form["amount"] == "10000"
    assert not any("moto" in key for key in form)
    assert await balance(accounts) == 10_000
