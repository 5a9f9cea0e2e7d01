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

from agent._workflow_arrangements import ArrangementTransitions
from agent._workflow_links import LinkTransitions
from agent._workflow_model import (
    MAX_DECLINES,
    MAX_FAILED_CAPTURES,
    PAYMENT_STEPS,
    AmountKind,
    AuthStatus,
    CardOnCall,
    ChargeState,
    Decline,
    LinkStatus,
    PaymentTerms,
    Step,
    Transition,
    WorkflowViolation,
)
from agent.arrangements import (
    Offer,
)

__all__ = [
    "AmountKind",
    "AuthStatus",
    "CallState",
    "CardOnCall",
    "ChargeState",
    "Decline",
    "LinkStatus",
    "MAX_DECLINES",
    "MAX_FAILED_CAPTURES",
    "PaymentTerms",
    "Step",
    "Transition",
    "WorkflowViolation",
]


class CallState(ArrangementTransitions, LinkTransitions):
    """Everything the workflow knows about one call; persisted in Redis between tool calls."""

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
        self._require(self.step in PAYMENT_STEPS, "balance_not_expected")
        if self.step is Step.BALANCE:
            self._move(Step.AMOUNT, "balance_told")

    def set_amount(self, amount_minor: int, kind: AmountKind) -> None:
        """The caller agreed an amount (already checked against the limits by the caller)."""
        self._require_open()
        self._require(self.verified, "not_verified")
        self._require(self.charge_state is not ChargeState.PENDING, "charge_pending")
        self._require(self.step in PAYMENT_STEPS, "amount_not_expected")
        self._require(amount_minor > 0, "amount_not_positive")
        self._require(kind is not AmountKind.PLAN, "plan_needs_terms")
        self._drop_plan()
        self.amount_minor = amount_minor
        self.amount_kind = kind
        self.confirmed_readback = None
        self.offer = Offer.NONE
        self._move(Step.CONFIRM if self.card else Step.CAPTURE, "amount_set")

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
