"""LiveKit ``llm.LLM`` adapter around the directed-dialog policy."""

from __future__ import annotations

import json
from typing import Any

from livekit.agents import llm
from livekit.agents.types import (
    DEFAULT_API_CONNECT_OPTIONS,
    NOT_GIVEN,
    APIConnectOptions,
    NotGivenOr,
)

from agent.call_context import CallContext
from agent.directed_dialog import decide
from payment_tools.ids import random_hex


class DirectedDialogLLM(llm.LLM[Any]):
    """A deterministic "LLM" that follows the directed dialog; needs no key and no network.

    Args:
        call: the call whose workflow state and prompts drive the policy.
    """

    def __init__(self, call: CallContext) -> None:
        super().__init__()
        self._call = call

    @property
    def model(self) -> str:
        """Model name reported in metrics."""
        return "directed-dialog"

    @property
    def provider(self) -> str:
        """Provider name reported in metrics."""
        return "voicepay"

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
        """Decide the next move for ``chat_ctx``."""
        return _PolicyStream(
            self, chat_ctx=chat_ctx, tools=tools or [], conn_options=conn_options, call=self._call
        )


class _PolicyStream(llm.LLMStream):
    def __init__(
        self,
        owner: DirectedDialogLLM,
        *,
        chat_ctx: llm.ChatContext,
        tools: list[llm.Tool],
        conn_options: APIConnectOptions,
        call: CallContext,
    ) -> None:
        super().__init__(owner, chat_ctx=chat_ctx, tools=tools, conn_options=conn_options)
        self._call = call

    async def _run(self) -> None:
        state = await self._call.state()
        decision = decide(self._chat_ctx, state, self._call.prompts)
        available = {tool.id for tool in self._tools}
        tool_calls = []
        if decision.tool is not None and decision.tool in available:
            tool_calls.append(
                llm.FunctionToolCall(
                    name=decision.tool,
                    arguments=json.dumps(decision.arguments),
                    call_id=f"dd_{random_hex(6)}",
                )
            )
        if not decision.say and not tool_calls:
            return
        self._event_ch.send_nowait(
            llm.ChatChunk(
                id=random_hex(16),
                delta=llm.ChoiceDelta(
                    role="assistant", content=decision.say or None, tool_calls=tool_calls
                ),
            )
        )
