"""The payment gateway interface: card tokens, charge requests and their outcomes.

Only :meth:`PaymentGateway.tokenize` ever sees a :class:`~payment_tools.secure_card.SecureCard`;
everything after it works with a :class:`CardToken`, which carries no card number or security
code, so a charge request, its result and its metadata are safe to log and to store.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType
from typing import Protocol

from payment_tools.secure_card import SecureCard

_CURRENCY = re.compile(r"[A-Z]{3}")


def check_amount_and_key(amount_minor: int, currency: str, idempotency_key: str) -> None:
    """Refuse a request whose amount, currency or idempotency key is malformed.

    Raises:
        ValueError: Says which field is wrong.
    """
    if isinstance(amount_minor, bool) or amount_minor <= 0:
        raise ValueError("amount_minor must be a positive integer")
    if _CURRENCY.fullmatch(currency) is None:
        raise ValueError("currency must be an upper-case ISO 4217 code")
    if not idempotency_key:
        raise ValueError("idempotency_key must not be empty")


def check_customer_request(account_number: str, idempotency_key: str) -> None:
    """Refuse a customer creation without an account number or idempotency key.

    Raises:
        ValueError: Says which field is empty.
    """
    if not account_number:
        raise ValueError("account_number must not be empty")
    if not idempotency_key:
        raise ValueError("idempotency_key must not be empty")


# Stripe's metadata limits: 50 keys, 40-character keys, 500-character values.
_MAX_METADATA_KEYS = 50
_MAX_METADATA_KEY_LENGTH = 40
_MAX_METADATA_VALUE_LENGTH = 500


@dataclass(frozen=True, slots=True)
class CardToken:
    """A processor's reusable reference to a card, e.g. a Stripe PaymentMethod id.

    The expiry is kept out of ``repr`` so that logging a token cannot leak it.
    """

    token: str
    brand: str
    last4: str
    exp_month: int = field(repr=False)
    exp_year: int = field(repr=False)


@dataclass(frozen=True, slots=True)
class SavedCard:
    """A card kept on file with the processor, under the caller's consent; carries no card data."""

    customer: str  # processor customer id (Stripe cus_...)
    token: str  # PaymentMethod id attached to that customer
    brand: str
    last4: str


@dataclass(frozen=True, slots=True)
class ChargeRequest:
    """One charge of a tokenized card, in minor units of an ISO 4217 currency.

    Args:
        token: the :attr:`CardToken.token` to charge.
        amount_minor: amount in minor units (cents), greater than zero.
        currency: upper-case ISO 4217 code, e.g. ``"EUR"``.
        idempotency_key: the key that makes a retried charge safe; reuse it for every retry.
        description: shown on the processor's dashboard.
        metadata: account and call identifiers; never card data.
        customer: the processor customer (Stripe ``cus_...``) the charge is made for.
        save_card: keep the card on file under ``customer`` for later off-session charges
            (Stripe ``setup_future_usage=off_session``); needs ``customer``. The card is kept
            only if the charge succeeds.
        off_session: a merchant-initiated charge of a card saved under ``customer`` while the
            caller is absent, so not MOTO; needs ``customer``, excludes ``save_card``. An
            on-session charge with a customer (a returning caller on the line) stays MOTO.

    Raises:
        ValueError: a field is out of range, or the saved-card fields do not fit together.
    """

    token: str
    amount_minor: int
    currency: str
    idempotency_key: str
    description: str = ""
    metadata: Mapping[str, str] = field(default_factory=dict)
    customer: str | None = None
    save_card: bool = False
    off_session: bool = False

    def __post_init__(self) -> None:
        check_amount_and_key(self.amount_minor, self.currency, self.idempotency_key)
        if not self.token:
            raise ValueError("token must not be empty")
        if self.customer == "":
            raise ValueError("customer must not be empty")
        if (self.save_card or self.off_session) and self.customer is None:
            raise ValueError("save_card and off_session need a customer")
        if self.save_card and self.off_session:
            raise ValueError("save_card and off_session are mutually exclusive")
        if len(self.metadata) > _MAX_METADATA_KEYS or any(
            len(key) > _MAX_METADATA_KEY_LENGTH or len(value) > _MAX_METADATA_VALUE_LENGTH
            for key, value in self.metadata.items()
        ):
            raise ValueError("metadata exceeds the processor's limits")
        object.__setattr__(self, "metadata", MappingProxyType(dict(self.metadata)))


