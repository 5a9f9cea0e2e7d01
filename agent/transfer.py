"""Handing a call to a person: warm, with a brief, and never leaving the caller in silence.

The workflow moves to ``transfer`` and the hand-off (a redacted summary and a structured brief) is
queued for the console. The caller is told, then held: with a SIP trunk configured, LiveKit's
``WarmTransferTask`` dials a human agent, briefs them and moves them into the caller's room;
otherwise the caller waits for a person to accept the transfer in the console, hearing a short
message every so often. If nobody takes the call in time, a call-back is booked and the caller is
told so. Either way the bot's part of the call then ends.
"""

from __future__ import annotations

import asyncio
import logging

from livekit.agents import ToolError

from agent.brief import build_brief, spoken_brief
from agent.call_context import CallContext
from agent.handoff import TransferReason, new_request
from agent.workflow import Step
from voicepay.handoff_brief import HandoffBrief

logger = logging.getLogger(__name__)

_BRIEFING_S = 60.0
"""How long the person may take, once they answer, to be briefed and connect to the caller."""


async def hand_over(call: CallContext, reason: TransferReason, *, trigger: str = "") -> str:
    """Transfer the call to a person; returns how it ended (``connected`` or ``callback``)."""
    settings = call.settings.transfer
    state = await call.state()
    if state.step in (Step.END, Step.TRANSFER):
        return "not_expected"
    state, _ = await call.update(lambda s: s.transfer(reason.value))
    account = (
        await call.services.accounts.get(state.account_number) if state.account_number else None
    )
    brief = build_brief(call, state, account, reason.value, trigger)
    request = new_request(state, call.events.history, reason, settings.queue)
    entry_id = await call.services.handoffs.enqueue(request, brief)
    call.events.emit("handoff", reason=reason.value, queue=settings.queue, trigger=trigger)
    await call.say(call.prompts.text("transfer.announce"), in_context=True)
    agent = await _connect(call, entry_id, brief)
    if agent is not None:
        call.events.emit("human_joined", queue=settings.queue)
        await call.say(call.prompts.text("transfer.connected"), in_context=True)
        outcome = "connected"
    else:
        await _book_callback(call, reason)
        await call.say(call.prompts.text("transfer.callback"), in_context=True)
        outcome = "callback"
    call.events.emit("outcome", outcome="transferred", reason=reason.value, human=outcome)
    call.request_hangup()
    return outcome


async def _connect(call: CallContext, entry_id: str, brief: HandoffBrief) -> str | None:
    """Bring a person to the caller; their name, or ``None`` when nobody came in time."""
    settings = call.settings.transfer
    sip = settings.sip_trunk_id and settings.sip_call_to
    # The person is briefed by a model: the SIP path needs a real LLM, not the directed dialog.
    if sip and call.services.llm is not None and _in_a_room(call):
        return await _sip_warm_transfer(call, brief)
    waiting = asyncio.ensure_future(
        call.services.humans.wait_for_agent(settings.queue, entry_id, settings.human_wait_s)
    )
    while True:
        done, _ = await asyncio.wait({waiting}, timeout=settings.hold_message_every_s)
        if done:
            return waiting.result()
        await call.say(call.prompts.text("transfer.queued"), in_context=False)


def _in_a_room(call: CallContext) -> bool:
    """Whether the call runs in a LiveKit room (a real or SIP call, not a text simulation)."""
    if call.session is None:
        return False
    try:
        return call.session.room_io is not None
    except RuntimeError:
        return False


async def _sip_warm_transfer(call: CallContext, brief: HandoffBrief) -> str | None:
    """LiveKit's warm transfer over SIP: hold music, dial, brief the person, merge the calls."""
    from livekit.agents.beta.workflows import WarmTransferTask

    settings = call.settings.transfer
    if call.session is None or settings.sip_call_to is None:
        return None
    task = WarmTransferTask(
        settings.sip_call_to,
        sip_trunk_id=settings.sip_trunk_id,
        chat_ctx=call.session.history.copy(),
        extra_instructions=spoken_brief(brief),
        ringing_timeout=settings.human_wait_s,
    )
    # A person who answers but never connects must not keep the caller on hold for ever.
    deadline = asyncio.get_running_loop().call_later(
        settings.human_wait_s + _BRIEFING_S, task.cancel
    )
    try:
        result = await task
    except ToolError:
        logger.warning("SIP warm transfer failed; booking a call-back")
        return None
    finally:
        deadline.cancel()
    return result.human_agent_identity


async def _book_callback(call: CallContext, reason: TransferReason) -> None:
    state = await call.state()
    account = (
        await call.services.accounts.get(state.account_number) if state.account_number else None
    )
    await call.services.handoffs.book_callback(
        call_id=call.call_id,
        account=state.account_number or "",
        phone=account.phone if account else "",
        reason=reason,
    )
    call.events.emit("callback_booked", reason=reason.value)
