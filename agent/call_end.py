"""Closing a call's record, wherever the call ended: a pending charge is never left behind."""

from __future__ import annotations

from agent.call_context import CallContext
from agent.handoff import TransferReason, new_request
from agent.workflow import CallState, ChargeState


async def close_call_record(call: CallContext, outcome: str) -> CallState:
    """End the workflow with ``outcome`` (unless it already ended) and return the final state.

    A call that ends with a charge whose outcome is unknown (the caller hung up while the
    processor did not answer) is queued for a person to reconcile: the money may have moved.
    """
    state = await call.state()
    queue = call.settings.transfer.queue
    if state.charge_state is ChargeState.PENDING:
        await call.services.handoffs.enqueue(
            new_request(state, call.events.history, TransferReason.PAYMENT_UNCONFIRMED, queue)
        )
        call.events.emit("handoff", reason=TransferReason.PAYMENT_UNCONFIRMED.value, queue=queue)
    final, _ = await call.update(lambda s: s.end(outcome))
    return final
