"""SandboxGateway saved cards: customers, saving, off-session charges anywhere, token ids."""

from __future__ import annotations

import logging
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from payment_tools.capture import CaptureOptions
from payment_tools.cards import CardBrand
from payment_tools.desk import PaymentDesk
from payment_tools.gateway import (
    ChargeRequest,
    ChargeResult,
    ChargeStatus,
    DeclineReason,
    Fault,
    FaultPlan,
    GatewayError,
    GatewayUnavailable,
    SandboxGateway,
    SavedCard,
)
from payment_tools.gateway.sandbox_cards import CardFacts, new_token_id, read_token
from payment_tools.secure_card import SecureCard

VISA = "4242424242424242"
AUTHENTICATION_CARD = "4000002760003184"
FUNDS_CARD = "4000000000009995"
CVC = "735"
ACCOUNT = "ACC-1001"
NOT_ATTACHED = (ChargeStatus.FAILED, "payment_method_not_attached")


def card(number: str = VISA, brand: str = "visa") -> SecureCard:
    return SecureCard(number=number, exp_month=11, exp_year=2037, security_code=CVC, brand=brand)


def charge(
    token: str,
    customer: str | None,
    key: str,
    *,
    save_card: bool = False,
    off_session: bool = False,
    amount_minor: int = 1234,
) -> ChargeRequest:
    return ChargeRequest(
        token=token,
        amount_minor=amount_minor,
        currency="EUR",
        idempotency_key=key,
        metadata={"account": ACCOUNT},
        customer=customer,
        save_card=save_card,
        off_session=off_session,
    )


async def save(gateway: SandboxGateway, number: str = VISA) -> tuple[SavedCard, ChargeResult]:
    """What the voice agent does: create the customer, tokenize, charge and keep the card."""
    customer = await gateway.create_customer(account_number=ACCOUNT, idempotency_key="cust-1")
    token = await gateway.tokenize(card(number), idempotency_key="tok-1")
    result = await gateway.charge(charge(token.token, customer, "save-1", save_card=True))
    saved = SavedCard(customer=customer, token=token.token, brand=token.brand, last4=token.last4)
    return saved, result


async def test_card_saved_by_one_process_is_charged_off_session_by_another() -> None:
    agent, scheduler = SandboxGateway(), SandboxGateway()
    saved, first = await save(agent)
    later = await scheduler.charge(charge(saved.token, saved.customer, "later-1", off_session=True))

    assert saved.customer.startswith("cus_sandbox_")
    assert (saved.brand, saved.last4) == ("visa", "4242")
    assert first.status is ChargeStatus.SUCCEEDED and later.status is ChargeStatus.SUCCEEDED
    [entry] = scheduler.ledger
    assert (entry.token, entry.customer, entry.off_session) == (saved.token, saved.customer, True)
    assert (entry.reference, entry.idempotency_key) == (later.reference, "later-1")
    assert [(e.customer, e.off_session) for e in agent.ledger] == [(saved.customer, False)]


async def test_off_session_charge_in_the_saving_instance_succeeds() -> None:
    gateway = SandboxGateway()
    saved, _ = await save(gateway)
    later = await gateway.charge(charge(saved.token, saved.customer, "later-1", off_session=True))
    assert later.status is ChargeStatus.SUCCEEDED
    assert len(gateway.ledger) == 2


async def test_card_needing_authentication_saves_on_the_phone_but_declines_off_session() -> None:
    agent = SandboxGateway()
    saved, first = await save(agent, AUTHENTICATION_CARD)
    results = [
        await gateway.charge(charge(saved.token, saved.customer, "later-1", off_session=True))
        for gateway in (agent, SandboxGateway())
    ]

    assert first.status is ChargeStatus.SUCCEEDED  # a MOTO charge needs no authentication
    for result in results:
        assert result.status is ChargeStatus.DECLINED
        assert result.decline_reason is DeclineReason.AUTHENTICATION_REQUIRED
        assert (result.decline_code, result.retryable) == ("authentication_required", False)
    assert len(agent.ledger) == 1


async def test_declined_saving_charge_keeps_nothing_on_file() -> None:
    gateway = SandboxGateway()
    saved, first = await save(gateway, FUNDS_CARD)
    later = await gateway.charge(charge(saved.token, saved.customer, "later-1", off_session=True))

    assert first.decline_reason is DeclineReason.INSUFFICIENT_FUNDS
    assert (later.status, later.error_code) == NOT_ATTACHED


async def test_decline_card_charged_off_session_elsewhere_declines_with_its_reason() -> None:
    saved, _ = await save(SandboxGateway(), FUNDS_CARD)
    scheduler = SandboxGateway()
    later = await scheduler.charge(charge(saved.token, saved.customer, "later-1", off_session=True))

    assert later.status is ChargeStatus.DECLINED
    assert (later.decline_reason, later.decline_code) == (
        DeclineReason.INSUFFICIENT_FUNDS,
        "insufficient_funds",
    )
    assert scheduler.ledger == []


