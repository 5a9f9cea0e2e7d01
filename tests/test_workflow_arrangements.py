"""Plans, promises and cards on file in the workflow: consent first, the plan's terms charged."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from agent.arrangements import (
    CardConsentRecord,
    ConsentStatus,
    Offer,
    PlannedInstalment,
    PlanTerms,
    PromiseTerms,
)
from agent.workflow import AmountKind, CallState, CardOnCall, Step, WorkflowViolation

CARD = CardOnCall(brand="visa", last4="4242", token="pm_1")
PLAN = PlanTerms(
    currency="EUR",
    instalments=[
        PlannedInstalment(due=date(2026, 11, 27), amount_minor=6150),
        PlannedInstalment(due=date(2026, 12, 27), amount_minor=6150),
        PlannedInstalment(due=date(2027, 1, 27), amount_minor=6150),
    ],
)
CONSENT = CardConsentRecord(at=datetime.now(UTC), wording_key="plan.proposal", language="en")


def verified_state() -> CallState:
    state = CallState(call_id="c1")
    state.start()
    state.identify("12345678", "EUR")
    state.authenticated("knowledge_factor")
    state.balance_told()
    return state


def where(state: CallState) -> tuple[Step, Offer]:
    """The step and pending offer, read afresh (the type checker narrows direct reads)."""
    return state.step, state.offer


def confirmed(state: CallState) -> CallState:
    state.read_back()
    state.caller_answered(confirmed=True)
    return state


def test_a_plan_waits_for_consent_before_the_card() -> None:
    state = verified_state()
    state.propose_plan(PLAN)
    assert state.step is Step.CONSENT and state.awaiting_consent
    assert state.amount_minor == 6150 and state.amount_kind is AmountKind.PLAN
    assert not state.can_capture()
    with pytest.raises(WorkflowViolation):
        state.card_captured(CARD)
    state.consent_answered(True, CONSENT)
    assert where(state) == (Step.CAPTURE, Offer.NONE) and state.consent == CONSENT
    state.card_captured(CARD)
    assert state.terms().plan == PLAN


def test_a_plan_is_charged_only_for_a_customer_and_keeps_the_card() -> None:
    state = verified_state()
    state.propose_plan(PLAN)
    state.consent_answered(True, CONSENT)
    state.card_captured(CARD)
    confirmed(state)
    with pytest.raises(WorkflowViolation, match="no_customer"):
        state.begin_charge()
    state.card_kept_for("cus_1")
    assert state.saves_card and state.card is not None and state.card.customer == "cus_1"
    key = state.begin_charge()
    state.charge_succeeded("pi_1")
    assert key.endswith(":charge:0") and state.paid


def test_saying_no_to_keeping_the_card_drops_the_plan_not_the_call() -> None:
    state = verified_state()
    state.propose_plan(PLAN)
    state.consent_answered(False, CONSENT)
    assert state.step is Step.AMOUNT
    assert state.plan is None and state.amount_minor is None and state.consent is None
    assert state.card_consent is ConsentStatus.REFUSED
    state.options_offered()
    assert state.offer is Offer.OPTIONS
    state.set_amount(2000, AmountKind.PARTIAL)
    assert state.can_capture() and not state.saves_card


def test_a_consent_is_taken_only_when_asked() -> None:
    state = verified_state()
    with pytest.raises(WorkflowViolation, match="no_consent_pending"):
        state.consent_answered(True, CONSENT)
    state.propose_plan(PLAN)
    state.consent_answered(True, CONSENT)
    with pytest.raises(WorkflowViolation, match="no_consent_pending"):
        state.consent_answered(False, CONSENT)


def test_a_no_to_the_plan_read_back_undoes_the_plan() -> None:
    state = verified_state()
    state.propose_plan(PLAN)
    state.consent_answered(True, CONSENT)
    state.card_captured(CARD)
    state.read_back()
    state.caller_answered(confirmed=False)
    assert state.plan is None and state.amount_minor is None and not state.saves_card
    with pytest.raises(WorkflowViolation):
        state.begin_charge()


def test_choosing_another_amount_leaves_the_plan() -> None:
    state = verified_state()
    state.propose_plan(PLAN)
    state.set_amount(5000, AmountKind.PARTIAL)
    assert state.plan is None and state.card_consent is ConsentStatus.NONE
    assert state.step is Step.CAPTURE


def test_a_plan_needs_a_verified_caller_and_no_link_goes_with_it() -> None:
    unverified = CallState(call_id="c2")
    unverified.start()
    unverified.identify("12345678", "EUR")
    with pytest.raises(WorkflowViolation, match="not_verified"):
        unverified.propose_plan(PLAN)
    state = verified_state()
    state.propose_plan(PLAN)
    state.consent_answered(True, CONSENT)
    assert not state.can_send_link()


def test_a_saved_card_must_belong_to_a_customer() -> None:
    state = verified_state()
    state.set_amount(5000, AmountKind.FULL)
    with pytest.raises(WorkflowViolation, match="not_a_saved_card"):
        state.saved_card_chosen(CARD)
    state.saved_card_offered()
    assert state.offer is Offer.SAVED_CARD
    state.saved_card_chosen(CARD.model_copy(update={"customer": "cus_1"}))
    assert where(state) == (Step.CONFIRM, Offer.NONE)
    confirmed(state)
    state.begin_charge()
    state.charge_succeeded("pi_2")
    assert state.paid


def test_a_promise_ends_the_call_as_promised_unless_it_was_paid() -> None:
    promise = PromiseTerms(amount_minor=18450, currency="EUR", due=date(2026, 12, 11))
    state = verified_state()
    state.promise_made(promise)
    state.end("not_paid")
    assert state.outcome == "promised"
    paid = verified_state()
    paid.promise_made(promise)
    paid.set_amount(100, AmountKind.PARTIAL)
    paid.card_captured(CARD)
    confirmed(paid)
    paid.begin_charge()
    paid.charge_succeeded("pi_3")
    paid.end("paid")
    assert paid.outcome == "paid"


def test_a_promise_in_another_currency_is_refused() -> None:
    state = verified_state()
    with pytest.raises(WorkflowViolation, match="currency_mismatch"):
        state.promise_made(PromiseTerms(amount_minor=100, currency="USD", due=date(2026, 12, 1)))
