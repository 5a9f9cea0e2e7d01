"""An offline gateway with Stripe's test-card and idempotency semantics, for demos, tests and evals.

The sandbox keeps, per token, only the behaviour its card number selects (success or one kind of
decline), the brand, the last four digits and the expiry; never the card number or security code.
A :class:`FaultPlan` injects connector failures, including the dangerous one: the charge is made
but the response is lost, so only a retry with the same idempotency key avoids charging twice.
"""

from __future__ import annotations

import logging
import secrets
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum

from payment_tools.gateway.base import (
    CardToken,
    ChargeRequest,
    ChargeResult,
    ChargeStatus,
    DeclineReason,
)
from payment_tools.gateway.checkout import CheckoutLink, CheckoutRequest
from payment_tools.gateway.checkout_sandbox import SandboxCheckout
from payment_tools.gateway.errors import (
    CardRejected,
    GatewayError,
    GatewayUnavailable,
    decline_reason,
)
from payment_tools.secure_card import MaskedCard, SecureCard

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class _Decline:
    code: str
    decline_code: str


# Stripe's test cards (docs.stripe.com/testing#declined-payments): tokenizing succeeds, charging
# declines with these codes. Any other Luhn-valid number charges successfully.
_TEST_CARD_DECLINES: dict[str, _Decline] = {
    "4000000000000002": _Decline("card_declined", "generic_decline"),
    "4000000000009995": _Decline("card_declined", "insufficient_funds"),
    "4000000000009987": _Decline("card_declined", "lost_card"),
    "4000000000009979": _Decline("card_declined", "stolen_card"),
    "4000000000000069": _Decline("expired_card", "expired_card"),
    "4000000000000127": _Decline("incorrect_cvc", "incorrect_cvc"),
    "4000000000000119": _Decline("processing_error", "processing_error"),
}


class Fault(StrEnum):
    """A connector failure injected into one sandbox call.

    - ``lost_response``: the call is processed (a charge is recorded) but the caller sees a
      timeout, as when a response is lost on the way back.
    - ``connection_error``: the call never reaches the processor.
    - ``server_error``: the processor answers 500 before processing the call.
    """

    LOST_RESPONSE = "lost_response"
    CONNECTION_ERROR = "connection_error"
    SERVER_ERROR = "server_error"


_FAULT_CODES = {
    Fault.LOST_RESPONSE: "timeout",
    Fault.CONNECTION_ERROR: "api_connection_error",
    Fault.SERVER_ERROR: "api_error",
}


@dataclass
class FaultPlan:
    """Faults to inject, consumed in order: one per call; ``None`` lets a call through.

    Args:
        charge: faults for the next :meth:`SandboxGateway.charge` calls.
        tokenize: faults for the next :meth:`SandboxGateway.tokenize` calls.
    """

    charge: deque[Fault | None] = field(default_factory=deque)
    tokenize: deque[Fault | None] = field(default_factory=deque)

    @classmethod
    def of(
        cls, *, charge: Iterable[Fault | None] = (), tokenize: Iterable[Fault | None] = ()
    ) -> FaultPlan:
        """Build a plan from sequences, e.g. ``FaultPlan.of(charge=[Fault.LOST_RESPONSE] * 2)``."""
        return cls(charge=deque(charge), tokenize=deque(tokenize))


@dataclass(frozen=True, slots=True)
class LedgerEntry:
    """A succeeded sandbox charge."""

    idempotency_key: str
    token: str
    amount_minor: int
    currency: str
    reference: str


@dataclass(frozen=True, slots=True)
class _CardFacts:
    """All the sandbox keeps about a card: its test behaviour and what a token may show."""

    decline: _Decline | None
    brand: str
    last4: str
    exp_month: int = field(repr=False)
    exp_year: int = field(repr=False)


def _luhn_valid(number: str) -> bool:
    total = 0
    for index, char in enumerate(reversed(number)):
        digit = int(char)
        if index % 2 == 1:
            digit = digit * 2 - 9 if digit > 4 else digit * 2
        total += digit
    return total % 10 == 0


def _inspect(card: SecureCard, today: date) -> _CardFacts | CardRejected:
    number, cvc, _postal = card.reveal()
    if not (12 <= len(number) <= 19 and number.isdigit() and _luhn_valid(number)):
        return CardRejected(DeclineReason.INCORRECT_NUMBER, decline_code="incorrect_number")
    if cvc and not (cvc.isdigit() and 3 <= len(cvc) <= 4):
        return CardRejected(DeclineReason.INCORRECT_CVC, decline_code="invalid_cvc")
    if not 1 <= card.exp_month <= 12:
        return CardRejected(DeclineReason.INVALID_EXPIRY, decline_code="invalid_expiry_month")
    if (card.exp_year, card.exp_month) < (today.year, today.month):
        return CardRejected(DeclineReason.EXPIRED_CARD, decline_code="expired_card")
    masked = card.masked
    return _CardFacts(
        decline=_TEST_CARD_DECLINES.get(number),
        brand=masked.brand,
        last4=masked.last4,
        exp_month=card.exp_month,
        exp_year=card.exp_year,
    )


def _new_id(prefix: str) -> str:
    return f"{prefix}_sandbox_{secrets.token_hex(8)}"


