"""An offline gateway with Stripe's test-card and idempotency semantics, for demos, tests and evals.

The sandbox never keeps a card number or security code: a token's id carries the behaviour its
card number selects (success or one kind of decline), the brand and the last four digits (see
:mod:`payment_tools.gateway.sandbox_cards`), so any instance can charge it. Saved cards follow
Stripe: a successful ``save_card`` charge attaches the token to the customer, and an off-session
charge of a token known not to be attached to that customer is refused. Which customer a card
was saved under is known only to the instance that saved it; another instance (another process)
trusts the pairing it is given, as it cannot tell.

A :class:`FaultPlan` injects connector failures, including the dangerous one: the charge is made
but the response is lost, so only a retry with the same idempotency key avoids charging twice.
"""

from __future__ import annotations

import logging
import re
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
    check_customer_request,
)
from payment_tools.gateway.checkout import CheckoutLink, CheckoutRequest
from payment_tools.gateway.checkout_sandbox import SandboxCheckout
from payment_tools.gateway.errors import (
    CardRejected,
    GatewayError,
    GatewayUnavailable,
    decline_reason,
)
from payment_tools.gateway.sandbox_cards import CardFacts, inspect_card, new_token_id, read_token
from payment_tools.ids import random_hex
from payment_tools.secure_card import MaskedCard, SecureCard

logger = logging.getLogger(__name__)

_CUSTOMER_ID = re.compile(r"cus_sandbox_[0-9a-f]{16}")


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
        customer: faults for the next :meth:`SandboxGateway.create_customer` calls.
    """

    charge: deque[Fault | None] = field(default_factory=deque)
    tokenize: deque[Fault | None] = field(default_factory=deque)
    customer: deque[Fault | None] = field(default_factory=deque)

    @classmethod
    def of(
        cls,
        *,
        charge: Iterable[Fault | None] = (),
        tokenize: Iterable[Fault | None] = (),
        customer: Iterable[Fault | None] = (),
    ) -> FaultPlan:
        """Build a plan from sequences, e.g. ``FaultPlan.of(charge=[Fault.LOST_RESPONSE] * 2)``."""
        return cls(charge=deque(charge), tokenize=deque(tokenize), customer=deque(customer))


@dataclass(frozen=True, slots=True)
class LedgerEntry:
    """A succeeded sandbox charge."""

    idempotency_key: str
    token: str
    amount_minor: int
    currency: str
    reference: str
    customer: str | None = None
    off_session: bool = False


def _failed(code: str) -> ChargeResult:
    return ChargeResult(status=ChargeStatus.FAILED, error_code=code, request_id=_new_id("req"))


def _new_id(prefix: str) -> str:
    return f"{prefix}_sandbox_{random_hex(8)}"


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
        self._tokens: dict[str, tuple[CardFacts, CardToken]] = {}
        self._issued: set[str] = set()
        self._customers: dict[str, tuple[str, str]] = {}
        self._attached: dict[str, str] = {}
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
        # Raised here, not in inspect_card, so no traceback reaches a frame holding digits.
        facts = inspect_card(card, self._today())
        if isinstance(facts, CardRejected):
            raise facts
        if idempotency_key in self._tokens:
            first_facts, token = self._tokens[idempotency_key]
            if first_facts != facts:
                raise GatewayError("idempotency_error", request_id=_new_id("req"))
        else:
            token = CardToken(
                token=new_token_id(facts),
                brand=facts.brand,
                last4=facts.last4,
                exp_month=facts.exp_month,
                exp_year=facts.exp_year,
            )
            self._tokens[idempotency_key] = (facts, token)
            self._issued.add(token.token)
        if fault is Fault.LOST_RESPONSE:
            raise GatewayUnavailable(_FAULT_CODES[fault], retryable=True)
        return token

    async def create_customer(self, *, account_number: str, idempotency_key: str) -> str:
        """Create a ``cus_sandbox_...`` customer, returning the same id for a reused key.

        Raises:
            ValueError: the account number or idempotency key is empty.
            GatewayUnavailable: an injected fault.
            GatewayError: ``idempotency_error`` when the key was used for another account.
        """
        check_customer_request(account_number, idempotency_key)
        fault = self.faults.customer.popleft() if self.faults.customer else None
        if fault in (Fault.CONNECTION_ERROR, Fault.SERVER_ERROR):
            raise GatewayUnavailable(_FAULT_CODES[fault], retryable=True, request_id=_new_id("req"))
        if idempotency_key in self._customers:
            first_account, customer = self._customers[idempotency_key]
            if first_account != account_number:
                raise GatewayError("idempotency_error", request_id=_new_id("req"))
        else:
            customer = _new_id("cus")
            self._customers[idempotency_key] = (account_number, customer)
        if fault is Fault.LOST_RESPONSE:
            raise GatewayUnavailable(_FAULT_CODES[fault], retryable=True)
        return customer

    async def charge(self, request: ChargeRequest) -> ChargeResult:
        """Charge a sandbox token, replaying the first result for a reused idempotency key.

        Any instance can charge any sandbox token. A ``customer`` that is not a sandbox
        customer id fails ``resource_missing``; a token known to be attached to another
        customer, or an off-session charge of a token known to be attached to none, fails
        ``payment_method_not_attached`` (Stripe refuses both).
        """
        fault = self.faults.charge.popleft() if self.faults.charge else None
        if fault in (Fault.CONNECTION_ERROR, Fault.SERVER_ERROR):
            return self._fault_result(fault)
        params = (
            request.token,
            request.amount_minor,
            request.currency,
            request.description,
            tuple(sorted(request.metadata.items())),
            request.customer,
            request.save_card,
            request.off_session,
        )
        if request.idempotency_key in self._charges:
            first_params, first_result = self._charges[request.idempotency_key]
            if first_params != params:
                return _failed("idempotency_error")
            result = first_result
        else:
            result = self._process(request)
            self._charges[request.idempotency_key] = (params, result)
        if fault is Fault.LOST_RESPONSE:
            return self._fault_result(fault)
        logger.info(
            "sandbox charge finished",
            extra={
                "status": result.status.value,
                "decline_code": result.decline_code,
                "error_code": result.error_code,
                "off_session": request.off_session,
            },
        )
        return result

    def _process(self, request: ChargeRequest) -> ChargeResult:
        facts = read_token(request.token)
        customer = request.customer
        if facts is None or (customer is not None and _CUSTOMER_ID.fullmatch(customer) is None):
            return _failed("resource_missing")
        if not self._may_charge_for_customer(request):
            return _failed("payment_method_not_attached")
        reference = _new_id("pi")
        decline = facts.decline
        if decline is not None and (request.off_session or not decline.off_session_only):
            reason = decline_reason(decline.code, decline.decline_code)
            return ChargeResult(
                status=ChargeStatus.DECLINED,
                reference=reference,
                decline_reason=reason,
                decline_code=decline.decline_code,
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
                customer=request.customer,
                off_session=request.off_session,
            )
        )
        if request.save_card and request.customer is not None:
            self._attached[request.token] = request.customer
        return ChargeResult(
            status=ChargeStatus.SUCCEEDED, reference=reference, request_id=_new_id("req")
        )

    def _may_charge_for_customer(self, request: ChargeRequest) -> bool:
        if request.customer is None:
            return True
        owner = self._attached.get(request.token)
        if owner is not None:
            return owner == request.customer
        # A token issued here and never saved is attached to nobody. One issued by another
        # instance may have been saved there: only that process knows, so trust the caller.
        return not (request.off_session and request.token in self._issued)

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
