"""A LiveKit ``llm.LLM`` that plays back planned tool calls: an adversarial model for tests."""

from __future__ import annotations

import json
import uuid
from collections import deque
from typing import Any

from livekit.agents import llm
from livekit.agents.types import (
    DEFAULT_API_CONNECT_OPTIONS,
    NOT_GIVEN,
    APIConnectOptions,
    NotGivenOr,
)

TOOL_TURN = "[next tool]"


class ScriptedToolLLM(llm.LLM[Any]):
    """Answers a user turn ``[next tool]`` with the next planned tool call, anything else with "ok".

    After a tool output it says "ok" and calls nothing, so each planned call runs on its own turn.
    Every chat context it receives is kept in ``requests``.
    """

    def __init__(self) -> None:
        super().__init__()
        self.plan: deque[tuple[str, dict[str, Any]]] = deque()
        self.requests: list[dict[str, Any]] = []

    @property
    def model(self) -> str:
        return "scripted-tools"

    @property
    def provider(self) -> str:
        return "tests"

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
        self.requests.append(chat_ctx.to_dict(exclude_timestamp=True))
        last = chat_ctx.items[-1] if chat_ctx.items else None
        call: tuple[str, dict[str, Any]] | None = None
        if (
            last is not None
            and last.type == "message"
            and last.role == "user"
            and last.text_content == TOOL_TURN
            and self.plan
        ):
            call = self.plan.popleft()
        return _Stream(
            self, chat_ctx=chat_ctx, tools=tools or [], conn_options=conn_options, call=call
        )


class _Stream(llm.LLMStream):
    def __init__(
        self,
        owner: ScriptedToolLLM,
        *,
        chat_ctx: llm.ChatContext,
        tools: list[llm.Tool],
        conn_options: APIConnectOptions,
        call: tuple[str, dict[str, Any]] | None,
    ) -> None:
        super().__init__(owner, chat_ctx=chat_ctx, tools=tools, conn_options=conn_options)
        self._call = call

    async def _run(self) -> None:
        if self._call is None:
            delta = llm.ChoiceDelta(role="assistant", content="ok")
        else:
            name, arguments = self._call
            delta = llm.ChoiceDelta(
                role="assistant",
                tool_calls=[
                    llm.FunctionToolCall(
                        name=name, arguments=json.dumps(arguments), call_id=uuid.uuid4().hex
                    )
                ],
            )
        self._event_ch.send_nowait(llm.ChatChunk(id=uuid.uuid4().hex, delta=delta))
