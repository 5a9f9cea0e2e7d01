"""Plays a scripted caller against the real agent (text or voice mode); collects what happened."""

from __future__ import annotations

import re
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from livekit.agents import llm
from livekit.agents.metrics import LLMModelUsage

from agent.artefacts import ArtefactWriter, call_summary
from agent.call_context import CallContext, CallServices
from agent.events import CallEvent, EventListener
from agent.one_time_code import CODE_DIGITS
from agent.runtime import open_call
from agent.text_call import TextCall
from agent.workflow import CallState
from evals.link_turn import act_on_link
from evals.scenario import (
    ChallengeAnswerTurn,
    HangUpTurn,
    KeysTurn,
    LinkTurn,
    SayTurn,
    Scenario,
    SilenceTurn,
    SmsCodeTurn,
    VoiceTurn,
)
from evals.shared_data import load_clips
from voicepay.sms import OutboxSmsSender

if TYPE_CHECKING:
    from agent.voice_call import VoiceCall

CallMode = Literal["text", "voice"]
"""Text: typed speech and SIP key events. Voice: the full audio pipeline (``agent.voice_call``)."""
ModelFactory = Callable[[CallContext], llm.LLM[Any]]
Player = Callable[["TextCall"], Awaitable[list[float]]]


@dataclass
class CallRun:
    """The result of one simulated call."""

    state: CallState
    summary: dict[str, Any]
    events: list[CallEvent]
    history: llm.ChatContext
    turn_ms: list[float] = field(default_factory=list)
    input_tokens: int = 0
    output_tokens: int = 0

    @property
    def turns(self) -> int:
        """How many caller turns were played before the call ended."""
        return len(self.turn_ms)


async def play(call: TextCall | VoiceCall, scenario: Scenario) -> list[float]:
    """Perform the caller's turns until the script or the call ends; returns each turn's ms."""
    timings: list[float] = []
    for turn in scenario.caller:
        if call.over:
            break
        started = time.perf_counter()
        match turn:
            case SayTurn(say=text):
                await call.say(text)
            case VoiceTurn(voice=clips, transcript=text):
                samples, rate = load_clips(clips)
                await call.speak(samples, rate, text)
            case ChallengeAnswerTurn(challenge_answer=speaker, take=take):
                digits = _asked_digits(call)
                if digits is None:
                    continue
                clips = [f"fsdd/recordings/{digit}_{speaker}_{take}.wav" for digit in digits]
                samples, rate = load_clips(clips)
                await call.speak(samples, rate, " ".join(digits))
            case KeysTurn(keys=keys):
                await call.press(keys)
            case SmsCodeTurn(sms_code=which):
                code = _last_code(call)
                if code is not None:
                    await call.press(_wrong(code) if which == "wrong" else f"{code}#")
            case LinkTurn(link=action):
                await act_on_link(call, action, scenario)
            case SilenceTurn(silence=seconds):
                await call.wait(seconds)
            case HangUpTurn():
                await call.hang_up()
        timings.append((time.perf_counter() - started) * 1000)
    return timings


def _last_code(call: TextCall | VoiceCall) -> str | None:
    """The one-time code in the latest text message the caller's phone received, if any."""
    codes = call.call.services.codes
    if codes is None or not isinstance(codes.sender, OutboxSmsSender):
        return None
    texts = [m["body"] for m in codes.sender.messages() if m["purpose"] == "one_time_code"]
    found = re.search(rf"\b\d{{{CODE_DIGITS}}}\b", texts[-1]) if texts else None
    return found.group() if found else None


def _wrong(code: str) -> str:
    return "".join(str((int(d) + 1) % 10) for d in code) + "#"


def _asked_digits(call: TextCall | VoiceCall) -> str | None:
    """The digits of the challenge the agent is waiting for an answer to, if any."""
    if not call.call.listening.is_set():
        return None
    asked = [e for e in call.call.events.history if e.kind == "voice_challenge"]
    return str(asked[-1].data["digits"]) if asked else None


async def run_scenario(
    services: CallServices,
    scenario: Scenario,
    *,
    out_dir: Path | None = None,
    listeners: Iterable[EventListener] = (),
    call_id: str | None = None,
    model: ModelFactory | None = None,
    player: Player | None = None,
    mode: CallMode = "text",
) -> CallRun:
    """Run ``scenario`` as one call; with ``out_dir``, write the call's artefacts there.

    Args:
        services: the process's services.
        scenario: the scripted caller.
        out_dir: where to write ``call.json``, the transcript, events and LLM requests.
        listeners: extra event listeners (e.g. a console view).
        call_id: a fixed call id (for reproducible runs).
        model: builds the call's LLM instead of the configured one.
        player: plays the caller instead of the scenario's script (e.g. a goal-driven caller).
        mode: ``voice`` plays the script as audio (and records the call into ``out_dir``).
    """
    call = await open_call(services, language=scenario.language, call_id=call_id)
    writer = ArtefactWriter(out_dir) if out_dir is not None else None
    if writer is not None:
        call.events.subscribe(writer)
    for listener in listeners:
        call.events.subscribe(listener)
    llm_model = model(call) if model is not None else None
    driver: TextCall | VoiceCall
    if mode == "voice":
        from agent.voice_call import VoiceCall

        driver = VoiceCall(call, model=llm_model, recording_dir=out_dir)
        await driver.start()
        turn_ms = await play(driver, scenario)
    else:
        driver = TextCall(call, model=llm_model)
        await driver.start()
        turn_ms = await (player(driver) if player is not None else play(driver, scenario))
    history = driver.session.history.copy()
    usage = [u for u in driver.session.usage.model_usage if isinstance(u, LLMModelUsage)]
    state = await driver.close(outcome="caller_hung_up")
    summary = writer.finish(state) if writer is not None else call_summary(state)
    return CallRun(
        state=state,
        summary=summary,
        events=list(call.events.history),
        history=history,
        turn_ms=turn_ms,
        input_tokens=sum(u.input_tokens for u in usage),
        output_tokens=sum(u.output_tokens for u in usage),
    )
