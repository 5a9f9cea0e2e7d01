"""Tools that tell the balance, agree the amount, capture the card on the keypad and charge it."""

from __future__ import annotations

from typing import Literal

from livekit.agents import RunContext, ToolResult, function_tool

from agent.call_context import CallContext
from agent.capture_prompter import SpokenCapturePrompter
from agent.charging import (
    charge_request,
    charge_with_retry,
    ensure_kept_card_customer,
    record_paid,
)
from agent.formatting import confirmation_code, format_date, spell_out
from agent.nlu import parse_amount
from agent.readback import readback_text
from agent.tool_reply import tool_reply
from agent.tools._common import read_back, verified_account, workflow_hint
from agent.tools.receipt import receipt_offer
from agent.workflow import (
    MAX_DECLINES,
    MAX_FAILED_CAPTURES,
    AmountKind,
    CallState,
    CardOnCall,
    Step,
    WorkflowViolation,
)
from payment_tools.capture import CaptureProgress, CaptureStatus
from payment_tools.gateway import ChargeStatus
from payment_tools.ids import random_hex
from payment_tools.keypad import SessionInProgress
from voicepay.accounts import Account
from voicepay.money import Money

_AMOUNT_STEPS = (Step.BALANCE, Step.AMOUNT, Step.CAPTURE, Step.CONFIRM)


@function_tool
async def get_balance(context: RunContext[CallContext]) -> str:
    """Get what the verified caller owes: balance, minimum payment and due date.

    Call this right after verify_identity succeeds, or when the caller asks for their balance.
    """
    call = context.userdata
    state = await call.state()
    account = await verified_account(call, state)
    if account is None or state.step not in _AMOUNT_STEPS:
        return tool_reply("not_expected", next_action=workflow_hint(state))
    await call.update(lambda s: s.balance_told())
    balance = Money(account.balance_minor, account.currency)
    minimum = _minimum_due(call, account)
    if account.balance_minor == 0:
        return tool_reply(
            "nothing_due", say=call.prompts.text("balance.nothing_due"), next_action="end_call"
        )
    say = call.prompts.text(
        "balance.tell",
        holder=account.holder_name.split()[0],
        balance=balance.format(call.language),
        due_date=format_date(account.due_date, call.language),
        minimum=minimum.format(call.language),
    )
    return tool_reply(
        "balance",
        say=f"{say} {call.prompts.text('amount.ask')}",
        next_action="ask how much they want to pay, then call set_amount",
        balance=balance.format(call.language),
        minimum=minimum.format(call.language),
        due_date=account.due_date.isoformat(),
    )


@function_tool
async def set_amount(
    context: RunContext[CallContext],
    choice: Literal["full", "minimum", "partial"],
    amount: str | None = None,
) -> str | ToolResult:
    """Record the amount the caller agreed to pay today.

    Args:
        choice: "full" for the whole balance, "minimum" for the minimum payment, "partial" for
            another amount.
        amount: for "partial", the amount as the caller said it (e.g. "42.50" or "fifty euros").
    """
    call = context.userdata
    state = await call.state()
    account = await verified_account(call, state)
    if account is None or state.step not in _AMOUNT_STEPS:
        return tool_reply("not_expected", next_action=workflow_hint(state))
    chosen = _resolve_amount(call, account, choice, amount)
    if isinstance(chosen, str):
        return tool_reply(
            "amount_rejected",
            reason=chosen,
            say=call.prompts.text(
                f"amount.error.{chosen}",
                minimum=Money(call.settings.payments.min_payment_minor, account.currency).format(
                    call.language
                ),
                maximum=Money(call.settings.payments.max_payment_minor, account.currency).format(
                    call.language
                ),
                balance=Money(account.balance_minor, account.currency).format(call.language),
            )
            + " "
            + call.prompts.text("amount.ask"),
            next_action="ask for another amount",
        )
    money, kind = chosen
    try:
        state, _ = await call.update(lambda s: s.set_amount(money.minor, kind))
    except WorkflowViolation as refused:
        return tool_reply("refused", code=refused.code, next_action=workflow_hint(state))
    if state.card is not None:
        await read_back(call)
        return ToolResult(
            tool_reply("amount_set", next_action="wait for yes or no"), reply_required=False
        )
    offer = await _saved_card_offer(call, state)
    if offer is not None:
        said = call.prompts.text("amount.set", amount=money.format(call.language))
        return tool_reply(
            "saved_card_offered",
            amount=money.format(call.language),
            say=f"{said} {offer}",
            next_action="if the caller says yes call use_saved_card, if no call capture_card",
        )
    return tool_reply(
        "amount_set",
        amount=money.format(call.language),
        say=call.prompts.text("amount.set", amount=money.format(call.language)),
        next_action="call capture_card now",
    )


