"""Speaks the capture engine's prompt requests in the caller's language, outside the LLM context."""

from __future__ import annotations

from agent.call_context import CallContext
from payment_tools.capture import PromptRequest

_KIND_KEYS = {"ask": "ask", "ask-again": "ask_again", "restart": "restart"}


class SpokenCapturePrompter:
    """Turns :class:`PromptRequest` into a spoken prompt; never adds it to the chat context."""

    def __init__(self, call: CallContext) -> None:
        self._call = call

    def text_for(self, request: PromptRequest) -> str:
        """The sentence for a prompt request."""
        prompts = self._call.prompts
        if request.kind == "error" and request.error is not None:
            names = [
                prompts.text(f"brand.{b}") for b in self._call.settings.capture.accepted_brands
            ]
            accepted = names[-1]
            if len(names) > 1:
                accepted = f"{', '.join(names[:-1])} {prompts.text('capture.or')} {names[-1]}"
            error = prompts.text(f"capture.error.{request.error.value}", accepted=accepted)
            return f"{error} {prompts.text(f'capture.ask.{request.field.value}')}"
        return prompts.text(f"capture.{_KIND_KEYS[request.kind]}.{request.field.value}")

    async def prompt(self, request: PromptRequest) -> None:
        """Say the prompt for ``request`` to the caller."""
        await self._call.say(self.text_for(request), in_context=False)
