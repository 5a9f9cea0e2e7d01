"""The last guard before every LLM call: no chat context holding a card number is ever sent."""

from __future__ import annotations

from collections.abc import Iterator
from functools import lru_cache

from livekit.agents import llm

from payment_tools.redaction import contains_luhn_run, redact_card_data


def context_texts(chat_ctx: llm.ChatContext) -> Iterator[str]:
    """Every piece of text in a chat context: messages, tool-call arguments and tool outputs."""
    for item in chat_ctx.items:
        if item.type == "message":
            for part in item.content:
                if isinstance(part, str):
                    yield part
        elif item.type == "function_call":
            yield item.arguments
        elif item.type == "function_call_output":
            yield item.output


@lru_cache(maxsize=8192)
def _text_holds_card_number(text: str) -> bool:
    return contains_luhn_run(text)


def holds_card_number(chat_ctx: llm.ChatContext) -> bool:
    """Whether any text in the context holds a Luhn-valid 13–19-digit run.

    Texts already checked are remembered, so the check costs little as a call's context grows.
    """
    return any(_text_holds_card_number(text) for text in context_texts(chat_ctx))


def scrubbed(chat_ctx: llm.ChatContext) -> llm.ChatContext:
    """A copy of the context with card data redacted from every message, argument and output."""
    clean = chat_ctx.copy()
    for item in clean.items:
        if item.type == "message":
            item.content = [
                redact_card_data(part).text if isinstance(part, str) else part
                for part in item.content
            ]
        elif item.type == "function_call":
            item.arguments = redact_card_data(item.arguments).text
        elif item.type == "function_call_output":
            item.output = redact_card_data(item.output).text
    return clean