@function_tool
async def capture_card(context: RunContext[CallContext]) -> str | ToolResult:
    """Take the caller's card on the phone keypad: number, expiry and security code.

    Call this once the amount is set, or when the caller wants to use another card. The caller
    types on the keypad; you never see or hear a digit, and you get back only the brand and the
    last four digits. Never ask the caller to say card details aloud.
    """
    call = context.userdata
    state = await call.state()
    if not state.can_capture():
        return tool_reply("not_expected", next_action=workflow_hint(state))
    prompter = SpokenCapturePrompter(call)
    await context.wait_for_playout()
    try:
        async with call.keypad_only() as keys:
            await call.say(call.prompts.text("capture.intro"), in_context=False)
            entry = await call.services.desk.capture(
                keys,
                prompter,
                idempotency_key=f"{call.call_id}:card:{random_hex(16)}",
                on_progress=lambda progress: _report_progress(call, progress),
            )
    except SessionInProgress:
        return tool_reply("busy", say=call.prompts.text("capture.busy"))
    if call.keypad_interrupt is not None:
        await call.update(lambda s: s.capture_failed())
        return tool_reply("interrupted", transfer_reason=call.keypad_interrupt)
    call.events.emit(
        "capture_result",
        status=entry.status.value,
        brand=entry.brand,
        last4=entry.last4,
        errors=[error.value for error in entry.errors],
        rejection=entry.rejection.value if entry.rejection else None,
    )
    if entry.status is CaptureStatus.SUCCESS and entry.token and entry.brand and entry.last4:
        card = CardOnCall(brand=entry.brand, last4=entry.last4, token=entry.token)
        await call.update(lambda s: s.card_captured(card))
        await read_back(call)
        return ToolResult(
            tool_reply(
                "card_captured",
                brand=entry.brand,
                last4=entry.last4,
                next_action="the amount and card were read back; wait for the caller's yes or no",
            ),
            reply_required=False,
        )
    if entry.status is CaptureStatus.CALLER_HUNG_UP:
        await call.update(lambda s: s.end("caller_hung_up"))
        return tool_reply("caller_hung_up")
    state, _ = await call.update(lambda s: s.capture_failed())
    say = call.prompts.text(f"capture.result.{entry.status.value}")
    if entry.rejection is not None:
        say = call.prompts.text(f"charge.declined.{entry.rejection.value}")
    if state.capture_failures >= MAX_FAILED_CAPTURES:
        return tool_reply(
            "capture_failed",
            status=entry.status.value,
            say=say,
            transfer_reason="capture_failed",
            next_action="call transfer_to_human with reason capture_failed",
        )
    return tool_reply(
        "capture_failed",
        status=entry.status.value,
        say=f"{say} {call.prompts.text('charge.retry_offer')}",
        next_action="if the caller wants to try again, call capture_card",
    )