class ChargeStatus(StrEnum):
    """How a charge ended.

    ``failed`` means the processor or the connection failed and the outcome is unknown: the card
    may or may not have been charged, so the caller must retry with the same idempotency key.
    """

    SUCCEEDED = "succeeded"
    DECLINED = "declined"
    FAILED = "failed"


class DeclineReason(StrEnum):
    """Why a processor refused a card, grouped by what the caller is told.

    - ``generic``: declined without a usable reason (also fraud suspicions, per Stripe's advice).
    - ``insufficient_funds``: balance or credit limit exceeded; another card may work.
    - ``expired_card``: the card has expired.
    - ``invalid_expiry``: the expiry date was not accepted; re-enter it.
    - ``incorrect_cvc``: the security code is wrong; re-enter it.
    - ``incorrect_number``: the card number is wrong; re-enter it.
    - ``incorrect_postal_code``: the billing postal code is wrong.
    - ``card_not_supported``: this card cannot make this kind of payment.
    - ``do_not_honor``: the issuer refused; the caller should contact their bank.
    - ``lost_or_stolen``: the issuer blocked the card. Never accuse the caller: say only that
      "this card can't be used" and offer another card.
    - ``processing_error``: the processor failed while charging; a new attempt may succeed.
    - ``try_again_later``: the issuer asked for a later retry; a new attempt may succeed.
    - ``authentication_required``: the issuer wants the cardholder to authenticate, which an
      off-session charge cannot do; ask the customer to pay while present.
    """

    GENERIC = "generic"
    INSUFFICIENT_FUNDS = "insufficient_funds"
    EXPIRED_CARD = "expired_card"
    INVALID_EXPIRY = "invalid_expiry"
    INCORRECT_CVC = "incorrect_cvc"
    INCORRECT_NUMBER = "incorrect_number"
    INCORRECT_POSTAL_CODE = "incorrect_postal_code"
    CARD_NOT_SUPPORTED = "card_not_supported"
    DO_NOT_HONOR = "do_not_honor"
    LOST_OR_STOLEN = "lost_or_stolen"
    PROCESSING_ERROR = "processing_error"
    TRY_AGAIN_LATER = "try_again_later"
    AUTHENTICATION_REQUIRED = "authentication_required"

    @property
    def retryable(self) -> bool:
        """Whether a new attempt (with a new idempotency key) on the same card may succeed."""
        return self in (DeclineReason.PROCESSING_ERROR, DeclineReason.TRY_AGAIN_LATER)


@dataclass(frozen=True, slots=True)
class ChargeResult:
    """The outcome of :meth:`PaymentGateway.charge`.

    Args:
        status: succeeded, declined, or failed (outcome unknown).
        reference: the processor's payment id (a PaymentIntent id), when one was created.
        decline_reason: why the card was declined, for ``declined`` only.
        decline_code: the processor's raw decline code, for ``declined`` only.
        retryable: for ``failed``, retrying with the same idempotency key is safe and may
            succeed; for ``declined``, a new attempt with the same card may succeed.
        request_id: the processor's request id, for support tickets.
        error_code: the processor or connector error code, for ``failed`` only.
    """

    status: ChargeStatus
    reference: str | None = None
    decline_reason: DeclineReason | None = None
    decline_code: str | None = None
    retryable: bool = False
    request_id: str | None = None
    error_code: str | None = None


class PaymentGateway(Protocol):
    """A payment processor: tokenizes captured cards, keeps them on file, and charges tokens."""

    name: str

    async def tokenize(self, card: SecureCard, *, idempotency_key: str) -> CardToken:
        """Exchange card data for a processor token; the caller wipes ``card`` afterwards.

        Raises:
            CardRejected: the processor refused the card.
            GatewayUnavailable: the processor could not be reached or failed; retry with the
                same idempotency key.
            GatewayError: any other processor error (configuration, idempotency conflict).
        """
        ...

    async def create_customer(self, *, account_number: str, idempotency_key: str) -> str:
        """Create (idempotently) the processor customer that an account's saved card belongs to.

        Returns:
            The customer id.

        Raises:
            ValueError: the account number or idempotency key is empty.
            GatewayUnavailable: retry with the same key.
            GatewayError: any other processor error (configuration, idempotency conflict).
        """
        ...

    async def charge(self, request: ChargeRequest) -> ChargeResult:
        """Charge a token; declines and connector errors are results, never exceptions."""
        ...

    async def aclose(self) -> None:
        """Release connections."""
        ...
