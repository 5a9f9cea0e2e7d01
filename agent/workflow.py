"""The per-call payment workflow, enforced in code.

The LLM suggests; this state machine decides. Every tool loads the call's :class:`CallState`, asks
it to make a transition and saves it back; a transition that the rules forbid raises
:class:`WorkflowViolation` and changes nothing. The rules that matter most:

* no charge unless the caller is verified, an amount is agreed, a card is captured, the amount and
  the card were read back and the caller confirmed that exact read-back;
* at most one successful charge per call, and a charge whose outcome is unknown is only ever retried
  with the same idempotency key (amount and card are frozen until it resolves);
* a locked caller (too many failed identity checks) never reaches the payment steps;
* a payment plan's card is kept on file only after the caller's own yes to that question, and a
  plan is charged only under it (:meth:`CallState.consent_answered`);
* a secure payment link goes only to a verified caller with an agreed amount, freezes the amount
  and blocks the keypad until it is paid or expires, and is paid at most once (see
  :meth:`CallState.link_sent`).

Steps: greet → identify → authenticate → balance → amount → capture → confirm → charge → receipt →
end, with transfer (to a human) and end reachable from anywhere; a payment link is a detour
amount → link_sent → receipt (paid) or capture (expired: the keypad or a new link); a payment plan
is a detour amount → consent → capture (yes) or amount (no). A caller who cannot pay in full is
offered part now, a plan or a promise to pay (:class:`~agent.arrangements.Offer`).
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

_TERMINAL = frozenset({Step.END, Step.TRANSFER})
_PAYMENT_STEPS = frozenset({Step.BALANCE, Step.AMOUNT, Step.CONSENT, Step.CAPTURE, Step.CONFIRM})


class CallState(BaseModel):
    """Everything the workflow knows about one call; persisted in Redis between tool calls."""

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
        self._require(self.step not in _TERMINAL, "call_over")

    def start(self) -> None:
        """The greeting was said; the caller is asked for their account."""
        self._require(self.step is Step.GREET, "already_started")
        self._move(Step.IDENTIFY, "greeted")

    def set_language(self, language: str) -> None:
        """The caller chose (or was heard speaking) ``language``; prompts follow from now on."""
        self._require_open()
        self.language = language

    def identify(self, account_number: str, currency: str) -> None:
        """The caller named an existing account; identity must be verified next."""
        self._require_open()
        self._require(self.step in (Step.GREET, Step.IDENTIFY), "identify_not_expected")
        self.account_number = account_number
        self.currency = currency
        self._move(Step.AUTHENTICATE, "account_identified")

    def identify_failed(self, max_failures: int) -> bool:
        """The account was not found; returns whether the caller has run out of tries."""
        self._require_open()
        self._require(self.step in (Step.GREET, Step.IDENTIFY), "identify_not_expected")
        self.identify_failures += 1
        self._move(Step.IDENTIFY, "account_not_found")
        return self.identify_failures >= max_failures

    def can_identify(self, max_failures: int) -> bool:
        """Whether another account look-up is allowed."""
        return self.step in (Step.GREET, Step.IDENTIFY) and self.identify_failures < max_failures

    def authenticated(self, method: str) -> None:
        """The caller proved their identity with ``method``."""
        self._require_open()
        self._require(self.step is Step.AUTHENTICATE, "authenticate_not_expected")
        self._require(self.auth is AuthStatus.NONE, "auth_locked")
        self.auth = AuthStatus.VERIFIED
        self.auth_method = method
        self._move(Step.BALANCE, f"verified_by_{method}")

    def authentication_failed(self, max_failures: int) -> bool:
        """A failed identity check; returns whether the caller is now locked out."""
        self._require_open()
        self._require(self.step is Step.AUTHENTICATE, "authenticate_not_expected")
        self._require(self.auth is AuthStatus.NONE, "auth_locked")
        self.auth_failures += 1
        if self.auth_failures >= max_failures:
            self.auth = AuthStatus.LOCKED
            return True
        return False

    def lock_out(self) -> None:
        """Lock the caller out of verification (e.g. the account is locked across calls)."""
        self._require_open()
        self._require(self.step is Step.AUTHENTICATE, "authenticate_not_expected")
        self._require(self.auth is not AuthStatus.VERIFIED, "already_verified")
        self.auth = AuthStatus.LOCKED

    def balance_told(self) -> None:
        """The balance was given to the verified caller; the amount is agreed next."""
        self._require_open()
        self._require(self.verified, "not_verified")
        self._require(self.step in _PAYMENT_STEPS, "balance_not_expected")
        if self.step is Step.BALANCE:
            self._move(Step.AMOUNT, "balance_told")

    def set_amount(self, amount_minor: int, kind: AmountKind) -> None:
        """The caller agreed an amount (already checked against the limits by the caller)."""
        self._require_open()
        self._require(self.verified, "not_verified")
        self._require(self.charge_state is not ChargeState.PENDING, "charge_pending")
        self._require(self.step in _PAYMENT_STEPS, "amount_not_expected")
        self._require(amount_minor > 0, "amount_not_positive")
        self._require(kind is not AmountKind.PLAN, "plan_needs_terms")
        self._drop_plan()
        self.amount_minor = amount_minor
        self.amount_kind = kind
        self.confirmed_readback = None
        self.offer = Offer.NONE
        self._move(Step.CONFIRM if self.card else Step.CAPTURE, "amount_set")

    def options_offered(self) -> None:
        """The caller cannot pay in full: part now, a plan or a promise was offered."""
        self._require_arrangement_possible()
        self.offer = Offer.OPTIONS

    def asked(self, offer: Offer) -> None:
        """A question about an arrangement (how many payments, which date) awaits an answer."""
        self._require_arrangement_possible()
        self._require(offer in (Offer.PLAN_COUNT, Offer.PROMISE_DATE), "not_a_question")
        self.offer = offer

    def propose_plan(self, plan: PlanTerms) -> None:
        """A plan was read out; the caller is asked to let us keep their card on file.

        Its first instalment becomes today's amount; the others are charged later to that card.
        """
        self._require_arrangement_possible()
        self._require(plan.currency == self.currency, "currency_mismatch")
        self.plan = plan
        self.amount_minor = plan.first.amount_minor
        self.amount_kind = AmountKind.PLAN
        self.card_consent = ConsentStatus.ASKED
        self.card_purpose = "plan"
        self.consent = None
        self.confirmed_readback = None
        self.offer = Offer.CONSENT
        self._move(Step.CONSENT, "plan_proposed")

    def consent_answered(self, agreed: bool, record: CardConsentRecord) -> None:
        """The caller's own yes or no to keeping their card on file, as understood by code.

        A yes leads to the card (or its read-back, when a card is already on the call); a no drops
        the plan, since its later payments cannot be taken without a card on file.
        """
        self._require_open()
        self._require(self.awaiting_consent, "no_consent_pending")
        self.offer = Offer.NONE
        if agreed:
            self.card_consent = ConsentStatus.GIVEN
            self.consent = record
            self._move(Step.CONFIRM if self.card else Step.CAPTURE, "card_consent_given")
            return
        planned = self.plan is not None
        self._drop_plan()
        self.card_consent = ConsentStatus.REFUSED
        if planned:
            self.amount_minor = None
            self.amount_kind = None
            self._move(Step.AMOUNT, "card_consent_refused")
        else:
            self._move(Step.CAPTURE, "card_consent_refused")

    def card_keeping_offered(self) -> None:
        """The caller asked us to keep their card for future payments: the question is put.

        Asked before the card is typed, so that its read-back can say it will be kept.
        """
        self._require_arrangement_possible()
        self._require(self.amount_minor is not None and self.card is None, "ask_before_the_card")
        self._require(self.plan is None and not self.saves_card, "already_kept")
        self.card_consent = ConsentStatus.ASKED
        self.card_purpose = "future_payments"
        self.consent = None
        self.offer = Offer.CONSENT
        self._move(Step.CONSENT, "card_keeping_offered")

    def card_kept_for(self, customer: str) -> None:
        """The processor customer that the card about to be kept on file will belong to."""
        self._require_open()
        self._require(self.saves_card, "no_card_consent")
        self._require(self.charge_state is not ChargeState.PENDING, "charge_pending")
        card = self.card
        self._require(card is not None and card.customer is None, "no_card")
        self.card = card.model_copy(update={"customer": customer}) if card else None

    def saved_card_offered(self) -> None:
        """The caller was asked whether to pay with the card kept on file."""
        self._require(self.can_capture(), "capture_not_expected")
        self.offer = Offer.SAVED_CARD

    def saved_card_chosen(self, card: CardOnCall) -> None:
        """The caller chose the card kept on file; it must be read back and confirmed next."""
        self._require(card.customer is not None, "not_a_saved_card")
        self.card_captured(card)

    def promise_made(self, promise: PromiseTerms) -> None:
        """The caller promised to pay by a date; the call can end without a payment."""
        self._require_arrangement_possible()
        self._require(promise.currency == self.currency, "currency_mismatch")
        self._drop_plan()
        self.promise = promise
        self.offer = Offer.NONE

    def human_offered(self) -> None:
        """Nothing suited the caller: they were thanked and offered a person."""
        self._require_open()
        self._require(self.verified, "not_verified")
        self.offer = Offer.HUMAN

    def _require_arrangement_possible(self) -> None:
        self._require_open()
        self._require(self.verified, "not_verified")
        self._require(self.step in _PAYMENT_STEPS, "amount_not_expected")
        self._require(self.charge_state is not ChargeState.PENDING, "charge_pending")
        self._require(not self.paid, "already_paid")

    def _drop_plan(self) -> None:
        if self.plan is not None:
            self.plan = None
            self.card_consent = ConsentStatus.NONE
            self.card_purpose = None
            self.consent = None

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

    def capture_failed(self) -> None:
        """A capture ended without a card."""
        self._require_open()
        self._require(self.can_capture(), "capture_not_expected")
        self.capture_failures += 1

    def read_back(self) -> int:
        """The amount and card were read back to the caller; returns the read-back number."""
        self._require_open()
        self._require(self.step is Step.CONFIRM, "confirm_not_expected")
        self.terms()
        self.readback += 1
        self.confirmed_readback = None
        return self.readback

    def caller_answered(self, confirmed: bool) -> None:
        """The caller's own yes or no to the latest read-back, as understood by code."""
        self._require_open()
        self._require(self.awaiting_confirmation, "no_readback_pending")
        if confirmed:
            self.confirmed_readback = self.readback
        else:
            self.confirmed_readback = None
            if self.plan is not None:
                # The plan was read back with its card: a no undoes the whole plan.
                self._drop_plan()
                self.amount_minor = None
                self.amount_kind = None
            self._move(Step.AMOUNT, "caller_declined_readback")

    def begin_charge(self) -> str:
        """Authorise a charge; returns the idempotency key to send with it.

        A charge whose outcome is unknown is retried with the same key; a new key is only issued
        after a decline (a new card) — so one call can never be charged twice.
        """
        self._require_open()
        self._require(not self.paid, "already_paid")
        self._require(self.verified, "not_verified")
        self._require(self.account_number is not None, "no_account")
        self._require(self.amount_minor is not None, "no_amount")
        self._require(self.card is not None, "no_card")
        if self.charge_state is ChargeState.PENDING and self.idempotency_key is not None:
            self._require(self.step is Step.CHARGE, "charge_not_expected")
            return self.idempotency_key
        self._require(self.step is Step.CONFIRM, "confirm_not_expected")
        self._require(
            self.readback > 0 and self.confirmed_readback == self.readback, "not_confirmed"
        )
        self._require(self.plan is None or self.saves_card, "no_card_consent")
        self._require(
            not self.saves_card or (self.card is not None and self.card.customer is not None),
            "no_customer",
        )
        self.idempotency_key = f"{self.call_id}:charge:{self.charge_attempt}"
        self.charge_state = ChargeState.PENDING
        self._move(Step.CHARGE, "charge_started")
        return self.idempotency_key

    def charge_succeeded(self, reference: str) -> None:
        """The processor approved the pending charge."""
        self._require(self.charge_state is ChargeState.PENDING, "no_charge_pending")
        self.charge_state = ChargeState.SUCCEEDED
        self.payment_reference = reference
        self._move(Step.RECEIPT, "charge_succeeded")

    def charge_declined(self, reason: str) -> None:
        """The processor declined the pending charge; a different card is needed."""
        self._require(self.charge_state is ChargeState.PENDING, "no_charge_pending")
        card = self.card
        if card is None:
            raise WorkflowViolation("no_card")
        self.declines.append(Decline(reason=reason, brand=card.brand, last4=card.last4))
        self.charge_state = ChargeState.DECLINED
        self.charge_attempt += 1
        self.idempotency_key = None
        self.card = None
        self.confirmed_readback = None
        self._move(Step.CAPTURE, "charge_declined")

    def can_send_link(self) -> bool:
        """Whether a secure payment link may be sent now (instead of, or after, the keypad)."""
        return (
            self.step in (Step.AMOUNT, Step.CAPTURE, Step.CONFIRM)
            and self.verified
            and self.amount_minor is not None
            and self.currency is not None
            and self.charge_state is not ChargeState.PENDING
            and not self.paid
            and self.plan is None
            and self.link_status is not LinkStatus.OPEN
        )

    def link_key(self) -> str:
        """The idempotency key of a link for the agreed terms: the same terms give the same link."""
        self._require_open()
        self._require(self.can_send_link(), "link_not_expected")
        return f"{self.call_id}:link:{self.link_attempt}:{self.amount_minor}:{self.currency}"

    def link_sent(self, session_id: str, key: str) -> None:
        """A link for ``key``'s terms was created; keypad and amount wait until it settles."""
        self._require_open()
        self._require(self.can_send_link(), "link_not_expected")
        self._require(key == self.link_key(), "terms_changed")
        self.link_session = session_id
        self.link_status = LinkStatus.OPEN
        self.confirmed_readback = None
        self._move(Step.LINK_SENT, "link_sent")

    def link_withdrawn(self, session_id: str) -> None:
        """The link never reached the caller (the message failed); the keypad is offered."""
        self._require_open_link(session_id)
        self.link_status = LinkStatus.WITHDRAWN
        self.link_attempt += 1
        if self.step is Step.LINK_SENT:
            self._move(Step.CAPTURE, "link_withdrawn")

    def link_paid(
        self,
        session_id: str,
        reference: str,
        amount_minor: int,
        currency: str,
        card: CardOnCall | None = None,
    ) -> bool:
        """The caller paid the link (a signed webhook); returns ``False`` for a repeated delivery.

        ``card`` is the card the caller paid with on the processor's page (brand and last four),
        for the receipt. Allowed after the call ended too: a caller may hang up and pay later.
        """
        self._require(self.link_session == session_id, "unknown_link")
        if self.link_status is LinkStatus.PAID and self.payment_reference == reference:
            return False
        self._require_open_link(session_id)
        self._require(not self.paid, "already_paid")
        self._require(
            (amount_minor, currency) == (self.amount_minor, self.currency), "terms_mismatch"
        )
        self.link_status = LinkStatus.PAID
        self.charge_state = ChargeState.SUCCEEDED
        self.payment_reference = reference
        self.card = card
        self._settle_link("charge_succeeded", Step.RECEIPT)
        if self.step is Step.END:
            self.outcome = "paid"
        return True

    def link_expired(self, session_id: str) -> bool:
        """The link expired unpaid; returns ``False`` when it was already settled."""
        self._require(self.link_session == session_id, "unknown_link")
        if self.link_status is not LinkStatus.OPEN:
            return False
        self.link_status = LinkStatus.EXPIRED
        self.link_attempt += 1
        self._settle_link("link_expired", Step.CAPTURE)
        return True

    def _require_open_link(self, session_id: str) -> None:
        self._require(self.link_session == session_id, "unknown_link")
        self._require(self.link_status is LinkStatus.OPEN, "link_not_open")

    def _settle_link(self, cause: str, target: Step) -> None:
        if self.step is Step.LINK_SENT:
            self._move(target, cause)
        else:
            # The call is over: keep its final step, but record when the link settled.
            self.transitions.append(
                Transition(at=datetime.now(UTC), source=self.step, target=self.step, cause=cause)
            )

    def receipt_sent(self) -> None:
        """A receipt went to the caller."""
        self._require_open()
        self._require(self.paid, "not_paid")
        self.receipt_delivered = True

    def transfer(self, reason: str) -> None:
        """Hand the call to a human; allowed from any open step."""
        self._require_open()
        self.transfer_reason = reason
        self.outcome = "transferred"
        self._move(Step.TRANSFER, f"transfer_{reason}")

    def end(self, outcome: str) -> None:
        """The call is over; ``outcome`` is recorded unless a transfer already set it."""
        if self.step is Step.END:
            return
        if self.promise is not None and not self.paid:
            outcome = "promised"
        self.outcome = self.outcome or outcome
        self._move(Step.END, "ended")
