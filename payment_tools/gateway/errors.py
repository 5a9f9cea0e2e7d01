"""One error hierarchy for every gateway, and the single mapping from Stripe SDK errors into it.

Gateway errors carry codes and ids only. The SDK's exceptions are never chained into them: their
bodies can echo the PaymentMethod (with its expiry) and their tracebacks reach frames that held
card data, so callers raise the mapped error outside the ``except`` block.
"""

from __future__ import annotations

import re

import aiohttp
import stripe

from payment_tools.gateway.base import DeclineReason

_SAFE_CODE = re.compile(r"[a-z0-9_]{1,64}")

# Stripe error codes and decline codes (docs.stripe.com/declines/codes), grouped by caller wording.
_DECLINE_REASONS: dict[str, DeclineReason] = {
    "generic_decline": DeclineReason.GENERIC,
    "card_declined": DeclineReason.GENERIC,
    "fraudulent": DeclineReason.GENERIC,
    "merchant_blacklist": DeclineReason.GENERIC,
    "duplicate_transaction": DeclineReason.GENERIC,
    "insufficient_funds": DeclineReason.INSUFFICIENT_FUNDS,
    "card_velocity_exceeded": DeclineReason.INSUFFICIENT_FUNDS,
    "withdrawal_count_limit_exceeded": DeclineReason.INSUFFICIENT_FUNDS,
    "expired_card": DeclineReason.EXPIRED_CARD,
    "invalid_expiry_month": DeclineReason.INVALID_EXPIRY,
    "invalid_expiry_year": DeclineReason.INVALID_EXPIRY,
    "incorrect_cvc": DeclineReason.INCORRECT_CVC,
    "invalid_cvc": DeclineReason.INCORRECT_CVC,
    "incorrect_number": DeclineReason.INCORRECT_NUMBER,
    "invalid_number": DeclineReason.INCORRECT_NUMBER,
    "incorrect_zip": DeclineReason.INCORRECT_POSTAL_CODE,
    "card_not_supported": DeclineReason.CARD_NOT_SUPPORTED,
    "currency_not_supported": DeclineReason.CARD_NOT_SUPPORTED,
    "service_not_allowed": DeclineReason.CARD_NOT_SUPPORTED,
    "transaction_not_allowed": DeclineReason.CARD_NOT_SUPPORTED,
    "do_not_honor": DeclineReason.DO_NOT_HONOR,
    "do_not_try_again": DeclineReason.DO_NOT_HONOR,
    "call_issuer": DeclineReason.DO_NOT_HONOR,
    "new_account_information_needed": DeclineReason.DO_NOT_HONOR,
    "no_action_taken": DeclineReason.DO_NOT_HONOR,
    "not_permitted": DeclineReason.DO_NOT_HONOR,
    "revocation_of_authorization": DeclineReason.DO_NOT_HONOR,
    "security_violation": DeclineReason.DO_NOT_HONOR,
    "stop_payment_order": DeclineReason.DO_NOT_HONOR,
    "lost_card": DeclineReason.LOST_OR_STOLEN,
    "stolen_card": DeclineReason.LOST_OR_STOLEN,
    "pickup_card": DeclineReason.LOST_OR_STOLEN,
    "restricted_card": DeclineReason.LOST_OR_STOLEN,
    "processing_error": DeclineReason.PROCESSING_ERROR,
    "try_again_later": DeclineReason.TRY_AGAIN_LATER,
    "issuer_not_available": DeclineReason.TRY_AGAIN_LATER,
    "reenter_transaction": DeclineReason.TRY_AGAIN_LATER,
    "approve_with_id": DeclineReason.TRY_AGAIN_LATER,
    # Off-session charges only: Stripe sends it as both code and decline code.
    "authentication_required": DeclineReason.AUTHENTICATION_REQUIRED,
}


