"""The secure payment link: the caller pays on their phone instead of the keypad.

:func:`send_payment_link` creates a one-time Checkout link for the agreed amount (its idempotency
key comes from the terms, see :meth:`agent.workflow.CallState.link_key`), texts (or e-mails) it
to the account holder and then holds the line, polling the call's own state, until the signed
webhook (:mod:`voicepay.webhooks`) says it was paid or expired, the caller leaves, or the
configured wait is over. No card data ever passes here: the caller types it on the processor's page.
"""

from __future__ import annotations

import asyncio
import math
from datetime import UTC, datetime
from typing import Literal

from livekit.agents import RunContext, function_tool

from agent.call_context import CallContext
from agent.formatting import confirmation_code, spell_out
from agent.nlu import Intent, detect_intents
from agent.tool_reply import tool_reply
from agent.tools.receipt import receipt_offer
from agent.workflow import CallState, LinkStatus, WorkflowViolation
from payment_tools.gateway import CheckoutLink, CheckoutRequest, GatewayError
from voicepay.accounts import Account
from voicepay.email_sender import EmailError, OutgoingEmail
from voicepay.money import Money
from voicepay.sms import SmsError, SmsMessage

_OFFER_KEYPAD = "offer the keypad instead: call capture_card if the caller agrees"
_LEAVING = frozenset({Intent.GOODBYE, Intent.CANCEL})


@function_tool(on_duplicate="reject")
async def send_payment_link(
    context: RunContext[CallContext], channel: Literal["sms", "email"] = "sms"
) -> str:
    """Send the caller a secure one-time payment link, then wait on the line for the payment.

    Call this when the caller prefers not to type their card on the keypad (e.g. "send me a
    link"), once the amount is agreed; also to send a new link after one expired. The caller pays
    on their own phone; you never see card details. The answer says whether it was paid, expired,
    or is still open (then the caller may hang up and pay later).

    Args:
        channel: "sms" texts the phone on the account; "email" mails the address on the account.
    """
    call = context.userdata
    state = await call.state()
    account = await call.account()
    if account is None or not state.can_send_link():
        return tool_reply("not_expected", next_action=_hint(state))
    services = call.services
    reachable = (
        services.sms is not None if channel == "sms" else bool(services.email and account.email)
    )
    if not reachable or services.checkout is None:
        return tool_reply(
            "link_unavailable", say=call.prompts.text("link.unavailable"), next_action=_OFFER_KEYPAD
        )
    key = state.link_key()
    try:
        link = await services.checkout.create_checkout(_request(call, state, account, key))
        state, _ = await call.update(lambda s: s.link_sent(link.session_id, key))
    except GatewayError as failed:
        call.events.emit("link_result", status="not_created", error=failed.code)
        return tool_reply("link_failed", say=_failed(call), next_action=_OFFER_KEYPAD)
    except WorkflowViolation as refused:
        return tool_reply("refused", code=refused.code, next_action=_hint(await call.state()))
    expires = _clock(link)
    body = call.prompts.text(
        "link.message",
        merchant=call.settings.payments.merchant_name,
        amount=_amount(call, state),
        url=link.url,
        expires=expires,
    )
    try:
        await _deliver(call, account, channel, body)
    except (SmsError, EmailError):
        await call.update(lambda s: s.link_withdrawn(link.session_id))
        call.events.emit("link_result", status="not_delivered")
        return tool_reply("link_failed", say=_failed(call), next_action=_OFFER_KEYPAD)
    call.events.emit("link_sent", channel=channel, session=link.session_id, expires=expires)
    sent = call.prompts.text(f"link.sent_by_{channel}")
    wait_s = call.settings.links.wait_s
    if wait_s <= 0:
        return tool_reply(
            "link_sent",
            say=f"{sent} {call.prompts.text('link.hang_up', expires=expires)}",
            next_action="the caller may hang up and pay later; call end_call when they are done",
        )
    await context.wait_for_playout()
    await call.say(f"{sent} {call.prompts.text('link.wait', expires=expires)}", in_context=True)
    return await _hold(call, wait_s, expires)


async def _deliver(call: CallContext, account: Account, channel: str, body: str) -> None:
    """Send the link's message to the account's phone or e-mail address."""
    services = call.services
    if channel == "email" and services.email is not None and account.email:
        subject = call.prompts.text("link.subject", merchant=call.settings.payments.merchant_name)
        await services.email.send(
            OutgoingEmail(to=account.email, subject=subject, body=body, purpose="payment_link")
        )
    elif services.sms is not None:
        await services.sms.send(SmsMessage(to=account.phone, body=body, purpose="payment_link"))


