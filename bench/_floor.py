"""The floor: a bare LiveKit ``AgentSession`` replaying the shape of each recorded VoicePay turn.

Same session options as ``agent.runtime.build_session`` in text mode, an ``Agent`` with one tool
that does nothing but speak, and a scripted LLM making the same LLM calls and tool calls as the
VoicePay turn did. Timed like the VoicePay side: the turn minus the scripted LLM's ``_run``.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from _voicepay_turns import Probe, Turn, instrument
from livekit.agents import Agent, AgentSession, RunContext, function_tool, llm
from livekit.agents.types import (
    DEFAULT_API_CONNECT_OPTIONS,
    NOT_GIVEN,
    APIConnectOptions,
    NotGivenOr,
)

from agent.runtime import MAX_TOOL_STEPS

SAY_TEXT = "Please type the security code from your card, then press the hash key."
Planned = tuple[int, bool, bool, int]  # replayed LLM call: tool calls, text, reply wanted, says


class ReplayLLM(llm.LLM[Any]):
    """Scripted LLM: each chat replays the next planned step."""

    def __init__(self, probe: Probe) -> None:
        super().__init__()
        self.probe = probe
        self.plan: list[Planned] = []

    def chat(
        self,
        *,
        chat_ctx: llm.ChatContext,
        tools: list[llm.Tool] | None = None,
        conn_options: APIConnectOptions = DEFAULT_API_CONNECT_OPTIONS,
        parallel_tool_calls: NotGivenOr[bool] = NOT_GIVEN,
        tool_choice: NotGivenOr[llm.ToolChoice] = NOT_GIVEN,
        extra_kwargs: NotGivenOr[dict[str, Any]] = NOT_GIVEN,
    ) -> llm.LLMStream:
        """Replay the next step (a plain reply once the plan is used up)."""
        stream = _ReplayStream(
            self, chat_ctx=chat_ctx, tools=tools or [], conn_options=conn_options
        )
        stream.step = self.plan.pop(0) if self.plan else (0, True, False, 0)
        return instrument(stream, self.probe)


class _ReplayStream(llm.LLMStream):
    step: Planned = (0, True, False, 0)

    async def _run(self) -> None:
        tools, text, reply, says = self.step
        calls = [
            llm.FunctionToolCall(
                name="noop",
                arguments=json.dumps({"reply": reply, "says": says if i == tools - 1 else 0}),
                call_id=f"r_{uuid.uuid4().hex[:12]}",
            )
            for i in range(tools)
        ]
        content = "Okay." if text else None
        delta = llm.ChoiceDelta(role="assistant", content=content, tool_calls=calls)
        self._event_ch.send_nowait(llm.ChatChunk(id=uuid.uuid4().hex, delta=delta))


@function_tool
async def noop(context: RunContext[None], reply: bool, says: int) -> str | None:
    """Do nothing but speak ``says`` prompts; ask for a reply only when ``reply``.

    Args:
        reply: whether the model should be called again afterwards.
        says: how many prompts to speak.
    """
    if says:
        await context.wait_for_playout()
        for _ in range(says):
            await context.session.say(SAY_TEXT, add_to_chat_ctx=False)
    return "done" if reply else None


def plan_for(turn: Turn) -> tuple[list[Planned], int]:
    """The replay plan for a recorded turn (says go to its last tool), and says left over."""
    last_tool_step = max((i for i, (n, _) in enumerate(turn.steps) if n), default=-1)
    plan = [
        (n, text, i < len(turn.steps) - 1, turn.says if i == last_tool_step else 0)
        for i, (n, text) in enumerate(turn.steps)
    ]
    return plan, 0 if last_tool_step >= 0 else turn.says


async def floor_call(recorded: list[Turn]) -> list[Turn]:
    """Replay the shapes of one VoicePay call on a bare AgentSession."""
    probe = Probe()
    model = ReplayLLM(probe)
    session = AgentSession[None](
        llm=model,
        max_tool_steps=MAX_TOOL_STEPS,
        ivr_detection=False,
        # as agent.runtime.build_session in text mode: explicit turns, no end-of-turn model
        turn_handling={"preemptive_generation": {"enabled": False}, "turn_detection": "manual"},
    )
    probe.watch(session)
    await session.start(Agent(instructions="You are a test agent.", tools=[noop]))
    turns = []
    for target in recorded:
        model.plan, driver_says = plan_for(target)
        probe.reset()
        if target.steps:
            await session.run(user_input="The caller says something.")
        for _ in range(driver_says):
            await session.say(SAY_TEXT, add_to_chat_ctx=False)
        await session.wait_for_idle()
        turns.append(probe.turn())
    await session.aclose()
    return turns
