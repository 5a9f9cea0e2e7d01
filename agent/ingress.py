"""The caller's words on their way in: redacted, screened and noted before any LLM sees them.

Every caller utterance passes here first — STT transcripts in voice mode (from ``stt_node``),
typed text in text mode and simulations. Card-like data is redacted; speech during a keypad capture
is dropped; and a yes or no to the latest amount-and-card read-back is recorded on the workflow by
code, so that the LLM can never invent the caller's confirmation.
"""

from __future__ import annotations

from agent.call_context import CallContext
from agent.nlu import parse_yes_no
from agent.workflow import CallState, WorkflowViolation
from payment_tools.redaction import redact_card_data


class CallerIngress:
    """Screens one call's caller utterances."""

    def __init__(self, call: CallContext) -> None:
        self._call = call

    def redact(self, text: str) -> str:
        """``text`` with card data removed (used on interim transcripts too)."""
        return redact_card_data(text).text

    async def accept(self, text: str) -> str | None:
        """Screen a final utterance; returns what may reach the LLM, or ``None`` to drop it."""
        call = self._call
        result = redact_card_data(text)
        if result.redacted:
            call.events.emit("card_data_redacted", source="caller_speech")
        if call.capturing:
            call.events.emit("caller_said", text=result.text, ignored="keypad_capture")
            return None
        call.events.emit("caller_said", text=result.text)
        state = await call.state()
        if state.awaiting_confirmation:
            answer = parse_yes_no(result.text, call.language)
            if answer is not None:
                await self._answer(answer == "yes")
        return result.text

    async def keypad_answer(self, key: str) -> bool:
        """Record keypad 1 (yes) or 2 (no) to a pending read-back; returns whether it counted."""
        state = await self._call.state()
        if not state.awaiting_confirmation or key not in ("1", "2"):
            return False
        await self._answer(key == "1")
        return True

    async def _answer(self, yes: bool) -> None:
        def answer(state: CallState) -> None:
            state.caller_answered(yes)

        try:
            await self._call.update(answer)
        except WorkflowViolation:
            return
        self._call.events.emit("caller_confirmation", answer="yes" if yes else "no")
