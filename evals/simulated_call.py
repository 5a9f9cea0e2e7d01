"""Plays a scripted caller against the real agent in text mode and collects what happened."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from livekit.agents import llm

from agent.artefacts import ArtefactWriter, call_summary
from agent.call_context import CallServices
from agent.events import CallEvent, EventListener
from agent.runtime import open_call
from agent.text_call import TextCall
from agent.workflow import CallState
from evals.scenario import HangUpTurn, KeysTurn, SayTurn, Scenario, SilenceTurn


@dataclass
class CallRun:
    """The result of one simulated call."""

    state: CallState
    summary: dict[str, Any]
    events: list[CallEvent]
    history: llm.ChatContext


async def play(call: TextCall, scenario: Scenario) -> None:
    """Perform the caller's turns until the script or the call ends."""
    for turn in scenario.caller:
        if call.over:
            return
        match turn:
            case SayTurn(say=text):
                await call.say(text)
            case KeysTurn(keys=keys):
                await call.press(keys)
            case SilenceTurn(silence=seconds):
                await call.wait(seconds)
            case HangUpTurn():
                await call.hang_up()


async def run_scenario(
    services: CallServices,
    scenario: Scenario,
    *,
    out_dir: Path | None = None,
    listeners: Iterable[EventListener] = (),
    call_id: str | None = None,
) -> CallRun:
    """Run ``scenario`` as one call; with ``out_dir``, write the call's artefacts there."""
    call = await open_call(services, language=scenario.language, call_id=call_id)
    writer = ArtefactWriter(out_dir) if out_dir is not None else None
    if writer is not None:
        call.events.subscribe(writer)
    for listener in listeners:
        call.events.subscribe(listener)
    text_call = TextCall(call)
    await text_call.start()
    await play(text_call, scenario)
    history = text_call.session.history.copy()
    state = await text_call.close(outcome="caller_hung_up")
    summary = writer.finish(state) if writer is not None else call_summary(state)
    return CallRun(state=state, summary=summary, events=list(call.events.history), history=history)
