"""Charging the agreed terms: the request, a safe retry, and recording a payment made."""

from __future__ import annotations

import asyncio

from agent.call_context import CallContext
from agent.card_on_file import keep_card_on_file
from agent.workflow import (
    CallState,
)
from payment_tools.gateway import ChargeRequest, ChargeResult, ChargeStatus, GatewayError
from voicepay.money import Money

RETRY_DELAY_S = 0.5
"""Pause before retrying a charge whose outcome is unknown (same idempotency key)."""


def charge_request(call: CallContext, state: CallState, key: str) -> ChargeRequest:
    """The charge of the call's agreed terms under ``key``; identical for every retry of it."""
    terms = state.terms()
    return ChargeRequest(
        token=terms.card.token,
        amount_minor=terms.amount_minor,
        currency=terms.currency,
        idempotency_key=key,
        description=f"{call.settings.payments.merchant_name} balance payment",
        metadata={"account": state.account_number or "", "call_id": call.call_id},
        customer=terms.card.customer,
        save_card=state.saves_card,
    )


async def charge_with_retry(call: CallContext, request: ChargeRequest) -> ChargeResult:
    """Send the charge; an unknown outcome is asked again once with the same key."""
    amount = Money(request.amount_minor, request.currency).to_decimal_str()
    key = request.idempotency_key
    call.events.emit(
        "charge_attempt", idempotency_key=key, amount=amount, keeps_card=request.save_card
    )
    result = await call.services.desk.charge(request)
    if result.status is ChargeStatus.FAILED and result.retryable:
        # The outcome is unknown: ask again with the same key, which can never charge twice.
        await asyncio.sleep(RETRY_DELAY_S)
        call.events.emit(
            "charge_attempt", idempotency_key=key, amount=amount, keeps_card=request.save_card
        )
        result = await call.services.desk.charge(request)
    call.events.emit(
        "charge_result",
        status=result.status.value,
        decline_reason=result.decline_reason.value if result.decline_reason else None,
        reference=result.reference,
    )
    return result


async def record_paid(call: CallContext, reference: str) -> CallState:
    """Record the pending charge as paid and post it to the account (once per reference)."""
    state, _ = await call.update(lambda s: s.charge_succeeded(reference))
    if state.account_number:
        terms = state.terms()
        await call.services.accounts.apply_payment(
            state.account_number, terms.amount_minor, terms.currency, reference
        )
        if state.saves_card:
            await keep_card_on_file(call, state, reference)
    return state


async def ensure_kept_card_customer(call: CallContext) -> bool:
    """Make sure a card to be kept on file has its processor customer; ``False`` if unreachable.

    The customer is created once per account (an idempotent request) and remembered, so every
    retry of the charge sends the same request.
    """
    state = await call.state()
    card = state.card
    if not state.saves_card or card is None or card.customer is not None:
        return True
    account = state.account_number or ""
    customer = await call.services.saved_cards.customer(account)
    if customer is None:
        try:
            customer = await call.services.desk.create_customer(
                account_number=account, idempotency_key=f"customer:{account}"
            )
        except GatewayError as failed:
            call.events.emit("customer_failed", code=failed.code)
            return False
        await call.services.saved_cards.remember_customer(account, customer)
    chosen = customer
    await call.update(lambda s: s.card_kept_for(chosen))
    return True
