"""StripeGateway over real HTTP: localstripe behind a recording proxy, and a scripted Stripe."""

from __future__ import annotations

import logging
import re
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager

import pytest
import stripe
from stripe_server import (
    NoBackoffClient,
    RecordingProxy,
    Scripted,
    ScriptedStripe,
    card_error_body,
    error_body,
    payment_intent_body,
    payment_method_body,
    run_localstripe,
    server_error,
)

from payment_tools.gateway import (
    CardRejected,
    ChargeRequest,
    ChargeStatus,
    DeclineReason,
    GatewayError,
    GatewayUnavailable,
    PaymentGateway,
    StripeGateway,
)
from payment_tools.secure_card import SecureCard

PAN = "4242424242424242"
CVC = "735"
EXP_MONTH, EXP_YEAR = 11, 2037
POSTAL = "75011"
API_KEY = "sk_test_voicepay"


def visa(postal_code: str = POSTAL) -> SecureCard:
    return SecureCard(
        number=PAN,
        exp_month=EXP_MONTH,
        exp_year=EXP_YEAR,
        security_code=CVC,
        brand="visa",
        postal_code=postal_code,
    )


def charge_request(token: str, key: str = "charge-key-1") -> ChargeRequest:
    return ChargeRequest(
        token=token,
        amount_minor=1234,
        currency="EUR",
        idempotency_key=key,
        description="VoicePay Utilities bill",
        metadata={"account": "ACC-1001", "call_id": "call-42"},
    )


def card_data_in(text: str) -> list[str]:
    """Which of the card's secrets appear in ``text`` (numbers matched as whole tokens)."""
    patterns = {
        "pan": PAN,
        "cvc": rf"(?<![A-Za-z0-9]){CVC}(?![A-Za-z0-9])",
        "exp_year": rf"(?<![A-Za-z0-9]){EXP_YEAR}(?![A-Za-z0-9])",
        "card field": r"card\[|cvc|exp_month|exp_year",
    }
    return [name for name, pattern in patterns.items() if re.search(pattern, text)]


@pytest.fixture(scope="module")
def localstripe_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with run_localstripe(tmp_path_factory.mktemp("localstripe")) as url:
        yield url


@pytest.fixture
async def proxy(localstripe_url: str) -> AsyncIterator[RecordingProxy]:
    async with RecordingProxy(localstripe_url) as server:
        yield server


def gateway_for(
    url: str, client: stripe.HTTPClient | None = None, retries: int = 2
) -> StripeGateway:
    return StripeGateway(
        api_key=API_KEY, api_base=url, max_network_retries=retries, http_client=client
    )


@asynccontextmanager
async def gateway_at(
    url: str, *, retries: int = 2, timeout_s: float = 5.0
) -> AsyncIterator[tuple[StripeGateway, NoBackoffClient]]:
    """A gateway on an injected client that skips the back-off sleeps; both closed after."""
    client = NoBackoffClient(timeout_s)
    gateway = gateway_for(url, client, retries)
    try:
        yield gateway, client
    finally:
        await gateway.aclose()
        await client.aclose()


async def test_missing_api_key_names_both_env_vars() -> None:
    with pytest.raises(ValueError, match="VOICEPAY_PAYMENTS__STRIPE_API_KEY or STRIPE_API_KEY"):
        StripeGateway(api_key=None)


