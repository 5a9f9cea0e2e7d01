"""Payment links on Stripe: the exact Checkout Session requests the gateway sends.

localstripe 1.15.10 has no Checkout, so a scripted local Stripe answers and records each request.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from stripe_server import NoBackoffClient, Scripted, ScriptedStripe, error_body, server_error

from payment_tools.gateway import CheckoutRequest, GatewayError, StripeGateway

EXPIRES = datetime(2026, 11, 27, 18, 0, tzinfo=UTC)


def request(key: str = "call-42:link:0:25999:USD") -> CheckoutRequest:
    return CheckoutRequest(
        amount_minor=25999,
        currency="USD",
        idempotency_key=key,
        description="VoicePay Utilities balance payment",
        expires_at=EXPIRES,
        success_url="https://example.com/paid",
        metadata={"account": "50223344", "call_id": "call-42"},
        locale="fr",
    )


def session_body(session_id: str = "cs_test_1") -> dict[str, Any]:
    return {
        "id": session_id,
        "object": "checkout.session",
        "mode": "payment",
        "status": "open",
        "url": f"https://checkout.stripe.com/c/pay/{session_id}",
        "expires_at": int(EXPIRES.timestamp()),
        "amount_total": 25999,
        "currency": "usd",
    }


async def create(*script: Scripted) -> tuple[Any, ScriptedStripe]:
    async with ScriptedStripe(*script) as server:
        client = NoBackoffClient()
        gateway = StripeGateway(api_key="sk_test_x", api_base=server.url, http_client=client)
        try:
            return await gateway.create_checkout(request()), server
        except GatewayError as error:
            return error, server
        finally:
            await gateway.aclose()
            await client.aclose()


async def test_checkout_session_request_has_the_agreed_terms_and_metadata() -> None:
    link, server = await create(Scripted(200, session_body()))

    assert link.session_id == "cs_test_1"
    assert link.url == "https://checkout.stripe.com/c/pay/cs_test_1"
    assert link.expires_at == EXPIRES
    [sent] = server.requests
    assert (sent.method, sent.path) == ("POST", "/v1/checkout/sessions")
    assert sent.headers["Idempotency-Key"] == "call-42:link:0:25999:USD"
    assert sent.form == {
        "mode": "payment",
        "line_items[0][quantity]": "1",
        "line_items[0][price_data][currency]": "usd",
        "line_items[0][price_data][unit_amount]": "25999",
        "line_items[0][price_data][product_data][name]": "VoicePay Utilities balance payment",
        "allowed_payment_method_types[0]": "card",
        "metadata[account]": "50223344",
        "metadata[call_id]": "call-42",
        "payment_intent_data[metadata][account]": "50223344",
        "payment_intent_data[metadata][call_id]": "call-42",
        "client_reference_id": "call-42",
        "expires_at": str(int(EXPIRES.timestamp())),
        "success_url": "https://example.com/paid",
        "locale": "fr",
    }


async def test_a_server_error_is_retried_with_the_same_key_and_body() -> None:
    link, server = await create(server_error(), Scripted(200, session_body("cs_after_retry")))

    assert link.session_id == "cs_after_retry"
    assert [r.headers["Idempotency-Key"] for r in server.requests] == [
        "call-42:link:0:25999:USD"
    ] * 2
    assert server.requests[0].body == server.requests[1].body


async def test_a_refused_session_is_a_gateway_error() -> None:
    refused = Scripted(
        400,
        error_body(
            "idempotency_error",
            "Keys for idempotent requests can only be used with the same parameters",
        ),
    )
    error, server = await create(refused)

    assert isinstance(error, GatewayError)
    assert len(server.requests) == 1


def test_a_request_refuses_a_naive_expiry_and_other_languages() -> None:
    with pytest.raises(ValueError, match="timezone"):
        CheckoutRequest(
            amount_minor=1,
            currency="USD",
            idempotency_key="k",
            description="d",
            expires_at=datetime(2026, 1, 1),
            success_url="https://example.com",
        )
    with pytest.raises(ValueError, match="locale"):
        CheckoutRequest(
            amount_minor=1,
            currency="USD",
            idempotency_key="k",
            description="d",
            expires_at=EXPIRES,
            success_url="https://example.com",
            locale="de",
        )


async def test_the_paying_card_is_read_from_the_payment_intents_latest_charge() -> None:
    intent = {
        "id": "pi_link_1",
        "object": "payment_intent",
        "status": "succeeded",
        "latest_charge": {
            "id": "ch_1",
            "object": "charge",
            "payment_method_details": {
                "type": "card",
                "card": {"brand": "mastercard", "last4": "4444", "exp_month": 9, "exp_year": 2031},
            },
        },
    }
    async with ScriptedStripe(Scripted(200, intent)) as server:
        client = NoBackoffClient()
        gateway = StripeGateway(api_key="sk_test_x", api_base=server.url, http_client=client)
        try:
            card = await gateway.paid_card("pi_link_1")
        finally:
            await gateway.aclose()
            await client.aclose()

    assert card is not None and (card.brand, card.last4) == ("mastercard", "4444")
    [sent] = server.requests
    assert sent.method == "GET"
    assert sent.path == "/v1/payment_intents/pi_link_1?expand%5B0%5D=latest_charge"
