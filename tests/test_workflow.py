"""The workflow's rules hold under any sequence of transitions, however adversarial."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from agent.arrangements import (
    CardConsentRecord,
    ConsentStatus,
    Offer,
    PlannedInstalment,
    PlanTerms,
    PromiseTerms,
)
from agent.workflow import (
    AmountKind,
    AuthStatus,
    CallState,
    CardOnCall,
    ChargeState,
    LinkStatus,
    Step,
    WorkflowViolation,
)

CARD = CardOnCall(brand="visa", last4="4242", token="pm_1")


def verified_state() -> CallState:
    state = CallState(call_id="c1")
    state.start()
    state.identify("12345678", "EUR")
    state.authenticated("knowledge_factor")
    state.balance_told()
    return state


def ready_to_charge() -> CallState:
    state = verified_state()
    state.set_amount(5000, AmountKind.FULL)
    state.card_captured(CARD)
    state.read_back()
    state.caller_answered(confirmed=True)
    return state


def test_happy_path_reaches_receipt_with_one_key() -> None:
    state = ready_to_charge()
    key = state.begin_charge()
    state.charge_succeeded("pi_1")
    assert state.step is Step.RECEIPT
    assert key == "c1:charge:0"
    with pytest.raises(WorkflowViolation, match="already_paid"):
        state.begin_charge()


def test_charge_refused_before_confirmation() -> None:
    state = verified_state()
    state.set_amount(5000, AmountKind.FULL)
    state.card_captured(CARD)
    with pytest.raises(WorkflowViolation, match="not_confirmed"):
        state.begin_charge()
    state.read_back()
    with pytest.raises(WorkflowViolation, match="not_confirmed"):
        state.begin_charge()


def test_changing_the_amount_after_confirmation_needs_a_new_confirmation() -> None:
    state = ready_to_charge()
    state.set_amount(1000, AmountKind.PARTIAL)
    with pytest.raises(WorkflowViolation, match="not_confirmed"):
        state.begin_charge()


def test_unknown_outcome_is_retried_with_the_same_key_and_freezes_amount_and_card() -> None:
    state = ready_to_charge()
    first = state.begin_charge()
    assert state.begin_charge() == first
    with pytest.raises(WorkflowViolation, match="charge_pending"):
        state.set_amount(100, AmountKind.PARTIAL)
    assert not state.can_capture()


def test_decline_needs_a_new_card_and_issues_a_new_key() -> None:
    state = ready_to_charge()
    first = state.begin_charge()
    state.charge_declined("insufficient_funds")
    assert state.step is Step.CAPTURE
    assert state.card is None
    state.card_captured(CardOnCall(brand="mastercard", last4="4444", token="pm_2"))
    state.read_back()
    state.caller_answered(confirmed=True)
    second = state.begin_charge()
    assert second != first
    assert [d.reason for d in state.declines] == ["insufficient_funds"]


def test_lockout_blocks_verification() -> None:
    state = CallState(call_id="c1")
    state.start()
    state.identify("12345678", "EUR")
    assert not state.authentication_failed(3)
    assert not state.authentication_failed(3)
    assert state.authentication_failed(3)
    assert state.auth is AuthStatus.LOCKED
    with pytest.raises(WorkflowViolation, match="auth_locked"):
        state.authenticated("knowledge_factor")


def test_caller_saying_no_returns_to_the_amount() -> None:
    state = verified_state()
    state.set_amount(5000, AmountKind.FULL)
    state.card_captured(CARD)
    state.read_back()
    state.caller_answered(confirmed=False)
    assert state.step is Step.AMOUNT
    with pytest.raises(WorkflowViolation):
        state.begin_charge()


def test_state_round_trips_through_json() -> None:
    state = ready_to_charge()
    assert CallState.model_validate_json(state.model_dump_json()) == state


def link_open() -> tuple[CallState, str]:
    state = verified_state()
    state.set_amount(5000, AmountKind.FULL)
    key = state.link_key()
    state.link_sent("cs_1", key)
    return state, key


def test_a_link_needs_a_verified_caller_and_an_agreed_amount() -> None:
    state = CallState(call_id="c1")
    state.start()
    state.identify("12345678", "EUR")
    assert not state.can_send_link()
    with pytest.raises(WorkflowViolation, match="link_not_expected"):
        state.link_key()
    state.authenticated("knowledge_factor")
    state.balance_told()
    assert not state.can_send_link()
    state.set_amount(5000, AmountKind.FULL)
    assert state.link_key() == "c1:link:0:5000:EUR"


def test_an_open_link_blocks_the_keypad_and_the_amount() -> None:
    state, _ = link_open()
    assert state.step is Step.LINK_SENT
    assert not state.can_capture()
    with pytest.raises(WorkflowViolation):
        state.card_captured(CARD)
    with pytest.raises(WorkflowViolation):
        state.set_amount(100, AmountKind.PARTIAL)
    with pytest.raises(WorkflowViolation):
        state.begin_charge()


def test_a_paid_link_is_applied_once_and_ends_the_payment() -> None:
    state, _ = link_open()
    assert state.link_paid("cs_1", "pi_1", 5000, "EUR")
    assert not state.link_paid("cs_1", "pi_1", 5000, "EUR")
    assert (state.step, state.paid, state.payment_reference) == (Step.RECEIPT, True, "pi_1")
    with pytest.raises(WorkflowViolation, match="already_paid"):
        state.begin_charge()
    assert not state.can_send_link()


def test_a_link_paid_for_other_terms_or_another_session_is_refused() -> None:
    state, _ = link_open()
    with pytest.raises(WorkflowViolation, match="terms_mismatch"):
        state.link_paid("cs_1", "pi_1", 4999, "EUR")
    with pytest.raises(WorkflowViolation, match="unknown_link"):
        state.link_paid("cs_other", "pi_1", 5000, "EUR")
    assert not state.paid


def test_an_expired_link_offers_the_keypad_or_a_new_link_with_a_new_key() -> None:
    state, first = link_open()
    assert state.link_expired("cs_1")
    assert not state.link_expired("cs_1")
    assert state.step is Step.CAPTURE and state.can_capture() and state.can_send_link()
    assert state.link_key() != first
    with pytest.raises(WorkflowViolation, match="link_not_open"):
        state.link_paid("cs_1", "pi_1", 5000, "EUR")


def test_a_link_paid_after_the_caller_hung_up_still_counts() -> None:
    state, _ = link_open()
    state.end("caller_hung_up")
    assert state.link_paid("cs_1", "pi_1", 5000, "EUR")
    assert (state.step, state.outcome, state.paid) == (Step.END, "paid", True)
    assert state.transitions[-1].cause == "charge_succeeded"


def test_a_link_is_not_sent_for_terms_that_changed() -> None:
    state = verified_state()
    state.set_amount(5000, AmountKind.FULL)
    key = state.link_key()
    state.set_amount(4000, AmountKind.PARTIAL)
    with pytest.raises(WorkflowViolation, match="terms_changed"):
        state.link_sent("cs_1", key)


class AdversarialCall(RuleBasedStateMachine):
    """Random tool-level transitions; a processor ledger records every charge that went through."""

    def __init__(self) -> None:
        super().__init__()
        self.state = CallState(call_id="prop")
        self.ledger: dict[str, int] = {}
        self.successes = 0
        self.caller_confirmed_current = False
        self.links: dict[str, tuple[int, str]] = {}

    def attempt(self, transition: object) -> None:
        snapshot = self.state.model_copy(deep=True)
        try:
            assert callable(transition)
            transition()
        except WorkflowViolation:
            assert self.state == snapshot, "a refused transition must change nothing"

    @rule()
    def start(self) -> None:
        self.attempt(self.state.start)

    @rule(number=st.sampled_from(["12345678", "87654321"]))
    def identify(self, number: str) -> None:
        self.attempt(lambda: self.state.identify(number, "EUR"))

    @rule()
    def identify_failed(self) -> None:
        self.attempt(lambda: self.state.identify_failed(3))

    @rule()
    def authenticate(self) -> None:
        self.attempt(lambda: self.state.authenticated("knowledge_factor"))

    @rule()
    def authentication_failed(self) -> None:
        self.attempt(lambda: self.state.authentication_failed(3))

    @rule()
    def balance(self) -> None:
        self.attempt(self.state.balance_told)

    @rule(amount=st.integers(min_value=-5, max_value=10_000), kind=st.sampled_from(AmountKind))
    def set_amount(self, amount: int, kind: AmountKind) -> None:
        self.attempt(lambda: self.state.set_amount(amount, kind))

    @rule(last4=st.sampled_from(["4242", "0002", "4444"]))
    def capture(self, last4: str) -> None:
        card = CardOnCall(brand="visa", last4=last4, token=f"pm_{last4}")
        self.attempt(lambda: self.state.card_captured(card))

    @rule()
    def capture_failed(self) -> None:
        self.attempt(self.state.capture_failed)

    @rule()
    def read_back(self) -> None:
        self.attempt(self.state.read_back)

    @rule(yes=st.booleans())
    def answer(self, yes: bool) -> None:
        self.attempt(lambda: self.state.caller_answered(yes))

    @rule(outcome=st.sampled_from(["succeeded", "declined", "lost"]))
    def charge(self, outcome: str) -> None:
        before = self.state.model_copy(deep=True)
        try:
            key = self.state.begin_charge()
        except WorkflowViolation:
            assert self.state == before
            return
        assert before.verified, "charged an unverified caller"
        assert before.card is not None and before.amount_minor is not None
        confirmed = before.readback > 0 and before.confirmed_readback == before.readback
        retry = before.charge_state is ChargeState.PENDING
        assert confirmed or retry, "charged without the caller confirming the read-back"
        if retry:
            assert key == before.idempotency_key, "a retry must reuse the idempotency key"
        if before.plan is not None:
            assert before.card_consent is ConsentStatus.GIVEN, "a plan charged without consent"
            assert before.consent is not None and before.card.customer is not None
            assert before.amount_minor == before.plan.first.amount_minor
        if key not in self.ledger and outcome != "declined":
            self.ledger[key] = before.amount_minor
        if outcome == "succeeded":
            self.state.charge_succeeded(f"pi_{key}")
            self.successes += 1
        elif outcome == "declined":
            self.state.charge_declined("generic")

    @rule(session=st.sampled_from(["cs_a", "cs_b"]))
    def send_link(self, session: str) -> None:
        before = self.state.model_copy(deep=True)
        try:
            key = self.state.link_key()
            self.state.link_sent(session, key)
        except WorkflowViolation:
            assert self.state == before
            return
        assert before.verified and before.amount_minor is not None, "link without agreed terms"
        assert before.charge_state is not ChargeState.PENDING and not before.paid
        self.links[session] = (before.amount_minor, key)

    @rule(session=st.sampled_from(["cs_a", "cs_b"]), deliveries=st.integers(1, 3))
    def link_paid(self, session: str, deliveries: int) -> None:
        terms = self.links.get(session)
        amount = terms[0] if terms else 1
        for _ in range(deliveries):
            before = self.state.model_copy(deep=True)
            try:
                applied = self.state.link_paid(session, f"pi_link_{session}", amount, "EUR")
            except WorkflowViolation:
                assert self.state == before
                continue
            if applied:
                assert before.link_status is LinkStatus.OPEN, "paid a link that was not open"
                self.successes += 1
            else:
                assert self.state == before, "a repeated delivery must change nothing"

    @rule(session=st.sampled_from(["cs_a", "cs_b"]))
    def link_expired(self, session: str) -> None:
        self.attempt(lambda: self.state.link_expired(session))

    @rule(first=st.integers(min_value=-5, max_value=5_000), count=st.integers(2, 4))
    def propose_plan(self, first: int, count: int) -> None:
        def propose() -> None:
            days = [date(2026, month, 1) for month in range(1, count + 1)]
            plan = PlanTerms(
                currency="EUR",
                instalments=[PlannedInstalment(due=day, amount_minor=first) for day in days],
            )
            self.state.propose_plan(plan)

        try:
            self.attempt(propose)
        except ValueError:
            return

    @rule(yes=st.booleans())
    def consent(self, yes: bool) -> None:
        record = CardConsentRecord(at=datetime.now(UTC), wording_key="plan.proposal", language="en")
        self.attempt(lambda: self.state.consent_answered(yes, record))

    @rule(customer=st.sampled_from(["cus_a", "cus_b"]))
    def card_kept_for(self, customer: str) -> None:
        self.attempt(lambda: self.state.card_kept_for(customer))

    @rule(customer=st.sampled_from([None, "cus_a"]))
    def saved_card_chosen(self, customer: str | None) -> None:
        card = CardOnCall(brand="visa", last4="1881", token="pm_saved", customer=customer)
        self.attempt(lambda: self.state.saved_card_chosen(card))

    @rule(amount=st.integers(min_value=1, max_value=5_000))
    def promise(self, amount: int) -> None:
        terms = PromiseTerms(amount_minor=amount, currency="EUR", due=date(2026, 12, 24))
        self.attempt(lambda: self.state.promise_made(terms))

    @rule(offer=st.sampled_from(Offer))
    def ask(self, offer: Offer) -> None:
        self.attempt(lambda: self.state.asked(offer))
        self.attempt(self.state.options_offered)
        self.attempt(self.state.human_offered)

    @rule(reason=st.sampled_from(["caller_request", "auth_locked"]))
    def transfer(self, reason: str) -> None:
        self.attempt(lambda: self.state.transfer(reason))

    @rule()
    @precondition(lambda self: self.state.step is not Step.END)
    def end(self) -> None:
        self.state.end("abandoned")

    @invariant()
    def at_most_one_payment(self) -> None:
        assert self.successes <= 1
        assert len(self.ledger) <= 1 or self.state.charge_state is not ChargeState.SUCCEEDED
        charged_keys = [k for k in self.ledger if self.state.payment_reference == f"pi_{k}"]
        assert len(charged_keys) <= 1

    @invariant()
    def open_link_blocks_the_keypad(self) -> None:
        if self.state.link_status is LinkStatus.OPEN:
            assert not self.state.can_capture()
            assert self.state.step in (Step.LINK_SENT, Step.TRANSFER, Step.END)
            assert self.state.charge_state is not ChargeState.PENDING

    @invariant()
    def a_plan_keeps_a_card_only_with_consent(self) -> None:
        state = self.state
        if state.card_consent is ConsentStatus.REFUSED:
            assert state.plan is None
        if state.saves_card:
            assert state.consent is not None
        if state.plan is not None and state.card_consent is not ConsentStatus.GIVEN:
            assert not state.can_capture()

    @invariant()
    def locked_caller_never_verified(self) -> None:
        if self.state.auth is AuthStatus.LOCKED:
            assert self.state.step in (Step.AUTHENTICATE, Step.TRANSFER, Step.END)


AdversarialCall.TestCase.settings = settings(
    max_examples=300, stateful_step_count=60, deadline=None
)
TestAdversarialCall = AdversarialCall.TestCase