@function_tool(on_duplicate="reject")
async def confirm_and_charge(context: RunContext[CallContext]) -> str:
    """Charge the card once the caller has said yes to the amount and card read back to them.

    The system checks the caller's own answer; calling this without it is refused. If a previous
    attempt could not be confirmed, calling it again retries safely without charging twice.
    """
    call = context.userdata
    if not await ensure_kept_card_customer(call):
        return tool_reply(
            "unavailable",
            say=call.prompts.text("capture.result.payment-connector-error"),
            next_action="call confirm_and_charge again, or transfer_to_human",
        )
    try:
        state, key = await call.update(lambda s: s.begin_charge())
    except WorkflowViolation as refused:
        state = await call.state()
        say = None
        if refused.code == "not_confirmed" and state.step is Step.CONFIRM:
            readback = readback_text(call.prompts, state.terms())
            say = f"{call.prompts.text('confirm.unclear')} {readback}"
        return tool_reply("refused", code=refused.code, say=say, next_action=workflow_hint(state))
    terms = state.terms()
    amount = Money(terms.amount_minor, terms.currency)
    result = await charge_with_retry(call, charge_request(call, state, key))
    if result.status is ChargeStatus.SUCCEEDED and result.reference:
        reference = result.reference
        await record_paid(call, reference)
        code = confirmation_code(reference)
        success = call.prompts.text(
            "charge.success",
            amount=amount.format(call.language),
            reference_spoken=spell_out(code),
        )
        if terms.plan is not None:
            following = terms.plan.later[0]
            success += " " + call.prompts.text(
                "plan.set_up",
                amount=Money(following.amount_minor, terms.currency).format(call.language),
                date=format_date(following.due, call.language),
            )
        return tool_reply(
            "paid",
            confirmation_code=code,
            say=f"{success} {await receipt_offer(call)}",
            next_action="if the caller wants a receipt call send_receipt, then end_call",
        )
    if result.status is ChargeStatus.DECLINED:
        reason = result.decline_reason.value if result.decline_reason else "generic"
        state, _ = await call.update(lambda s: s.charge_declined(reason))
        if len(state.declines) >= MAX_DECLINES:
            return tool_reply(
                "declined",
                reason=reason,
                say=call.prompts.text("charge.too_many_declines"),
                transfer_reason="repeated_declines",
                next_action="call transfer_to_human with reason repeated_declines",
            )
        declined = call.prompts.text(f"charge.declined.{reason}")
        return tool_reply(
            "declined",
            reason=reason,
            say=f"{declined} {call.prompts.text('charge.retry_offer')}",
            next_action="if the caller wants to try another card, call capture_card",
        )
    return tool_reply(
        "unconfirmed",
        say=call.prompts.text("charge.unknown"),
        next_action=(
            "call confirm_and_charge again to retry safely, "
            "or transfer_to_human with reason payment_unconfirmed"
        ),
    )


async def _saved_card_offer(call: CallContext, state: CallState) -> str | None:
    """The question "shall I use the card on file?", when the account keeps one."""
    stored = await call.services.saved_cards.get(state.account_number or "")
    if stored is None or not stored.reusable or not state.can_capture():
        return None
    await call.update(lambda s: s.saved_card_offered())
    return call.prompts.text(
        "saved_card.offer",
        brand=call.prompts.brand_name(stored.brand),
        last4=stored.last4,
    )


def _minimum_due(call: CallContext, account: Account) -> Money:
    floor = min(call.settings.payments.min_payment_minor, account.balance_minor)
    return Money(max(account.minimum_due_minor, floor), account.currency)


def _resolve_amount(
    call: CallContext, account: Account, choice: str, amount: str | None
) -> tuple[Money, AmountKind] | str:
    """The amount the caller chose, or the name of the limit it breaks."""
    balance = Money(account.balance_minor, account.currency)
    if choice == "partial":
        intent = parse_amount(amount or "", call.language, account.currency)
        if intent is None:
            return "unclear"
        choice = intent.kind
        if intent.kind == "partial":
            if intent.money is None:
                return "unclear"
            money = intent.money
            if money.currency != account.currency or money.minor <= 0:
                return "unclear"
            if money.minor > balance.minor:
                return "above_balance"
            if money.minor < min(call.settings.payments.min_payment_minor, balance.minor):
                return "below_minimum"
            if money.minor > call.settings.payments.max_payment_minor:
                return "above_maximum"
            return money, AmountKind.PARTIAL
    chosen = balance if choice == "full" else _minimum_due(call, account)
    if chosen.minor > call.settings.payments.max_payment_minor:
        return "above_maximum"
    return chosen, AmountKind.FULL if choice == "full" else AmountKind.MINIMUM


def _report_progress(call: CallContext, progress: CaptureProgress) -> None:
    call.events.emit(
        "capture_progress",
        field=progress.field.value,
        attempt=progress.attempt,
        error=progress.error.value if progress.error else None,
        masked_number=progress.masked_number,
        brand=progress.brand,
        required=[f.value for f in progress.required_fields],
        status=progress.status.value if progress.status else None,
    )
