"""Payment gateways: tokenize a captured card, then charge the token exactly once.

:class:`SandboxGateway` is the offline default with Stripe's test-card and idempotency semantics;
:class:`StripeGateway` talks to Stripe (or localstripe) through the official SDK.
"""

from payment_tools.gateway.base import (
    CardToken,
    ChargeRequest,
    ChargeResult,
    ChargeStatus,
    DeclineReason,
    PaymentGateway,
    SavedCard,
)
from payment_tools.gateway.checkout import CheckoutGateway, CheckoutLink, CheckoutRequest
from payment_tools.gateway.checkout_sandbox import SandboxCheckout
from payment_tools.gateway.errors import (
    CardRejected,
    GatewayError,
    GatewayUnavailable,
    map_stripe_error,
)
from payment_tools.gateway.sandbox import Fault, FaultPlan, LedgerEntry, SandboxGateway
from payment_tools.gateway.stripe_gateway import StripeGateway

__all__ = [
    "CardRejected",
    "CardToken",
    "ChargeRequest",
    "ChargeResult",
    "ChargeStatus",
    "CheckoutGateway",
    "CheckoutLink",
    "CheckoutRequest",
    "DeclineReason",
    "Fault",
    "FaultPlan",
    "GatewayError",
    "GatewayUnavailable",
    "LedgerEntry",
    "PaymentGateway",
    "SandboxCheckout",
    "SandboxGateway",
    "SavedCard",
    "StripeGateway",
    "map_stripe_error",
]
