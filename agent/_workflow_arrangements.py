"""Workflow transitions for a caller who cannot pay in full, and for cards kept on file.

Options (part now, a plan, a promise), a plan's consent to keep the card, a card kept for future
payments, the card on file chosen by a returning caller, and the offer of a person.
"""

from __future__ import annotations

from agent._workflow_model import (
    PAYMENT_STEPS,
    AmountKind,
    CallStateFields,
    CardOnCall,
    ChargeState,
    Step,
)
from agent.arrangements import (
    CardConsentRecord,
    ConsentStatus,
    Offer,
    PlanTerms,
    PromiseTerms,
)


class ArrangementTransitions(CallStateFields):
    """Plans, promises and cards on file; mixed into :class:`agent.workflow.CallState`."""

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
        self._require(self.step in PAYMENT_STEPS, "amount_not_expected")
        self._require(self.charge_state is not ChargeState.PENDING, "charge_pending")
        self._require(not self.paid, "already_paid")
