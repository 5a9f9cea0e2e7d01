"""Tools that end the call or hand it to a human."""

from __future__ import annotations

from livekit.agents import RunContext, ToolResult, function_tool

from agent.call_context import CallContext
from agent.handoff import TransferReason, new_request
from agent.tool_reply import tool_reply
from agent.workflow import Step

HANDOFF_QUEUE = "payments"


@function_tool
async def end_call(context: RunContext[CallContext]) -> ToolResult:
    """Say goodbye and end the call.

    Call this when the caller is done (after the receipt, or when they want to stop).
    """
    call = context.userdata
    state = await call.state()
    outcome = "paid" if state.paid else "not_paid"
    await call.update(lambda s: s.end(outcome))
    await call.say(call.prompts.text("end.goodbye"), in_context=True)
    call.events.emit("outcome", outcome=state.outcome or outcome)
    call.request_hangup()
    return ToolResult(tool_reply("ended", outcome=outcome), reply_required=False)


@function_tool
async def transfer_to_human(context: RunContext[CallContext], reason: TransferReason) -> ToolResult:
    """Hand the call to a human agent, with a summary of the call so far.

    Call this when the caller asks for a person, or when a tool answer says to transfer.

    Args:
        reason: why the call goes to a person.
    """
    call = context.userdata
    state = await call.state()
    if state.step in (Step.END, Step.TRANSFER):
        return ToolResult(tool_reply("not_expected"), reply_required=False)
    state, _ = await call.update(lambda s: s.transfer(reason.value))
    request = new_request(state, call.events.history, reason, HANDOFF_QUEUE)
    await call.services.handoffs.enqueue(request)
    call.events.emit("handoff", reason=reason.value, queue=HANDOFF_QUEUE)
    await call.say(call.prompts.text("transfer.announce"), in_context=True)
    call.events.emit("outcome", outcome="transferred", reason=reason.value)
    return ToolResult(tool_reply("transferred", reason=reason.value), reply_required=False)