async def test_refuses_to_start_while_sdk_prints_bodies(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(stripe, "log", "debug")
    with pytest.raises(ValueError, match="print card data"):
        StripeGateway(api_key=API_KEY)


async def test_refuses_to_send_card_once_sdk_prints_bodies(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async with (
        ScriptedStripe(Scripted(200, payment_method_body())) as server,
        gateway_at(server.url) as (gateway, _),
    ):
        monkeypatch.setattr(stripe, "log", "debug")
        with pytest.raises(GatewayError) as raised:
            await gateway.tokenize(visa(), idempotency_key="tok-1")
    assert raised.value.code == "unsafe_sdk_logging"
    assert server.requests == []


async def test_tokenize_and_charge_on_localstripe(proxy: RecordingProxy) -> None:
    gateway: PaymentGateway = gateway_for(proxy.url)  # mypy checks the protocol is implemented
    card = visa()
    token = await gateway.tokenize(card, idempotency_key="tok-ls-1")
    card.wipe()
    result = await gateway.charge(charge_request(token.token))
    await gateway.aclose()

    assert token.token.startswith("pm_")
    assert (token.brand, token.last4) == ("visa", "4242")
    assert result.status is ChargeStatus.SUCCEEDED
    assert result.reference is not None and result.reference.startswith("pi_")


async def test_exact_requests_keep_card_data_in_the_payment_method_call(
    proxy: RecordingProxy,
) -> None:
    gateway = gateway_for(proxy.url)
    token = await gateway.tokenize(visa(), idempotency_key="tok-key-1")
    result = await gateway.charge(charge_request(token.token))
    await gateway.aclose()

    assert result.status is ChargeStatus.SUCCEEDED
    tokenize_call, charge_call = proxy.requests
    assert (tokenize_call.method, tokenize_call.path) == ("POST", "/v1/payment_methods")
    assert tokenize_call.headers["Idempotency-Key"] == "tok-key-1"
    assert tokenize_call.form == {
        "type": "card",
        "card[number]": PAN,
        "card[exp_month]": str(EXP_MONTH),
        "card[exp_year]": str(EXP_YEAR),
        "card[cvc]": CVC,
        "billing_details[address][postal_code]": POSTAL,
    }
    assert (charge_call.method, charge_call.path) == ("POST", "/v1/payment_intents")
    assert charge_call.headers["Idempotency-Key"] == "charge-key-1"
    assert charge_call.form == {
        "amount": "1234",
        "currency": "eur",
        "payment_method": token.token,
        "allowed_payment_method_types[0]": "card",
        "confirm": "true",
        "payment_method_options[card][moto]": "true",
        "description": "VoicePay Utilities bill",
        "metadata[account]": "ACC-1001",
        "metadata[call_id]": "call-42",
    }
    assert card_data_in(charge_call.text()) == []


async def test_retried_charge_reuses_the_idempotency_key(proxy: RecordingProxy) -> None:
    async with gateway_at(proxy.url, retries=1) as (gateway, client):
        token = await gateway.tokenize(visa(), idempotency_key="tok-key-2")
        proxy.fail_next.append(503)
        first = await gateway.charge(charge_request(token.token, key="charge-key-2"))
        again = await gateway.charge(charge_request(token.token, key="charge-key-2"))

    assert first.status is ChargeStatus.SUCCEEDED and again.status is ChargeStatus.SUCCEEDED
    charges = [r for r in proxy.requests if r.path == "/v1/payment_intents"]
    assert len(charges) == 3
    assert {r.headers["Idempotency-Key"] for r in charges} == {"charge-key-2"}
    assert len({r.body for r in charges}) == 1
    assert len(client.sleeps) == 1


DECLINES = [
    ("card_declined", "generic_decline", DeclineReason.GENERIC, False),
    ("card_declined", "insufficient_funds", DeclineReason.INSUFFICIENT_FUNDS, False),
    ("card_declined", "lost_card", DeclineReason.LOST_OR_STOLEN, False),
    ("card_declined", "stolen_card", DeclineReason.LOST_OR_STOLEN, False),
    ("card_declined", "do_not_honor", DeclineReason.DO_NOT_HONOR, False),
    ("card_declined", "try_again_later", DeclineReason.TRY_AGAIN_LATER, True),
    ("card_declined", "some_future_code", DeclineReason.GENERIC, False),
    ("expired_card", "expired_card", DeclineReason.EXPIRED_CARD, False),
    ("incorrect_cvc", "incorrect_cvc", DeclineReason.INCORRECT_CVC, False),
    ("incorrect_number", None, DeclineReason.INCORRECT_NUMBER, False),
    ("processing_error", "processing_error", DeclineReason.PROCESSING_ERROR, True),
]


@pytest.mark.parametrize(("code", "decline_code", "reason", "retryable"), DECLINES)
async def test_card_errors_become_declines(
    code: str, decline_code: str | None, reason: DeclineReason, retryable: bool
) -> None:
    async with (
        ScriptedStripe(Scripted(402, card_error_body(code, decline_code))) as server,
        gateway_at(server.url) as (gateway, _),
    ):
        result = await gateway.charge(charge_request("pm_scripted"))

    assert result.status is ChargeStatus.DECLINED
    assert result.decline_reason is reason
    assert result.decline_code == (decline_code or code)
    assert result.retryable is retryable
    assert result.reference == "pi_declined"
    assert result.request_id == "req_scripted1"
    assert len(server.requests) == 1


async def test_server_error_is_retried_with_the_same_key() -> None:
    script = [server_error(), Scripted(200, payment_intent_body("pi_after_retry"))]
    async with ScriptedStripe(*script) as server, gateway_at(server.url) as (gateway, client):
        result = await gateway.charge(charge_request("pm_scripted"))

    assert result.status is ChargeStatus.SUCCEEDED
    assert result.reference == "pi_after_retry"
    assert [r.headers["Idempotency-Key"] for r in server.requests] == ["charge-key-1"] * 2
    assert server.requests[0].body == server.requests[1].body
    assert len(client.sleeps) == 1


async def test_server_errors_beyond_the_retries_fail_retryably() -> None:
    async with (
        ScriptedStripe(server_error(), server_error(), server_error()) as server,
        gateway_at(server.url) as (gateway, _),
    ):
        result = await gateway.charge(charge_request("pm_x"))

    assert result.status is ChargeStatus.FAILED
    assert (result.retryable, result.error_code) == (True, "api_error")
    assert [r.headers["Idempotency-Key"] for r in server.requests] == ["charge-key-1"] * 3


async def test_stripe_should_retry_false_stops_the_retries() -> None:
    no_retry = Scripted(500, server_error().body, headers={"Stripe-Should-Retry": "false"})
    async with (
        ScriptedStripe(no_retry, Scripted(200, payment_intent_body())) as server,
        gateway_at(server.url) as (gateway, _),
    ):
        result = await gateway.charge(charge_request("pm_x"))

    assert result.status is ChargeStatus.FAILED
    assert result.retryable is False
    assert len(server.requests) == 1


async def test_conflict_with_should_retry_true_is_retried() -> None:
    conflict = Scripted(
        409,
        error_body("invalid_request_error", "lock timeout", "lock_timeout"),
        headers={"Stripe-Should-Retry": "true"},
    )
    async with (
        ScriptedStripe(conflict, Scripted(200, payment_intent_body())) as server,
        gateway_at(server.url) as (gateway, _),
    ):
        result = await gateway.charge(charge_request("pm_x"))

    assert result.status is ChargeStatus.SUCCEEDED
    assert len(server.requests) == 2


async def test_hang_beyond_the_timeout_is_retried_with_the_same_key() -> None:
    script = [Scripted(200, payment_intent_body(), hang_s=5), Scripted(200, payment_intent_body())]
    async with (
        ScriptedStripe(*script) as server,
        gateway_at(server.url, retries=1, timeout_s=0.3) as (gateway, _),
    ):
        result = await gateway.charge(charge_request("pm_x"))

    assert result.status is ChargeStatus.SUCCEEDED
    assert [r.headers["Idempotency-Key"] for r in server.requests] == ["charge-key-1"] * 2


async def test_hangs_beyond_the_retries_fail_with_unknown_outcome() -> None:
    hang = Scripted(200, payment_intent_body(), hang_s=5)
    async with (
        ScriptedStripe(hang, hang) as server,
        gateway_at(server.url, retries=1, timeout_s=0.3) as (gateway, _),
    ):
        result = await gateway.charge(charge_request("pm_x"))

    assert result.status is ChargeStatus.FAILED
    assert (result.retryable, result.error_code) == (True, "api_connection_error")


@pytest.mark.parametrize(
    ("status", "body", "code"),
    [
        (
            400,
            error_body("idempotency_error", "Keys can only be reused with the same parameters"),
            "idempotency_error",
        ),
        (
            401,
            error_body("invalid_request_error", "Invalid API Key provided"),
            "authentication_error",
        ),
        (
            400,
            error_body("invalid_request_error", "No such PaymentMethod", "resource_missing"),
            "resource_missing",
        ),
    ],
)
async def test_request_errors_fail_without_retry(
    status: int, body: dict[str, object], code: str
) -> None:
    async with (
        ScriptedStripe(Scripted(status, body)) as server,
        gateway_at(server.url) as (gateway, _),
    ):
        result = await gateway.charge(charge_request("pm_x"))

    assert result.status is ChargeStatus.FAILED
    assert (result.retryable, result.error_code) == (False, code)
    assert len(server.requests) == 1


async def test_tokenize_rejection_carries_no_card_data() -> None:
    rejected = Scripted(402, card_error_body("incorrect_number", pi_id=None))
    async with ScriptedStripe(rejected) as server, gateway_at(server.url) as (gateway, _):
        with pytest.raises(CardRejected) as raised:
            await gateway.tokenize(visa(), idempotency_key="tok-1")

    error = raised.value
    assert error.reason is DeclineReason.INCORRECT_NUMBER
    assert error.__cause__ is None and error.__context__ is None
    assert card_data_in(f"{error} {error!r} {vars(error)}") == []


async def test_tokenize_server_errors_raise_gateway_unavailable() -> None:
    async with (
        ScriptedStripe(server_error(), server_error()) as server,
        gateway_at(server.url, retries=1) as (gateway, _),
    ):
        with pytest.raises(GatewayUnavailable) as raised:
            await gateway.tokenize(visa(), idempotency_key="tok-1")

    assert raised.value.retryable is True
    assert [r.headers["Idempotency-Key"] for r in server.requests] == ["tok-1"] * 2


async def test_no_card_data_in_any_log(
    proxy: RecordingProxy, caplog: pytest.LogCaptureFixture, capfd: pytest.CaptureFixture[str]
) -> None:
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger="stripe")
    gateway = gateway_for(proxy.url)
    token = await gateway.tokenize(visa(), idempotency_key="tok-log-1")
    await gateway.charge(charge_request(token.token, key="charge-log-1"))
    await gateway.aclose()
    declined = Scripted(402, card_error_body("card_declined", "insufficient_funds"))
    async with (
        ScriptedStripe(Scripted(200, payment_method_body()), declined) as server,
        gateway_at(server.url) as (scripted, _),
    ):
        token = await scripted.tokenize(visa(), idempotency_key="tok-log-2")
        await scripted.charge(charge_request(token.token))

    sdk_messages = [r.getMessage() for r in caplog.records if r.name == "stripe"]
    assert any("Request to Stripe api" in message for message in sdk_messages)
    everything = "\n".join(f"{record.getMessage()} {vars(record)}" for record in caplog.records)
    captured = capfd.readouterr()
    assert card_data_in(everything) == []
    assert card_data_in(captured.out + captured.err) == []


async def test_token_repr_hides_the_expiry() -> None:
    async with (
        ScriptedStripe(Scripted(200, payment_method_body("pm_repr"))) as server,
        gateway_at(server.url) as (gateway, _),
    ):
        token = await gateway.tokenize(visa(), idempotency_key="tok-1")

    assert token.exp_year == EXP_YEAR
    assert card_data_in(repr(token)) == []
