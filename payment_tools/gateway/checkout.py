"""Secure payment links: a one-time Stripe Checkout Session for the agreed amount.

The caller pays on a page the processor hosts, so no card data ever reaches VoicePay; the result
comes back as a signed webhook (``checkout.session.completed`` or ``checkout.session.expired``).
:func:`create_stripe_checkout` is the production request; the sandbox serves a local page instead
(:mod:`payment_tools.gateway.checkout_sandbox`). :func:`sign_payload` makes the ``Stripe-Signature``
header exactly as Stripe does, for the sandbox's own events and for tests.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import MappingProxyType
from typing import Protocol

import stripe
from stripe.params.checkout import SessionCreateParams

from payment_tools.gateway.base import check_amount_and_key
from payment_tools.gateway.errors import GatewayError, map_stripe_error
from payment_tools.secure_card import MaskedCard

_LOCALES = frozenset({"en", "fr"})


@dataclass(frozen=True, slots=True)
class CheckoutRequest:
    """One payment link for an agreed amount.

    Args:
        amount_minor: amount in minor units, greater than zero.
        currency: upper-case ISO 4217 code.
        idempotency_key: derived from the agreed terms, so that asking twice gives one link.
        description: the line item's name on the payment page.
        expires_at: when the link stops working (Stripe: 30 minutes to 24 hours ahead).
        success_url: where the payment page sends the caller once paid.
        metadata: account and call identifiers (copied onto the PaymentIntent too).
        locale: the page's language (``en`` or ``fr``).

    Raises:
        ValueError: a field is out of range.
    """

    amount_minor: int
    currency: str
    idempotency_key: str
    description: str
    expires_at: datetime
    success_url: str
    metadata: Mapping[str, str] = field(default_factory=dict)
    locale: str = "en"

    def __post_init__(self) -> None:
        check_amount_and_key(self.amount_minor, self.currency, self.idempotency_key)
        if self.expires_at.tzinfo is None:
            raise ValueError("expires_at must be timezone-aware")
        if self.locale not in _LOCALES:
            raise ValueError("locale must be en or fr")
        object.__setattr__(self, "metadata", MappingProxyType(dict(self.metadata)))


@dataclass(frozen=True, slots=True)
class CheckoutLink:
    """A created payment link: the Checkout Session id, its URL and its expiry."""

    session_id: str
    url: str
    expires_at: datetime


class CheckoutGateway(Protocol):
    """A processor that can create payment links and say which card paid one."""

    async def create_checkout(self, request: CheckoutRequest) -> CheckoutLink:
        """Create (or, for a reused idempotency key, return again) the link for ``request``.

        Raises:
            GatewayError: the processor refused or could not be reached.
        """
        ...

    async def paid_card(self, payment_intent: str) -> MaskedCard | None:
        """Brand and last four of the card that paid ``payment_intent``, if known.

        Raises:
            GatewayError: the processor refused or could not be reached.
        """
        ...


def checkout_params(request: CheckoutRequest) -> SessionCreateParams:
    """The Checkout Session parameters of ``request`` (``mode=payment``, one line item)."""
    metadata = dict(request.metadata)
    return {
        "mode": "payment",
        "line_items": [
            {
                "quantity": 1,
                "price_data": {
                    "currency": request.currency.lower(),
                    "unit_amount": request.amount_minor,
                    "product_data": {"name": request.description},
                },
            }
        ],
        "allowed_payment_method_types": ["card"],
        "metadata": metadata,
        "payment_intent_data": {"metadata": metadata},
        "client_reference_id": metadata.get("call_id", ""),
        "expires_at": int(request.expires_at.timestamp()),
        "success_url": request.success_url,
        "locale": request.locale,
    }


async def create_stripe_checkout(
    client: stripe.StripeClient, request: CheckoutRequest
) -> CheckoutLink:
    """Create the Checkout Session of ``request`` with its idempotency key.

    Raises:
        GatewayError: mapped from the SDK's error (the SDK retried connection errors first).
    """
    try:
        session = await client.v1.checkout.sessions.create_async(
            params=checkout_params(request), options={"idempotency_key": request.idempotency_key}
        )
    except Exception as exc:
        error = map_stripe_error(exc)
    else:
        if not session.url:
            raise GatewayError("checkout_without_url")
        return CheckoutLink(
            session_id=session.id,
            url=session.url,
            expires_at=datetime.fromtimestamp(session.expires_at, UTC),
        )
    raise error


async def stripe_paid_card(client: stripe.StripeClient, payment_intent: str) -> MaskedCard | None:
    """The card of a PaymentIntent's latest charge (``expand[]=latest_charge``), masked.

    Raises:
        GatewayError: mapped from the SDK's error.
    """
    try:
        intent = await client.v1.payment_intents.retrieve_async(
            payment_intent, params={"expand": ["latest_charge"]}
        )
    except Exception as exc:
        error = map_stripe_error(exc)
    else:
        charge = intent.latest_charge
        details = charge.payment_method_details if isinstance(charge, stripe.Charge) else None
        card = details.card if details is not None else None
        if card is None or card.last4 is None:
            return None
        return MaskedCard(brand=str(card.brand or "card"), last4=card.last4)
    raise error


def sign_payload(payload: bytes, secret: str, *, timestamp: int) -> str:
    """The ``Stripe-Signature`` header of ``payload`` signed with an endpoint secret at a time."""
    signed = f"{timestamp}.".encode() + payload
    digest = hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"
