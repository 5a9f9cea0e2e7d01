"""The payment agent: instructions, tools, and the three text boundaries it guards."""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterable, AsyncIterator

from livekit import rtc
from livekit.agents import Agent, ModelSettings, llm, stt
from livekit.agents.types import FlushSentinel

from agent.call_context import CallContext
from agent.guard import holds_card_number, scrubbed
from agent.ingress import CallerIngress
from agent.language import greeting
from agent.tools import ALL_TOOLS
from payment_tools.ids import random_hex

logger = logging.getLogger(__name__)


def _tool_call(name: str, arguments: dict[str, str]) -> llm.ChatChunk:
    return llm.ChatChunk(
        id=random_hex(16),
        delta=llm.ChoiceDelta(
            role="assistant",
            tool_calls=[
                llm.FunctionToolCall(
                    name=name, arguments=json.dumps(arguments), call_id=f"code_{random_hex(16)}"
                )
            ],
        ),
    )


class PaymentAgent(Agent):
    """Takes a caller from greeting to paid, with every step checked by the workflow.

    Three boundaries keep card data out of the model: the ingress redacts every caller utterance
    (``stt_node`` in voice mode), card capture happens inside a tool on the keypad, and
    ``llm_node`` refuses to send any context that still holds a card number.

    Args:
        call: the call this agent serves.
    """

    def __init__(self, call: CallContext) -> None:
        super().__init__(instructions=call.prompts.instructions(), tools=list(ALL_TOOLS))
        self._call = call
        self.ingress = CallerIngress(call)

    async def on_enter(self) -> None:
        """Greet the caller and open the workflow."""
        await self._call.update(lambda state: state.start())
        await self._call.say(greeting(self._call), in_context=True)
        self._call.greeted.set()

    async def stt_node(
        self, audio: AsyncIterable[rtc.AudioFrame], model_settings: ModelSettings
    ) -> AsyncIterator[stt.SpeechEvent]:
        """Transcribe the caller, redacting card data before anything downstream sees it."""
        async for event in Agent.default.stt_node(self, audio, model_settings):
            if not event.alternatives:
                yield event
                continue
            if event.type is stt.SpeechEventType.FINAL_TRANSCRIPT:
                best = event.alternatives[0]
                accepted = await self.ingress.accept(best.text, language=best.language or None)
                if accepted is None:
                    continue
                event.alternatives[0].text = accepted
                for alternative in event.alternatives[1:]:
                    alternative.text = self.ingress.redact(alternative.text)
            else:
                for alternative in event.alternatives:
                    alternative.text = self.ingress.redact(alternative.text)
            yield event

    async def llm_node(
        self, chat_ctx: llm.ChatContext, tools: list[llm.Tool], model_settings: ModelSettings
    ) -> AsyncIterator[llm.ChatChunk | str | FlushSentinel]:
        """Send the context to the LLM, never with a card number in it; record what was sent.

        A context holding a card number is refused: an alert is raised and a scrubbed copy is sent
        instead (the agent's own context is scrubbed too), so the call goes on without the digits.
        """
        call = self._call
        trigger = call.pending_transfer
        if trigger is not None and any(tool.id == "transfer_to_human" for tool in tools):
            # A trigger decided by code: the transfer happens whatever the model would say.
            call.events.emit("escalation", reason=trigger.reason.value, detail=trigger.detail)
            yield _tool_call("transfer_to_human", {"reason": trigger.reason.value})
            return
        if holds_card_number(chat_ctx):
            logger.error("card-like number in the LLM context; sending a scrubbed context instead")
            call.events.emit("guard_alert", boundary="llm_request")
            chat_ctx = scrubbed(chat_ctx)
            await self.update_chat_ctx(scrubbed(self.chat_ctx))
        if call.events.listened:
            call.events.emit(
                "llm_request",
                chat_ctx=chat_ctx.to_dict(exclude_timestamp=True),
                tools=sorted(tool.id for tool in tools),
            )
        async for chunk in Agent.default.llm_node(self, chat_ctx, tools, model_settings):
            yield chunk
