"""The workflow's vocabulary: steps, statuses, the card and terms on a call, and its fields.

See :mod:`agent.workflow` for the rules; :class:`CallStateFields` holds the state and the checks
that the transitions of :mod:`agent.workflow`, :mod:`agent._workflow_links` and
:mod:`agent._workflow_arrangements` share.
"""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum

from pydantic import BaseModel, Field

from agent.arrangements import (
    CardConsentRecord,
    CardPurpose,
    ConsentStatus,
    Offer,
    PlanTerms,
    PromiseTerms,
)


class Step(StrEnum):
    """Where the call is in the payment workflow."""

    GREET = "greet"
    IDENTIFY = "identify"
    AUTHENTICATE = "authenticate"
    BALANCE = "balance"
    AMOUNT = "amount"
    CONSENT = "consent"
    CAPTURE = "capture"
    CONFIRM = "confirm"
    CHARGE = "charge"
    LINK_SENT = "link_sent"
    RECEIPT = "receipt"
    END = "end"
    TRANSFER = "transfer"


class AuthStatus(StrEnum):
    """Whether the caller has proved who they are."""

    NONE = "none"
    VERIFIED = "verified"
    LOCKED = "locked"


class ChargeState(StrEnum):
    """The processor-side state of the current charge."""

    NONE = "none"
    PENDING = "pending"
    SUCCEEDED = "succeeded"
    DECLINED = "declined"


class LinkStatus(StrEnum):
    """The state of the call's latest secure payment link."""

    NONE = "none"
    OPEN = "open"
    PAID = "paid"
    EXPIRED = "expired"
    WITHDRAWN = "withdrawn"


class AmountKind(StrEnum):
    """How the caller chose the amount."""

    FULL = "full"
    MINIMUM = "minimum"
    PARTIAL = "partial"
    PLAN = "plan"


class WorkflowViolation(Exception):
    """A transition the workflow forbids; ``code`` says which rule, for the tool's answer."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


class CardOnCall(BaseModel):
    """The card as the workflow knows it: brand, last four, processor token (and customer).

    ``customer`` is set for a card kept on file with the processor, or about to be.
    """

    brand: str
    last4: str = Field(pattern=r"^\d{4}$")
    token: str
    customer: str | None = None


class Decline(BaseModel):
    """One declined charge attempt."""

    reason: str
    brand: str
    last4: str


class PaymentTerms(BaseModel):
    """What the caller is about to pay with: the agreed amount and the captured card."""

    amount_minor: int
    currency: str
    card: CardOnCall
    plan: PlanTerms | None = None
    keeps_card: bool = False


class Transition(BaseModel):
    """One step change, kept for the call record."""

    at: datetime
    source: Step
    target: Step
    cause: str


MAX_DECLINES = 3
"""Declined charges after which the call goes to a person instead of another card."""
MAX_FAILED_CAPTURES = 2
"""Card captures that ended without a card after which the call goes to a person."""

TERMINAL_STEPS = frozenset({Step.END, Step.TRANSFER})
PAYMENT_STEPS = frozenset({Step.BALANCE, Step.AMOUNT, Step.CONSENT, Step.CAPTURE, Step.CONFIRM})


class CallStateFields(BaseModel):
    """What the workflow knows about one call, and the checks that every transition shares."""

    call_id: str
    language: str = "en"
    step: Step = Step.GREET
    version: int = 0
    account_number: str | None = None
    currency: str | None = None
    identify_failures: int = 0
    auth: AuthStatus = AuthStatus.NONE
    auth_method: str | None = None
    auth_failures: int = 0
    amount_minor: int | None = None
    amount_kind: AmountKind | None = None
    card: CardOnCall | None = None
    capture_failures: int = 0
    readback: int = 0
    confirmed_readback: int | None = None
    charge_state: ChargeState = ChargeState.NONE
    charge_attempt: int = 0
    idempotency_key: str | None = None
    declines: list[Decline] = Field(default_factory=list)
    payment_reference: str | None = None
    link_session: str | None = None
    link_status: LinkStatus = LinkStatus.NONE
    link_attempt: int = 0
    receipt_delivered: bool = False
    offer: Offer = Offer.NONE
    plan: PlanTerms | None = None
    card_consent: ConsentStatus = ConsentStatus.NONE
    card_purpose: CardPurpose | None = None
    consent: CardConsentRecord | None = None
    promise: PromiseTerms | None = None
    transfer_reason: str | None = None
    outcome: str | None = None
    transitions: list[Transition] = Field(default_factory=list)

    @property
    def verified(self) -> bool:
        """Whether the caller passed identity verification."""
        return self.auth is AuthStatus.VERIFIED

    @property
    def paid(self) -> bool:
        """Whether this call's charge succeeded."""
        return self.charge_state is ChargeState.SUCCEEDED

    @property
    def awaiting_confirmation(self) -> bool:
        """Whether a read-back was given and the caller has not yet confirmed it."""
        return (
            self.step is Step.CONFIRM
            and self.readback > 0
            and self.confirmed_readback != self.readback
        )

    @property
    def awaiting_consent(self) -> bool:
        """Whether the caller was asked to let us keep their card on file and has not answered."""
        return self.step is Step.CONSENT and self.card_consent is ConsentStatus.ASKED

    @property
    def saves_card(self) -> bool:
        """Whether the charge keeps the card on file (for a plan or future payments, consented)."""
        return self.card_consent is ConsentStatus.GIVEN and self.card_purpose is not None

    def terms(self) -> PaymentTerms:
        """The agreed amount and captured card; refuses when either is missing."""
        if self.card is None or self.amount_minor is None or self.currency is None:
            raise WorkflowViolation("nothing_to_confirm")
        return PaymentTerms(
            amount_minor=self.amount_minor,
            currency=self.currency,
            card=self.card,
            plan=self.plan,
            keeps_card=self.saves_card,
        )

    def _move(self, target: Step, cause: str) -> None:
        if target is not self.step:
            self.transitions.append(
                Transition(at=datetime.now(UTC), source=self.step, target=target, cause=cause)
            )
            self.step = target

    def _require(self, condition: bool, code: str) -> None:
        if not condition:
            raise WorkflowViolation(code)

    def _require_open(self) -> None:
        self._require(self.step not in TERMINAL_STEPS, "call_over")

    def can_capture(self) -> bool:
        """Whether a keypad card capture may start now (a first card, or another one)."""
        return (
            self.step in (Step.AMOUNT, Step.CAPTURE, Step.CONFIRM)
            and self.verified
            and self.amount_minor is not None
            and (self.plan is None or self.card_consent is ConsentStatus.GIVEN)
            and self.charge_state is not ChargeState.PENDING
            and len(self.declines) < MAX_DECLINES
            and self.capture_failures < MAX_FAILED_CAPTURES
        )

    def card_captured(self, card: CardOnCall) -> None:
        """A card was captured and tokenised; it must be read back and confirmed next."""
        self._require_open()
        self._require(self.can_capture(), "capture_not_expected")
        self.card = card
        self.confirmed_readback = None
        self.offer = Offer.NONE
        self._move(Step.CONFIRM, "card_captured")

    def _drop_plan(self) -> None:
        if self.plan is not None:
            self.plan = None
            self.card_consent = ConsentStatus.NONE
            self.card_purpose = None
            self.consent = None
