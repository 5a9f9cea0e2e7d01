"""Stripe gateway: PaymentMethods for tokens, Customers for saved cards, PaymentIntents for charges.

A charge with the caller on the line is a confirmed MOTO PaymentIntent; saving its card adds the
customer and ``setup_future_usage=off_session`` (Stripe attaches the card once the charge
succeeds). A later charge of the saved card with the caller absent is an ``off_session``
PaymentIntent, which is not MOTO.

Built on the official SDK's ``StripeClient`` and its async methods. Every request carries an
idempotency key and goes through the SDK's single retry policy (connection errors, timeouts,
409 and 5xx, honouring ``Stripe-Should-Retry``, exponential backoff with jitter), which resends
with the same key. Sending raw card numbers and MOTO both need Stripe's approval on the account.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import aiohttp
import stripe
from stripe.params import (
    CustomerCreateParams,
    PaymentIntentCreateParams,
    PaymentMethodCreateParams,
)

from payment_tools.gateway._stripe_logging import guard_sdk_logging, sdk_prints_bodies
from payment_tools.gateway.base import (
    CardToken,
    ChargeRequest,
    ChargeResult,
    ChargeStatus,
    DeclineReason,
    check_customer_request,
)
from payment_tools.gateway.checkout import (
    CheckoutLink,
    CheckoutRequest,
    create_stripe_checkout,
    stripe_paid_card,
)
from payment_tools.gateway.errors import (
    CardRejected,
    GatewayError,
    decline_reason,
    map_stripe_error,
    safe_code,
)
from payment_tools.secure_card import MaskedCard, SecureCard

logger = logging.getLogger(__name__)

_MISSING_KEY = (
    "a Stripe API key is required: set VOICEPAY_PAYMENTS__STRIPE_API_KEY or STRIPE_API_KEY"
)
_PRINTS_BODIES = (
    "stripe.log / STRIPE_LOG is 'debug': the Stripe SDK would print card data to stderr"
)


@dataclass(frozen=True, slots=True)
class _StripeOptions:
    api_key: str = field(repr=False)
    api_base: str | None
    max_network_retries: int
    timeout_s: float


class StripeGateway:
    """:class:`~payment_tools.gateway.base.PaymentGateway` on the Stripe API.

    Args:
        api_key: secret or restricted key allowed to create PaymentMethods and PaymentIntents.
        api_base: API base URL; ``None`` for Stripe, or a local emulator such as localstripe.
        max_network_retries: retries of one request by the SDK, with the same idempotency key.
        timeout_s: timeout of one HTTP attempt of the default client; the SDK retries a timeout
            like a connection error.
        http_client: the SDK HTTP client to use (must support async); by default an
            ``AIOHTTPClient`` owned and closed by this gateway. An injected client is the caller's
            to close.

    Raises:
        ValueError: the API key is missing, or the SDK is set to print request bodies.
    """

    name = "stripe"

    def __init__(
        self,
        *,
        api_key: str | None,
        api_base: str | None = None,
        max_network_retries: int = 2,
        timeout_s: float = 20.0,
        http_client: stripe.HTTPClient | None = None,
    ) -> None:
        if not api_key:
            raise ValueError(_MISSING_KEY)
        if sdk_prints_bodies():
            raise ValueError(_PRINTS_BODIES)
        guard_sdk_logging()
        self._opts = _StripeOptions(
            api_key=api_key,
            api_base=api_base,
            max_network_retries=max_network_retries,
            timeout_s=timeout_s,
        )
        self._owns_http_client = http_client is None
        self._http_client = http_client or stripe.AIOHTTPClient(
            timeout=aiohttp.ClientTimeout(total=self._opts.timeout_s)
        )
        self._client = stripe.StripeClient(
            self._opts.api_key,
            base_addresses={"api": self._opts.api_base} if self._opts.api_base else None,
            max_network_retries=self._opts.max_network_retries,
            http_client=self._http_client,
        )

    async def tokenize(self, card: SecureCard, *, idempotency_key: str) -> CardToken:
        """Create a card PaymentMethod; the caller wipes ``card`` afterwards.

        Raises:
            CardRejected: Stripe refused the card (e.g. ``incorrect_number``).
            GatewayUnavailable: connection error, timeout or Stripe server error after the SDK's
                retries; retry with the same idempotency key.
            GatewayError: any other Stripe error, or the SDK was set to print request bodies.
        """
        if sdk_prints_bodies():
            raise GatewayError("unsafe_sdk_logging")
        try:
            token = await self._create_payment_method(card, idempotency_key)
        except Exception as exc:
            error = map_stripe_error(exc)
        else:
            masked = card.masked
            return CardToken(
                token=token,
                brand=masked.brand,
                last4=masked.last4,
                exp_month=card.exp_month,
                exp_year=card.exp_year,
            )
        logger.warning(
            "stripe tokenize failed",
            extra={"error_code": error.code, "request_id": error.request_id},
        )
        # Raised outside the except block so the SDK error, whose body and traceback may hold
        # card data, is neither chained nor kept alive.
        raise error

    async def _create_payment_method(self, card: SecureCard, idempotency_key: str) -> str:
        number, cvc, postal_code = card.reveal()
        params: PaymentMethodCreateParams = {
            "type": "card",
            "card": {"number": number, "exp_month": card.exp_month, "exp_year": card.exp_year},
        }
        if cvc:
            params["card"]["cvc"] = cvc
        if postal_code:
            params["billing_details"] = {"address": {"postal_code": postal_code}}
        method = await self._client.v1.payment_methods.create_async(
            params=params, options={"idempotency_key": idempotency_key}
        )
        return method.id

    async def create_customer(self, *, account_number: str, idempotency_key: str) -> str:
        """Create the Customer an account's saved card belongs to; returns its ``cus_...`` id.

        Raises:
            ValueError: the account number or idempotency key is empty.
            GatewayUnavailable: connection error, timeout or Stripe server error after the SDK's
                retries; retry with the same idempotency key.
            GatewayError: any other Stripe error (configuration, idempotency conflict).
        """
        check_customer_request(account_number, idempotency_key)
        params: CustomerCreateParams = {"metadata": {"account_number": account_number}}
        try:
            customer = await self._client.v1.customers.create_async(
                params=params, options={"idempotency_key": idempotency_key}
            )
        except Exception as exc:
            error = map_stripe_error(exc)
        else:
            return customer.id
        logger.warning(
            "stripe create_customer failed",
            extra={"error_code": error.code, "request_id": error.request_id},
        )
        raise error

    async def charge(self, request: ChargeRequest) -> ChargeResult:
        """Create and confirm a PaymentIntent; declines and errors become results."""
        try:
            intent = await self._client.v1.payment_intents.create_async(
                params=_intent_params(request),
                options={"idempotency_key": request.idempotency_key},
            )
        except Exception as exc:
            result = _result_from_error(map_stripe_error(exc))
        else:
            result = _result_from_intent(intent, off_session=request.off_session)
        logger.info(
            "stripe charge finished",
            extra={
                "status": result.status.value,
                "decline_code": result.decline_code,
                "error_code": result.error_code,
                "reference": result.reference,
                "request_id": result.request_id,
            },
        )
        return result

    async def create_checkout(self, request: CheckoutRequest) -> CheckoutLink:
        """Create a Checkout Session for a secure payment link (no card data passes here).

        Raises:
            GatewayError: Stripe refused the request or could not be reached.
        """
        return await create_stripe_checkout(self._client, request)

    async def paid_card(self, payment_intent: str) -> MaskedCard | None:
        """Brand and last four of the card that paid a link's PaymentIntent.

        Raises:
            GatewayError: Stripe refused the request or could not be reached.
        """
        return await stripe_paid_card(self._client, payment_intent)

    async def aclose(self) -> None:
        """Close the HTTP client if this gateway created it."""
        if self._owns_http_client:
            # stripe-python leaves HTTPClient.close_async unannotated.
            await self._http_client.close_async()  # type: ignore[no-untyped-call]


def _intent_params(request: ChargeRequest) -> PaymentIntentCreateParams:
    params: PaymentIntentCreateParams = {
        "amount": request.amount_minor,
        "currency": request.currency.lower(),
        "payment_method": request.token,
        # Card only, so Stripe never asks for a return_url (payment_method_types is gone
        # since API version 2026-09-30.endive).
        "allowed_payment_method_types": ["card"],
        "confirm": True,
        "metadata": dict(request.metadata),
    }
    if request.off_session:
        # Merchant-initiated, caller absent: not a MOTO payment, and Stripe fails the charge
        # (authentication_required) instead of waiting for an authentication nobody can give.
        params["off_session"] = True
    else:
        params["payment_method_options"] = {"card": {"moto": True}}
    if request.customer is not None:
        params["customer"] = request.customer
    if request.save_card:
        params["setup_future_usage"] = "off_session"
    if request.description:
        params["description"] = request.description
    return params


def _result_from_intent(intent: stripe.PaymentIntent, *, off_session: bool) -> ChargeResult:
    response = intent.last_response
    request_id = response.request_id if response is not None else None
    if intent.status in ("succeeded", "requires_capture"):
        return ChargeResult(
            status=ChargeStatus.SUCCEEDED, reference=intent.id, request_id=request_id
        )
    if off_session and intent.status == "requires_action":
        # Stripe answers authentication_required instead; emulators (localstripe) leave the
        # intent waiting for an authentication that cannot happen with the customer absent.
        reason = DeclineReason.AUTHENTICATION_REQUIRED
        return ChargeResult(
            status=ChargeStatus.DECLINED,
            reference=intent.id,
            decline_reason=reason,
            decline_code=reason.value,
            request_id=request_id,
        )
    if intent.status == "requires_payment_method":
        error = intent.last_payment_error
        code = safe_code(error.code if error is not None else None)
        decline_code = safe_code(error.decline_code if error is not None else None)
        reason = decline_reason(code, decline_code)
        return ChargeResult(
            status=ChargeStatus.DECLINED,
            reference=intent.id,
            decline_reason=reason,
            decline_code=decline_code or code,
            retryable=reason.retryable,
            request_id=request_id,
        )
    # "processing" settles later and a same-key retry would only replay it; the other statuses
    # need steps a phone payment cannot take. Either way the payment is not made yet.
    return ChargeResult(
        status=ChargeStatus.FAILED,
        reference=intent.id,
        request_id=request_id,
        error_code=f"payment_intent_{intent.status}",
    )


def _result_from_error(error: GatewayError) -> ChargeResult:
    if isinstance(error, CardRejected):
        return ChargeResult(
            status=ChargeStatus.DECLINED,
            reference=error.reference,
            decline_reason=error.reason,
            decline_code=error.decline_code,
            retryable=error.retryable,
            request_id=error.request_id,
        )
    return ChargeResult(
        status=ChargeStatus.FAILED,
        retryable=error.retryable,
        request_id=error.request_id,
        error_code=error.code,
    )
