"""StripeGateway saved cards: Customers, saving a card with a MOTO charge, off-session charges.

Exact requests are asserted against the scripted Stripe; the whole flow also runs on localstripe
1.15.10, which has these gaps (so what it cannot check is asserted on the recorded requests):

- it rejects ``setup_future_usage``, so the proxy strips it and a charge never attaches the card
  to the Customer; nor does it check that an off-session card belongs to the Customer;
- it accepts and ignores ``moto`` and ``off_session`` (the latter only with ``confirm=true``);
- a card that needs authentication leaves the PaymentIntent in ``requires_action`` even
  off-session, where Stripe answers ``authentication_required``;
- it has no idempotency.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Iterator
from typing import Any

import aiohttp
import pytest
from stripe_server import (
    RecordingProxy,
    Scripted,
    ScriptedStripe,
    card_error_body,
    error_body,
    payment_intent_body,
    run_localstripe,
    server_error,
)
from test_gateway_stripe import API_KEY, card_data_in, charge_request, gateway_at, gateway_for, visa

from payment_tools.gateway import (
    ChargeRequest,
    ChargeStatus,
    DeclineReason,
    GatewayError,
    GatewayUnavailable,
    SavedCard,
)
from payment_tools.secure_card import SecureCard

ACCOUNT = "ACC-1001"
CUSTOMER = "cus_scripted"
# Stripe test cards: authentication required on every charge; declined on every charge.
AUTHENTICATION_CARD = "4000002760003184"
DECLINED_CARD = "4000000000000341"


def customer_body(cus_id: str = CUSTOMER) -> dict[str, Any]:
    """A Customer as Stripe returns it."""
    return {
        "id": cus_id,
        "object": "customer",
        "metadata": {"account_number": ACCOUNT},
        "livemode": False,
    }


def saved_charge(token: str, customer: str, key: str, *, off_session: bool) -> ChargeRequest:
    """The charge that saves the card (caller on the line) or charges it later (caller absent)."""
    return ChargeRequest(
        token=token,
        amount_minor=1234,
        currency="EUR",
        idempotency_key=key,
        description="VoicePay Utilities bill",
        metadata={"account": ACCOUNT, "call_id": "call-42"},
        customer=customer,
        save_card=not off_session,
        off_session=off_session,
    )


def saving(token: str, customer: str, key: str) -> ChargeRequest:
    """A MOTO charge that keeps the card on file."""
    return saved_charge(token, customer, key, off_session=False)


def later(token: str, customer: str, key: str) -> ChargeRequest:
    """An off-session charge of the saved card."""
    return saved_charge(token, customer, key, off_session=True)


def numbered_card(number: str) -> SecureCard:
    return SecureCard(number=number, exp_month=11, exp_year=2037, security_code="123", brand="visa")


FORM = {
    "amount": "1234",
    "currency": "eur",
    "payment_method": "pm_saved",
    "allowed_payment_method_types[0]": "card",
    "confirm": "true",
    "customer": CUSTOMER,
    "description": "VoicePay Utilities bill",
    "metadata[account]": ACCOUNT,
    "metadata[call_id]": "call-42",
}


async def test_create_customer_sends_the_account_and_the_idempotency_key() -> None:
    async with (
        ScriptedStripe(Scripted(200, customer_body())) as server,
        gateway_at(server.url) as (gateway, _),
    ):
        customer = await gateway.create_customer(
            account_number=ACCOUNT, idempotency_key="customer-ACC-1001"
        )

    assert customer == CUSTOMER
    [call] = server.requests
    assert (call.method, call.path) == ("POST", "/v1/customers")
    assert call.headers["Idempotency-Key"] == "customer-ACC-1001"
    assert call.form == {"metadata[account_number]": ACCOUNT}


async def test_create_customer_retries_server_errors_with_the_same_key() -> None:
    async with (
        ScriptedStripe(server_error(), server_error()) as server,
        gateway_at(server.url, retries=1) as (gateway, _),
    ):
        with pytest.raises(GatewayUnavailable) as raised:
            await gateway.create_customer(account_number=ACCOUNT, idempotency_key="cust-1")

    assert raised.value.retryable is True
    assert raised.value.__cause__ is None and raised.value.__context__ is None
    assert [r.headers["Idempotency-Key"] for r in server.requests] == ["cust-1"] * 2


async def test_create_customer_idempotency_conflict_is_a_gateway_error() -> None:
    conflict = error_body("idempotency_error", "Keys can only be reused with the same parameters")
    async with (
        ScriptedStripe(Scripted(400, conflict)) as server,
        gateway_at(server.url) as (gateway, _),
    ):
        with pytest.raises(GatewayError) as raised:
            await gateway.create_customer(account_number=ACCOUNT, idempotency_key="cust-1")

    assert (raised.value.code, raised.value.retryable) == ("idempotency_error", False)
    assert len(server.requests) == 1


@pytest.mark.parametrize(("account", "key"), [("", "cust-1"), (ACCOUNT, "")])
async def test_create_customer_refuses_empty_fields_without_a_request(
    account: str, key: str
) -> None:
    async with ScriptedStripe() as server, gateway_at(server.url) as (gateway, _):
        with pytest.raises(ValueError):
            await gateway.create_customer(account_number=account, idempotency_key=key)
    assert server.requests == []


async def test_saving_charge_is_moto_with_the_customer_and_future_off_session_usage() -> None:
    async with (
        ScriptedStripe(Scripted(200, payment_intent_body())) as server,
        gateway_at(server.url) as (gateway, _),
    ):
        result = await gateway.charge(saving("pm_saved", CUSTOMER, "save-1"))

    assert result.status is ChargeStatus.SUCCEEDED
    [call] = server.requests
    assert call.headers["Idempotency-Key"] == "save-1"
    assert call.form == {
        **FORM,
        "payment_method_options[card][moto]": "true",
        "setup_future_usage": "off_session",
    }


async def test_off_session_charge_is_not_moto() -> None:
    async with (
        ScriptedStripe(Scripted(200, payment_intent_body())) as server,
        gateway_at(server.url) as (gateway, _),
    ):
        result = await gateway.charge(later("pm_saved", CUSTOMER, "later-1"))

    assert result.status is ChargeStatus.SUCCEEDED
    [call] = server.requests
    assert call.headers["Idempotency-Key"] == "later-1"
    assert call.form == {**FORM, "off_session": "true"}


async def test_returning_caller_paying_with_the_saved_card_stays_moto() -> None:
    saved = SavedCard(customer=CUSTOMER, token="pm_saved", brand="visa", last4="4242")
    request = ChargeRequest(
        token=saved.token,
        amount_minor=1234,
        currency="EUR",
        idempotency_key="again-1",
        description="VoicePay Utilities bill",
        metadata={"account": ACCOUNT, "call_id": "call-42"},
        customer=saved.customer,
    )
    async with (
        ScriptedStripe(Scripted(200, payment_intent_body())) as server,
        gateway_at(server.url) as (gateway, _),
    ):
        await gateway.charge(request)

    assert server.requests[0].form == {**FORM, "payment_method_options[card][moto]": "true"}


@pytest.mark.parametrize("decline_code", ["authentication_required", None])
async def test_off_session_authentication_required_is_a_final_decline(
    decline_code: str | None,
) -> None:
    body = card_error_body("authentication_required", decline_code, pi_id="pi_needs_customer")
    async with (
        ScriptedStripe(Scripted(402, body)) as server,
        gateway_at(server.url) as (gateway, _),
    ):
        result = await gateway.charge(later("pm_saved", CUSTOMER, "later-1"))

    assert result.status is ChargeStatus.DECLINED
    assert result.decline_reason is DeclineReason.AUTHENTICATION_REQUIRED
    assert (result.decline_code, result.retryable) == ("authentication_required", False)
    assert (result.reference, result.request_id) == ("pi_needs_customer", "req_scripted1")
    assert len(server.requests) == 1


@pytest.mark.parametrize(
    ("off_session", "status", "reason", "error_code"),
    [
        (True, ChargeStatus.DECLINED, DeclineReason.AUTHENTICATION_REQUIRED, None),
        (False, ChargeStatus.FAILED, None, "payment_intent_requires_action"),
    ],
)
async def test_intent_waiting_for_authentication(
    off_session: bool, status: ChargeStatus, reason: DeclineReason | None, error_code: str | None
) -> None:
    waiting = Scripted(200, payment_intent_body("pi_waiting", status="requires_action"))
    async with ScriptedStripe(waiting) as server, gateway_at(server.url) as (gateway, _):
        result = await gateway.charge(
            saved_charge("pm_saved", CUSTOMER, "key-1", off_session=off_session)
        )

    assert (result.status, result.decline_reason, result.error_code) == (status, reason, error_code)
    assert result.reference == "pi_waiting"


@pytest.fixture(scope="module")
def localstripe_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with run_localstripe(tmp_path_factory.mktemp("localstripe")) as url:
        yield url


@pytest.fixture
async def proxy(localstripe_url: str) -> AsyncIterator[RecordingProxy]:
    async with RecordingProxy(localstripe_url) as server:
        yield server


async def stored(localstripe_url: str, path: str) -> dict[str, Any]:
    """An object as localstripe stored it."""
    headers = {"Authorization": f"Bearer {API_KEY}"}
    async with (
        aiohttp.ClientSession() as session,
        session.get(localstripe_url + path, headers=headers) as response,
    ):
        body: dict[str, Any] = await response.json()
        return body


async def test_save_then_charge_off_session_on_localstripe(
    proxy: RecordingProxy, localstripe_url: str
) -> None:
    gateway = gateway_for(proxy.url)
    customer = await gateway.create_customer(account_number=ACCOUNT, idempotency_key="cust-ls-1")
    token = await gateway.tokenize(visa(), idempotency_key="tok-ls-save")
    saved = await gateway.charge(saving(token.token, customer, "save-ls-1"))
    charged_later = await gateway.charge(later(token.token, customer, "later-ls-1"))
    await gateway.aclose()

    assert customer.startswith("cus_")
    assert (saved.status, charged_later.status) == (ChargeStatus.SUCCEEDED,) * 2
    reference = charged_later.reference
    assert reference is not None and reference != saved.reference
    stored_customer = await stored(localstripe_url, f"/v1/customers/{customer}")
    assert stored_customer["metadata"] == {"account_number": ACCOUNT}
    stored_intent = await stored(localstripe_url, f"/v1/payment_intents/{reference}")
    assert (stored_intent["customer"], stored_intent["status"]) == (customer, "succeeded")
    save_call, later_call = [r.form for r in proxy.requests if r.path == "/v1/payment_intents"]
    assert save_call["setup_future_usage"] == "off_session"
    assert "off_session" not in save_call and "setup_future_usage" not in later_call
    assert later_call["off_session"] == "true"
    assert "payment_method_options[card][moto]" not in later_call


@pytest.mark.parametrize(
    ("number", "reason"),
    [
        (AUTHENTICATION_CARD, DeclineReason.AUTHENTICATION_REQUIRED),
        (DECLINED_CARD, DeclineReason.GENERIC),
    ],
)
async def test_off_session_declines_on_localstripe(
    proxy: RecordingProxy, number: str, reason: DeclineReason
) -> None:
    gateway = gateway_for(proxy.url)
    customer = await gateway.create_customer(account_number=ACCOUNT, idempotency_key=f"c-{number}")
    token = await gateway.tokenize(numbered_card(number), idempotency_key=f"tok-{number}")
    result = await gateway.charge(later(token.token, customer, f"k-{number}"))
    await gateway.aclose()

    assert result.status is ChargeStatus.DECLINED
    assert (result.decline_reason, result.retryable) == (reason, False)


async def test_no_card_data_in_any_log_of_the_saved_card_flow(
    proxy: RecordingProxy,
    caplog: pytest.LogCaptureFixture,
    capfd: pytest.CaptureFixture[str],
) -> None:
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger="stripe")
    gateway = gateway_for(proxy.url)
    customer = await gateway.create_customer(account_number=ACCOUNT, idempotency_key="cust-log")
    token = await gateway.tokenize(visa(), idempotency_key="tok-log-saved")
    await gateway.charge(saving(token.token, customer, "save-log"))
    await gateway.charge(later(token.token, customer, "later-log"))
    await gateway.charge(charge_request(token.token, key="plain-log"))
    await gateway.aclose()

    everything = "\n".join(f"{record.getMessage()} {vars(record)}" for record in caplog.records)
    captured = capfd.readouterr()
    assert any(r.name == "stripe" for r in caplog.records)
    assert card_data_in(everything) == []
    assert card_data_in(captured.out + captured.err) == []
    assert all(
        card_data_in(r.text()) == [] for r in proxy.requests if r.path != "/v1/payment_methods"
    )
