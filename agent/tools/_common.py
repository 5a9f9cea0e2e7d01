"""Helpers the payment tools share: the verified account, the read-back, the workflow's hint."""

from __future__ import annotations

from agent.call_context import CallContext
from agent.readback import readback_text
from agent.workflow import (
    CallState,
    Step,
)
from voicepay.accounts import Account
from voicepay.money import Money


async def verified_account(call: CallContext, state: CallState) -> Account | None:
    """The caller's account, once they are verified."""
    if not state.verified or state.account_number is None:
        return None
    return await call.services.accounts.get(state.account_number)


async def read_back(call: CallContext) -> None:
    """Say the amount and card to the caller; their own yes must follow before any charge."""
    state, _ = await call.update(lambda s: s.read_back())
    terms = state.terms()
    text = readback_text(call.prompts, terms)
    call.events.emit(
        "readback",
        number=state.readback,
        amount=Money(terms.amount_minor, terms.currency).to_decimal_str(),
        brand=terms.card.brand,
        last4=terms.card.last4,
    )
    await call.say(text, in_context=True)


def workflow_hint(state: CallState) -> str:
    """What the workflow expects at this step, for a refused or out-of-order tool call."""
    return {
        Step.GREET: "ask for the account number",
        Step.IDENTIFY: "ask for the account number, then call identify_account",
        Step.AUTHENTICATE: "call verify_identity",
        Step.BALANCE: "call get_balance",
        Step.AMOUNT: "agree the amount, then call set_amount",
        Step.CONSENT: "wait for the caller's yes or no to keeping their card on file",
        Step.CAPTURE: "call capture_card",
        Step.CONFIRM: "wait for the caller to say yes or no to the read-back",
        Step.CHARGE: "call confirm_and_charge to retry the unconfirmed payment safely",
        Step.LINK_SENT: "wait for the caller to pay the payment link",
        Step.RECEIPT: "offer a receipt (send_receipt) or end_call",
        Step.END: "the call is over",
        Step.TRANSFER: "the call is being transferred",
    }[state.step]
