"""Closing a call's record, wherever the call ended: a pending charge is never left behind."""

from __future__ import annotations

from agent.call_context import CallContext
from agent.charging import charge_request, charge_with_retry, record_paid
from agent.handoff import TransferReason, new_request
from agent.tools.receipt import deliver_receipt
from agent.workflow import CallState, ChargeState, Step
from payment_tools.gateway import ChargeStatus
from voicepay.call_records import record_call


async def close_call_record(call: CallContext, outcome: str) -> CallState:
    """End the workflow with ``outcome`` (unless it already ended) and return the final state.

    A charge still pending (the caller hung up while the processor was answering, or its answer
    was lost) on a call not handed to a person is asked again with its idempotency key, which
    never charges twice: a payment that went through is recorded, posted to the account and its
    receipt sent, as is one the caller left before the agent's closing questions (once
    ``end_call`` has begun, the caller has had their say on the receipt); one still unknown is
    queued for a person to reconcile. A paid call's outcome is ``paid`` however it ended, unless
    it was transferred.
    """
    state = await call.state()
    if state.charge_state is ChargeState.PENDING and state.step is not Step.TRANSFER:
        # A transferred call's pending charge is a person's to reconcile: the caller may have
        # declined to try again, so it is never re-sent behind their back.
        state = await _settle_pending_charge(call, state)
    queue = call.settings.transfer.queue
    if state.charge_state is ChargeState.PENDING:
        await call.services.handoffs.enqueue(
            new_request(state, call.events.history, TransferReason.PAYMENT_UNCONFIRMED, queue)
        )
        call.events.emit("handoff", reason=TransferReason.PAYMENT_UNCONFIRMED.value, queue=queue)
    elif (
        state.paid
        and not state.receipt_delivered
        and state.step is not Step.END
        and state.card is not None
        and not call.ending
    ):
        account = await call.account()
        if account is not None:
            await deliver_receipt(call, state, account)
    final, _ = await call.update(lambda s: s.end("paid" if s.paid else outcome))
    await record_call(call, final)
    return final


async def _settle_pending_charge(call: CallContext, state: CallState) -> CallState:
    """Learn the pending charge's outcome by sending it again under the same key."""
    key = state.idempotency_key
    if key is None:
        return state
    result = await charge_with_retry(call, charge_request(call, state, key))
    if result.status is ChargeStatus.SUCCEEDED and result.reference:
        return await record_paid(call, result.reference)
    if result.status is ChargeStatus.DECLINED:
        reason = result.decline_reason.value if result.decline_reason else "generic"
        state, _ = await call.update(lambda s: s.charge_declined(reason))
    return state