async def _hold(call: CallContext, wait_s: float, expires: str) -> str:
    """Wait on the line for the link to settle; the caller may speak (or hang up) meanwhile."""
    settings = call.settings.links
    loop = asyncio.get_running_loop()
    deadline = loop.time() + wait_s
    next_hold = loop.time() + settings.hold_message_every_s
    while True:
        state = await call.refresh()
        if state.link_status is not LinkStatus.OPEN:
            return await _settled(call, state)
        now = loop.time()
        if call.caller_gone:
            return tool_reply("caller_hung_up")
        if now >= deadline:
            call.events.emit("link_result", status="pending")
            return tool_reply(
                "link_pending",
                say=call.prompts.text("link.pending", expires=expires),
                next_action="the caller may pay later; call end_call when they are done",
            )
        if now >= next_hold:
            await call.say(call.prompts.text("link.hold"), in_context=False)
            next_hold = now + settings.hold_message_every_s
        said = await call.next_utterance(min(settings.poll_s, deadline - now))
        if said is None:
            continue
        intents = detect_intents(said, call.language)
        if Intent.HUMAN in intents:
            return tool_reply("link_pending", transfer_reason="caller_request")
        if intents & _LEAVING:
            call.events.emit("link_result", status="pending")
            return tool_reply(
                "link_pending",
                say=call.prompts.text("link.pay_later", expires=expires),
                next_action="call end_call",
            )


async def _settled(call: CallContext, state: CallState) -> str:
    """The answer once the webhook has settled the link: paid, or expired."""
    call.events.emit("link_result", status=state.link_status.value)
    if state.link_status is LinkStatus.PAID and state.payment_reference:
        code = confirmation_code(state.payment_reference)
        say = call.prompts.text(
            "link.paid", amount=_amount(call, state), reference_spoken=spell_out(code)
        )
        if state.card is None:
            # The processor could not say which card paid: there is nothing to put on a receipt.
            return tool_reply(
                "paid_no_receipt", confirmation_code=code, say=say, next_action="call end_call"
            )
        return tool_reply(
            "paid",
            confirmation_code=code,
            say=f"{say} {await receipt_offer(call)}",
            next_action="if the caller wants a receipt call send_receipt, then end_call",
        )
    return tool_reply(
        "link_expired",
        say=call.prompts.text("link.expired"),
        next_action="offer the keypad (capture_card) or a new link (send_payment_link)",
    )


def _request(call: CallContext, state: CallState, account: Account, key: str) -> CheckoutRequest:
    """The link of the agreed terms; identical for every retry under ``key`` within a minute."""
    amount, currency = state.amount_minor, state.currency
    if amount is None or currency is None:
        raise WorkflowViolation("no_amount")
    # Rounded up to the minute, so that a retry soon after sends the same parameters (Stripe
    # refuses a reused idempotency key with different ones) and the link still lives ttl_s.
    minutes = math.ceil((datetime.now(UTC).timestamp() + call.settings.links.ttl_s) / 60)
    return CheckoutRequest(
        amount_minor=amount,
        currency=currency,
        idempotency_key=key,
        description=f"{call.settings.payments.merchant_name} balance payment",
        expires_at=datetime.fromtimestamp(minutes * 60, UTC),
        success_url=call.settings.links.success_url,
        metadata={"account": account.number, "call_id": call.call_id},
        locale=call.language if call.language in ("en", "fr") else "en",
    )


def _amount(call: CallContext, state: CallState) -> str:
    if state.amount_minor is None or state.currency is None:
        raise WorkflowViolation("no_amount")
    return Money(state.amount_minor, state.currency).format(call.language)


def _clock(link: CheckoutLink) -> str:
    return f"{link.expires_at.astimezone(UTC):%H:%M} UTC"


def _failed(call: CallContext) -> str:
    return call.prompts.text("link.failed")


def _hint(state: CallState) -> str:
    if not state.verified:
        return "verify the caller first"
    if state.amount_minor is None:
        return "agree the amount first (set_amount)"
    if state.link_status is LinkStatus.OPEN:
        return "a link is already open; wait for it to be paid or to expire"
    return "a link cannot be sent at this step"