async def test_card_saved_under_one_customer_is_refused_for_another() -> None:
    gateway = SandboxGateway()
    saved, _ = await save(gateway)
    other = await gateway.create_customer(account_number="ACC-2002", idempotency_key="cust-2")
    refused = [
        await gateway.charge(charge(saved.token, other, "k-1", off_session=True)),
        await gateway.charge(charge(saved.token, other, "k-2")),
        await gateway.charge(charge(saved.token, other, "k-3", save_card=True)),
    ]

    for result in refused:
        assert (result.status, result.error_code) == NOT_ATTACHED
        assert result.retryable is False
    assert len(gateway.ledger) == 1


async def test_off_session_charge_of_a_card_never_saved_is_refused() -> None:
    gateway = SandboxGateway()
    customer = await gateway.create_customer(account_number=ACCOUNT, idempotency_key="cust-1")
    token = await gateway.tokenize(card(), idempotency_key="tok-1")
    result = await gateway.charge(charge(token.token, customer, "later-1", off_session=True))

    assert (result.status, result.error_code) == NOT_ATTACHED
    assert gateway.ledger == []


@pytest.mark.parametrize("customer", ["cus_Live123", "cus_sandbox_nothex"])
async def test_customer_that_is_not_a_sandbox_customer_is_missing(customer: str) -> None:
    gateway = SandboxGateway()
    token = await gateway.tokenize(card(), idempotency_key="tok-1")
    result = await gateway.charge(charge(token.token, customer, "k-1"))
    assert (result.status, result.error_code) == (ChargeStatus.FAILED, "resource_missing")


async def test_off_session_retry_with_the_same_key_charges_once() -> None:
    saved, _ = await save(SandboxGateway())
    scheduler = SandboxGateway(faults=FaultPlan.of(charge=[Fault.LOST_RESPONSE]))
    request = charge(saved.token, saved.customer, "later-1", off_session=True)
    lost = await scheduler.charge(request)
    retried = await scheduler.charge(request)
    replayed = await scheduler.charge(request)

    assert (lost.status, lost.retryable) == (ChargeStatus.FAILED, True)
    assert retried.status is ChargeStatus.SUCCEEDED and replayed == retried
    assert [entry.reference for entry in scheduler.ledger] == [retried.reference]


async def test_saving_charge_lost_then_retried_saves_the_card_once() -> None:
    gateway = SandboxGateway(faults=FaultPlan.of(charge=[Fault.LOST_RESPONSE]))
    customer = await gateway.create_customer(account_number=ACCOUNT, idempotency_key="cust-1")
    token = await gateway.tokenize(card(), idempotency_key="tok-1")
    request = charge(token.token, customer, "save-1", save_card=True)
    lost = await gateway.charge(request)
    retried = await gateway.charge(request)
    later = await gateway.charge(charge(token.token, customer, "later-1", off_session=True))

    assert lost.status is ChargeStatus.FAILED
    assert retried.status is ChargeStatus.SUCCEEDED and later.status is ChargeStatus.SUCCEEDED
    assert len(gateway.ledger) == 2


@pytest.mark.parametrize(
    "changed",
    [
        {"amount_minor": 999},
        {"off_session": False},
        {"off_session": False, "save_card": True},
        {"customer": "cus_sandbox_00000000000000ff"},
    ],
)
async def test_same_key_for_a_different_saved_card_charge_is_an_idempotency_error(
    changed: dict[str, object],
) -> None:
    saved, _ = await save(SandboxGateway())
    scheduler = SandboxGateway()
    fields: dict[str, object] = {"customer": saved.customer, "off_session": True}
    await scheduler.charge(charge(saved.token, key="later-1", **fields))  # type: ignore[arg-type]
    other = charge(saved.token, key="later-1", **{**fields, **changed})  # type: ignore[arg-type]
    result = await scheduler.charge(other)

    assert (result.status, result.error_code) == (ChargeStatus.FAILED, "idempotency_error")
    assert len(scheduler.ledger) == 1


async def test_create_customer_is_idempotent_per_key() -> None:
    gateway = SandboxGateway()
    first = await gateway.create_customer(account_number=ACCOUNT, idempotency_key="cust-1")
    again = await gateway.create_customer(account_number=ACCOUNT, idempotency_key="cust-1")
    other = await gateway.create_customer(account_number=ACCOUNT, idempotency_key="cust-2")
    with pytest.raises(GatewayError) as raised:
        await gateway.create_customer(account_number="ACC-2002", idempotency_key="cust-1")

    assert again == first and other != first
    assert raised.value.code == "idempotency_error"


