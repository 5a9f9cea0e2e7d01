"""An LLM outage on demand: wraps the primary model and fails it after N requests.

Used by scenarios with ``faults.llm``: the call runs behind the same ``llm.FallbackAdapter`` as in
production, so the outage exercises the real fallback to the directed dialog.
"""

from __future__ import annotations

import asyncio
from typing import Any

from livekit.agents import APIConnectionError, APITimeoutError, llm
from livekit.agents.types import (
    DEFAULT_API_CONNECT_OPTIONS,
    NOT_GIVEN,
    APIConnectOptions,
    NotGivenOr,
)


class FaultyLLM(llm.LLM[Any]):
    """Delegates to ``inner`` for ``fail_after`` requests, then errors or hangs on every request.

    Args:
        inner: the model that answers while healthy.
        fail_after: how many requests succeed before the outage.
        mode: ``error`` raises a connection error; ``timeout`` never answers.
    """

    def __init__(self, inner: llm.LLM[Any], *, fail_after: int, mode: str = "error") -> None:
        super().__init__()
        self._inner = inner
        self._fail_after = fail_after
        self._mode = mode
        self.requests = 0

    @property
    def model(self) -> str:
        """The wrapped model's name."""
        return self._inner.model

    @property
    def provider(self) -> str:
        """The wrapped model's provider."""
        return self._inner.provider

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
        """Answer through the inner model, or fail once the outage has started."""
        self.requests += 1
        if self.requests <= self._fail_after:
            return self._inner.chat(
                chat_ctx=chat_ctx,
                tools=tools,
                conn_options=conn_options,
                parallel_tool_calls=parallel_tool_calls,
                tool_choice=tool_choice,
                extra_kwargs=extra_kwargs,
            )
        return _Outage(
            self, chat_ctx=chat_ctx, tools=tools or [], conn_options=conn_options, mode=self._mode
        )


class _Outage(llm.LLMStream):
    def __init__(
        self,
        owner: FaultyLLM,
        *,
        chat_ctx: llm.ChatContext,
        tools: list[llm.Tool],
        conn_options: APIConnectOptions,
        mode: str,
    ) -> None:
        super().__init__(owner, chat_ctx=chat_ctx, tools=tools, conn_options=conn_options)
        self._mode = mode

    async def _run(self) -> None:
        if self._mode == "timeout":
            # A hung model: nothing arrives until the attempt's own timeout expires, as with a
            # real HTTP read timeout.
            await asyncio.sleep(self._conn_options.timeout)
            raise APITimeoutError("simulated LLM outage: no answer", retryable=False)
        raise APIConnectionError("simulated LLM outage", retryable=False)
