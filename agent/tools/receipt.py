"""The receipt tool and its delivery, in the call's language, by text message and/or e-mail."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Literal

from livekit.agents import RunContext, function_tool

from agent.call_context import CallContext
from agent.formatting import confirmation_code
from agent.tool_reply import tool_reply
from agent.tools._common import verified_account, workflow_hint
from agent.workflow import (
    CallState,
    WorkflowViolation,
)
from voicepay.accounts import Account
from voicepay.money import Money
from voicepay.receipts import Receipt, ReceiptChannel, ReceiptError, choose_channels

_RECEIPT_CHOICES: dict[str, frozenset[ReceiptChannel]] = {
    "sms": frozenset({"sms"}),
    "email": frozenset({"email"}),
    "both": frozenset({"sms", "email"}),
}


@function_tool
async def send_receipt(
    context: RunContext[CallContext], channel: Literal["sms", "email", "both"] | None = None
) -> str:
    """Send the payment receipt by text message, e-mail or both.

    Call this after a successful payment when the caller wants a receipt.

    Args:
        channel: what the caller asked for: "sms" (a text message), "email" or "both"; leave it
            out when they simply said yes.
    """
    call = context.userdata
    state = await call.state()
    account = await verified_account(call, state)
    if not state.paid or state.payment_reference is None or account is None:
        return tool_reply("not_expected", next_action=workflow_hint(state))
    requested = _RECEIPT_CHOICES[channel] if channel else None
    sent = await deliver_receipt(call, state, account, requested)
    if not sent:
        return tool_reply(
            "receipt_failed", say=call.prompts.text("receipt.failed"), next_action="call end_call"
        )
    say = call.prompts.text(_receipt_sent_key(sent))
    if requested is not None and "email" in requested and "email" not in sent:
        say = f"{call.prompts.text('receipt.no_email')} {say}"
    return tool_reply("receipt_sent", channels=sorted(sent), say=say, next_action="call end_call")


async def deliver_receipt(
    call: CallContext,
    state: CallState,
    account: Account,
    channels: frozenset[ReceiptChannel] | None = None,
) -> frozenset[ReceiptChannel]:
    """Send the receipt of the call's payment in the call's language and record it.

    ``channels`` are those the caller asked for; by default the configured ones. Returns the
    channels that took the receipt (none when every sender failed; the call goes on).
    """
    if state.payment_reference is None:
        raise WorkflowViolation("not_paid")
    terms = state.terms()
    receipt = Receipt(
        language=call.language,
        merchant=call.settings.payments.merchant_name,
        amount=Money(terms.amount_minor, terms.currency),
        brand=call.prompts.brand_name(terms.card.brand),
        last4=terms.card.last4,
        confirmation_code=confirmation_code(state.payment_reference),
        paid_on=datetime.now(UTC).date(),
        phone=account.phone,
        email=account.email,
    )
    chosen = choose_channels(channels, call.settings.receipts.channels, receipt.available)
    try:
        sent = await call.services.receipts.send(receipt, chosen)
    except ReceiptError as failed:
        call.events.emit("receipt_failed", detail=str(failed))
        return frozenset()
    call.events.emit("receipt", channels=sorted(sent))
    await call.update(lambda s: s.receipt_sent())
    return sent


async def receipt_offer(call: CallContext) -> str:
    """The receipt question: "by text or e-mail?" when the account has both, else by text."""
    account = await call.account()
    return call.prompts.text(
        "receipt.offer_choice" if account is not None and account.email else "receipt.offer"
    )


def _receipt_sent_key(sent: frozenset[ReceiptChannel]) -> str:
    if len(sent) > 1:
        return "receipt.sent_both"
    return "receipt.sent_email" if "email" in sent else "receipt.sent"
