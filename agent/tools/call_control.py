"""Tools that end the call or hand it to a human."""

from __future__ import annotations

from livekit.agents import RunContext, ToolResult, function_tool

from agent.call_context import CallContext
from agent.handoff import TransferReason
from agent.survey import run_survey
from agent.tool_reply import tool_reply
from agent.transfer import hand_over
from agent.voice_enrolment import offer_voice_enrolment
from agent.workflow import Step


@function_tool
async def end_call(context: RunContext[CallContext]) -> ToolResult:
    """Say goodbye and end the call.

    Call this when the caller is done (after the receipt, or when they want to stop).
    """
    call = context.userdata
    state = await call.state()
    if state.step is Step.END:
        # Said goodbye already: the line is closing, nothing is asked or said twice.
        call.request_hangup()
        return ToolResult(tool_reply("ended", outcome=state.outcome), reply_required=False)
    call.ending = True
    await context.wait_for_playout()
    await offer_voice_enrolment(call, state)
    await run_survey(call, state)
    outcome = "paid" if state.paid else "not_paid"
    await call.update(lambda s: s.end(outcome))
    if not call.caller_gone:
        await call.say(call.prompts.text("end.goodbye"), in_context=True)
    call.events.emit("outcome", outcome=state.outcome or outcome)
    call.request_hangup()
    return ToolResult(tool_reply("ended", outcome=outcome), reply_required=False)


@function_tool
async def transfer_to_human(context: RunContext[CallContext], reason: TransferReason) -> ToolResult:
    """Hand the call to a human agent, with a brief of the call so far.

    Call this when the caller asks for a person; disputes the bill; reports fraud or a stolen
    card; is in real hardship (lost income, cannot meet basic needs); mentions a bereavement, a
    complaint or legal action; is clearly upset; or when a tool answer says to transfer.

    Args:
        reason: why the call goes to a person.
    """
    call = context.userdata
    await context.wait_for_playout()
    outcome = await hand_over(call, reason, trigger=_trigger_detail(call, reason))
    return ToolResult(
        tool_reply("transferred", reason=reason.value, human=outcome), reply_required=False
    )


def _trigger_detail(call: CallContext, reason: TransferReason) -> str:
    """What made the call go to a person, in words (the code's trigger, or the model's choice)."""
    trigger = call.pending_transfer
    call.pending_transfer = None
    if trigger is not None and trigger.reason.value == reason.value:
        return trigger.detail
    return "chosen by the agent"