class GatewayError(Exception):
    """A processor or connector failure.

    Args:
        code: a machine-readable code such as ``authentication_error`` or ``idempotency_error``.
        retryable: whether retrying with the same idempotency key is safe and may succeed.
        request_id: the processor's request id, when there was a response.
    """

    def __init__(self, code: str, *, retryable: bool = False, request_id: str | None = None):
        super().__init__(f"payment gateway error: {code}")
        self.code = code
        self.retryable = retryable
        self.request_id = request_id


class CardRejected(GatewayError):
    """The processor refused the card.

    Args:
        reason: the caller-facing reason.
        decline_code: the processor's raw decline code.
        request_id: the processor's request id.
        reference: the payment the processor created for the attempt, if any.
    """

    def __init__(
        self,
        reason: DeclineReason,
        *,
        decline_code: str | None = None,
        request_id: str | None = None,
        reference: str | None = None,
    ):
        super().__init__("card_declined", retryable=reason.retryable, request_id=request_id)
        self.reason = reason
        self.decline_code = decline_code
        self.reference = reference


class GatewayUnavailable(GatewayError):
    """The processor could not be reached, timed out or failed; the outcome is unknown."""


def safe_code(code: str | None) -> str | None:
    """Return ``code`` if it looks like a processor code, so no free text reaches a log line."""
    if code is None or _SAFE_CODE.fullmatch(code) is None:
        return None
    return code


def decline_reason(code: str | None, decline_code: str | None = None) -> DeclineReason:
    """Map a processor error code and decline code to the caller-facing reason.

    The decline code is more specific, so it wins; unknown codes map to ``generic``.
    """
    for candidate in (decline_code, code):
        if candidate is not None and candidate in _DECLINE_REASONS:
            return _DECLINE_REASONS[candidate]
    return DeclineReason.GENERIC


def map_stripe_error(exc: Exception) -> GatewayError:
    """Translate an exception raised by a Stripe SDK call into a :class:`GatewayError`.

    Transport errors that escape the SDK (a timeout while reading a response body) are
    connector errors too.
    """
    if not isinstance(exc, stripe.StripeError):
        if isinstance(exc, TimeoutError):
            return GatewayUnavailable("timeout", retryable=True)
        if isinstance(exc, aiohttp.ClientError | OSError):
            return GatewayUnavailable("api_connection_error", retryable=True)
        return GatewayError("internal_error")
    request_id = exc.request_id
    if isinstance(exc, stripe.CardError):
        error = exc.error
        decline_code = safe_code(error.decline_code if error is not None else None)
        code = safe_code(exc.code)
        intent = error.payment_intent if error is not None else None
        return CardRejected(
            decline_reason(code, decline_code),
            decline_code=decline_code or code,
            request_id=request_id,
            reference=intent.id if intent is not None else None,
        )
    if isinstance(exc, stripe.APIConnectionError):
        return GatewayUnavailable("api_connection_error", retryable=True, request_id=request_id)
    if isinstance(exc, stripe.RateLimitError):
        return GatewayUnavailable("rate_limit", retryable=True, request_id=request_id)
    if isinstance(exc, stripe.APIError):
        # Stripe sets Stripe-Should-Retry: false when a retry would only replay this failure.
        should_retry = (exc.headers or {}).get("stripe-should-retry") != "false"
        return GatewayUnavailable("api_error", retryable=should_retry, request_id=request_id)
    if isinstance(exc, stripe.IdempotencyError):
        return GatewayError("idempotency_error", request_id=request_id)
    if isinstance(exc, stripe.AuthenticationError):
        return GatewayError("authentication_error", request_id=request_id)
    if isinstance(exc, stripe.PermissionError):
        return GatewayError("permission_error", request_id=request_id)
    if isinstance(exc, stripe.InvalidRequestError):
        return GatewayError(safe_code(exc.code) or "invalid_request_error", request_id=request_id)
    return GatewayError("stripe_error", request_id=request_id)