@pytest.mark.parametrize("fault", list(Fault))
async def test_create_customer_fault_then_retry_with_the_same_key(fault: Fault) -> None:
    gateway = SandboxGateway(faults=FaultPlan.of(customer=[fault]))
    with pytest.raises(GatewayUnavailable) as raised:
        await gateway.create_customer(account_number=ACCOUNT, idempotency_key="cust-1")
    customer = await gateway.create_customer(account_number=ACCOUNT, idempotency_key="cust-1")

    assert raised.value.retryable is True
    assert re.fullmatch(r"cus_sandbox_[0-9a-f]{16}", customer)


@pytest.mark.parametrize(("account", "key"), [("", "cust-1"), (ACCOUNT, "")])
async def test_create_customer_refuses_empty_fields(account: str, key: str) -> None:
    with pytest.raises(ValueError):
        await SandboxGateway().create_customer(account_number=account, idempotency_key=key)


async def test_desk_creates_the_customer_through_its_gateway() -> None:
    gateway = SandboxGateway()
    desk = PaymentDesk(gateway, CaptureOptions(accepted_brands=frozenset(CardBrand)))
    customer = await desk.create_customer(account_number=ACCOUNT, idempotency_key="cust-1")
    assert customer == await gateway.create_customer(
        account_number=ACCOUNT, idempotency_key="cust-1"
    )


@pytest.mark.parametrize(
    ("number", "brand", "behaviour"),
    [
        (VISA, "visa", "ok"),
        ("378282246310005", "amex", "ok"),
        ("36227206271667", "diners-club", "ok"),
        (FUNDS_CARD, "visa", "funds"),
        (AUTHENTICATION_CARD, "visa", "authentication"),
    ],
)
async def test_token_id_carries_behaviour_brand_and_last4_only(
    number: str, brand: str, behaviour: str
) -> None:
    token = await SandboxGateway().tokenize(card(number, brand), idempotency_key="tok-1")
    pattern = rf"pm_sandbox_{behaviour}_{brand}_{number[-4:]}_[0-9a-f]{{16}}"

    assert re.fullmatch(pattern, token.token)
    assert number not in token.token and "2037" not in token.token and CVC not in token.token


async def test_no_card_data_in_the_logs_of_the_saved_card_flow(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    saved, _ = await save(SandboxGateway(), FUNDS_CARD)
    await SandboxGateway().charge(charge(saved.token, saved.customer, "later-1", off_session=True))

    assert caplog.records
    everything = "\n".join(f"{record.getMessage()} {vars(record)}" for record in caplog.records)
    for secret in (FUNDS_CARD, CVC, "2037", "exp_month"):
        assert secret not in everything


@given(
    customer=st.sampled_from([None, "", "cus_sandbox_0123456789abcdef"]),
    save_card=st.booleans(),
    off_session=st.booleans(),
)
def test_charge_request_accepts_exactly_the_consistent_saved_card_fields(
    customer: str | None, save_card: bool, off_session: bool
) -> None:
    valid = customer != "" and not (save_card and off_session)
    valid = valid and (customer is not None or not (save_card or off_session))
    fields = {"customer": customer, "save_card": save_card, "off_session": off_session}
    if valid:
        request = charge("pm_x", key="k", **fields)  # type: ignore[arg-type]
        assert (request.customer, request.save_card, request.off_session) == tuple(fields.values())
    else:
        with pytest.raises(ValueError):
            charge("pm_x", key="k", **fields)  # type: ignore[arg-type]


brands = st.from_regex(r"[a-z]{1,8}(-[a-z]{1,8})?", fullmatch=True)
behaviours = st.sampled_from(["ok", "generic", "funds", "processing", "authentication"])


@given(behaviour=behaviours, brand=brands, last4=st.from_regex(r"[0-9]{4}", fullmatch=True))
def test_token_ids_read_back_what_they_were_made_from(
    behaviour: str, brand: str, last4: str
) -> None:
    facts = CardFacts(behaviour=behaviour, brand=brand, last4=last4, exp_month=1, exp_year=2030)
    read = read_token(new_token_id(facts))

    assert read is not None
    assert (read.brand, read.last4) == (brand, last4)
    assert (read.decline is None) == (behaviour == "ok")


@given(text=st.text(max_size=60) | st.from_regex(r"pm_sandbox_[a-z_0-9-]{0,40}", fullmatch=True))
def test_anything_but_a_well_formed_token_id_reads_as_unknown(text: str) -> None:
    read = read_token(text)
    if read is not None:
        assert re.fullmatch(r"pm_sandbox_[a-z]+_[a-z-]+_[0-9]{4}_[0-9a-f]{16}", text)


def test_unknown_behaviour_or_odd_brand_in_a_token_id() -> None:
    assert read_token("pm_sandbox_refund_visa_4242_0123456789abcdef") is None
    facts = CardFacts(behaviour="ok", brand="Visa Card", last4="4242", exp_month=1, exp_year=2030)
    assert re.fullmatch(r"pm_sandbox_ok_unknown_4242_[0-9a-f]{16}", new_token_id(facts))