class SandboxGateway:
    """Offline :class:`~payment_tools.gateway.base.PaymentGateway` with Stripe test-card behaviour.

    Args:
        faults: connector failures to inject; consumed as calls are made.
        today: the clock that decides whether a card has expired.
    """

    name = "sandbox"

    def __init__(
        self, *, faults: FaultPlan | None = None, today: Callable[[], date] = date.today
    ) -> None:
        self.faults = faults if faults is not None else FaultPlan()
        self._today = today
        self._cards: dict[str, _CardFacts] = {}
        self._tokens: dict[str, tuple[_CardFacts, CardToken]] = {}
        self._charges: dict[str, tuple[tuple[object, ...], ChargeResult]] = {}
        self._ledger: list[LedgerEntry] = []
        self.checkout: SandboxCheckout | None = None
        """The local payment-link pages; set up by whoever receives their webhook events."""

    @property
    def ledger(self) -> list[LedgerEntry]:
        """Succeeded charges, in order; a copy."""
        return list(self._ledger)

    async def tokenize(self, card: SecureCard, *, idempotency_key: str) -> CardToken:
        """Validate the card and return a ``pm_sandbox_...`` token.

        Raises:
            CardRejected: the number fails the Luhn check, or the expiry or security code is
                invalid.
            GatewayUnavailable: an injected fault.
            GatewayError: ``idempotency_error`` when the key was used for a different card.
        """
        fault = self.faults.tokenize.popleft() if self.faults.tokenize else None
        if fault in (Fault.CONNECTION_ERROR, Fault.SERVER_ERROR):
            raise GatewayUnavailable(_FAULT_CODES[fault], retryable=True, request_id=_new_id("req"))
        # Raised here rather than inside _inspect so no traceback reaches a frame holding digits.
        facts = _inspect(card, self._today())
        if isinstance(facts, CardRejected):
            raise facts
        if idempotency_key in self._tokens:
            first_facts, token = self._tokens[idempotency_key]
            if first_facts != facts:
                raise GatewayError("idempotency_error", request_id=_new_id("req"))
        else:
            token = CardToken(
                token=_new_id("pm"),
                brand=facts.brand,
                last4=facts.last4,
                exp_month=facts.exp_month,
                exp_year=facts.exp_year,
            )
            self._tokens[idempotency_key] = (facts, token)
            self._cards[token.token] = facts
        if fault is Fault.LOST_RESPONSE:
            raise GatewayUnavailable(_FAULT_CODES[fault], retryable=True)
        return token

    async def charge(self, request: ChargeRequest) -> ChargeResult:
        """Charge a sandbox token, replaying the first result for a reused idempotency key."""
        fault = self.faults.charge.popleft() if self.faults.charge else None
        if fault in (Fault.CONNECTION_ERROR, Fault.SERVER_ERROR):
            return self._fault_result(fault)
        params = (
            request.token,
            request.amount_minor,
            request.currency,
            request.description,
            tuple(sorted(request.metadata.items())),
        )
        if request.idempotency_key in self._charges:
            first_params, first_result = self._charges[request.idempotency_key]
            if first_params != params:
                return ChargeResult(
                    status=ChargeStatus.FAILED,
                    error_code="idempotency_error",
                    request_id=_new_id("req"),
                )
            result = first_result
        else:
            result = self._process(request)
            self._charges[request.idempotency_key] = (params, result)
        if fault is Fault.LOST_RESPONSE:
            return self._fault_result(fault)
        logger.info(
            "sandbox charge finished",
            extra={"status": result.status.value, "decline_code": result.decline_code},
        )
        return result

    def _process(self, request: ChargeRequest) -> ChargeResult:
        facts = self._cards.get(request.token)
        if facts is None:
            return ChargeResult(
                status=ChargeStatus.FAILED, error_code="resource_missing", request_id=_new_id("req")
            )
        reference = _new_id("pi")
        if facts.decline is not None:
            reason = decline_reason(facts.decline.code, facts.decline.decline_code)
            return ChargeResult(
                status=ChargeStatus.DECLINED,
                reference=reference,
                decline_reason=reason,
                decline_code=facts.decline.decline_code,
                retryable=reason.retryable,
                request_id=_new_id("req"),
            )
        self._ledger.append(
            LedgerEntry(
                idempotency_key=request.idempotency_key,
                token=request.token,
                amount_minor=request.amount_minor,
                currency=request.currency,
                reference=reference,
            )
        )
        return ChargeResult(
            status=ChargeStatus.SUCCEEDED, reference=reference, request_id=_new_id("req")
        )

    @staticmethod
    def _fault_result(fault: Fault) -> ChargeResult:
        return ChargeResult(
            status=ChargeStatus.FAILED,
            retryable=True,
            error_code=_FAULT_CODES[fault],
            request_id=None if fault is Fault.LOST_RESPONSE else _new_id("req"),
        )

    async def create_checkout(self, request: CheckoutRequest) -> CheckoutLink:
        """A payment link to a local page (see :class:`SandboxCheckout`).

        Raises:
            GatewayError: ``checkout_not_configured`` when :attr:`checkout` is not set up.
        """
        if self.checkout is None:
            raise GatewayError("checkout_not_configured")
        return await self.checkout.create_checkout(request)

    async def paid_card(self, payment_intent: str) -> MaskedCard | None:
        """Brand and last four of the card that paid a local link, if any."""
        return self.checkout.paid_card(payment_intent) if self.checkout is not None else None

    async def aclose(self) -> None:
        """Stop the local payment-link pages, if any."""
        if self.checkout is not None:
            await self.checkout.aclose()
