"""The caller's words on their way in: redacted, screened and noted before any LLM sees them.

Every caller utterance passes here first — STT transcripts in voice mode (from ``stt_node``),
typed text in text mode and simulations. Card-like data is redacted; speech during a keypad capture
is dropped; and a yes or no to the latest amount-and-card read-back, or to keeping the card on file
for a payment plan, is recorded on the workflow by code, so that the LLM can never invent the
caller's confirmation or consent.
"""

from __future__ import annotations

from datetime import UTC, datetime

from agent.arrangements import CardConsentRecord, consent_question
from agent.call_context import CallContext
from agent.directed_dialog import KEYPAD_PREFIX
from agent.escalation import Trigger
from agent.language import detect_language, other_language, switch_language
from agent.nlu import Intent, detect_intents, parse_yes_no
from agent.workflow import CallState, Step, WorkflowViolation
from payment_tools.redaction import redact_card_data


class CallerIngress:
    """Screens one call's caller utterances."""

    def __init__(self, call: CallContext) -> None:
        self._call = call
        self._heard_caller = False

    def redact(self, text: str) -> str:
        """``text`` with card data removed (used on interim transcripts too)."""
        return redact_card_data(text).text

    async def accept(self, text: str, *, language: str | None = None) -> str | None:
        """Screen a final utterance; returns what may reach the LLM, or ``None`` to drop it.

        ``language`` is the speech recogniser's language for it, if it reports one.
        """
        call = self._call
        result = redact_card_data(text)
        if result.redacted:
            call.events.emit("card_data_redacted", source="caller_speech")
        if call.take_utterance(result.text):
            call.events.emit("caller_said", text=result.text, taken_by="tool")
            return None
        trigger = await self._escalation(result.text)
        if call.capturing:
            call.events.emit("caller_said", text=result.text, ignored="keypad_capture")
            await self._while_keypad_in_use(trigger)
            return None
        call.events.emit("caller_said", text=result.text)
        await self._follow_language(result.text, language)
        state = await call.state()
        if state.awaiting_confirmation or state.awaiting_consent:
            answer = parse_yes_no(result.text, call.language)
            if answer is not None:
                await self._answer(answer == "yes", consent=state.awaiting_consent)
        return result.text

    async def keypad_line(self, line: str) -> str | None:
        """Screen digits typed outside a keypad entry; returns what may reach the LLM.

        Keys are only taken where the agent asks for them: an account number or the language key
        before the caller is identified, and 1 or 2 after a read-back. Anything else typed out of
        turn (a card or its expiry typed too early) is dropped unseen.
        """
        call = self._call
        state = await call.state()
        trigger = call.escalation.observe_keypad(line)
        if trigger is not None:
            call.pending_transfer = trigger
            call.events.emit("trigger", reason=trigger.reason.value, detail=trigger.detail)
            call.events.emit("keypad_line", keys=len(line), accepted=True)
            return f"{KEYPAD_PREFIX} {line}"
        before_identified = state.step in (Step.GREET, Step.IDENTIFY)
        if before_identified and line == call.settings.language.keypad_key:
            call.events.emit("keypad_line", keys=len(line), accepted=True)
            await switch_language(call, other_language(call.language), reason="keypad")
            prompts = call.prompts
            await call.say(
                f"{prompts.text('language.switched')} {prompts.text('identify.ask')}",
                in_context=True,
            )
            return None
        if before_identified and 6 <= len(line) <= 12:
            accepted: str | None = f"{KEYPAD_PREFIX} {line}"
        elif (state.awaiting_confirmation or state.awaiting_consent) and line in ("1", "2"):
            await self._answer(line == "1", consent=state.awaiting_consent)
            accepted = f"{KEYPAD_PREFIX} {line}"
        else:
            accepted = None
        call.events.emit("keypad_line", keys=len(line), accepted=accepted is not None)
        return accepted

    async def _follow_language(self, text: str, hint: str | None) -> None:
        """Switch language when the caller asks, or when their first words are in the other one."""
        call = self._call
        first, self._heard_caller = not self._heard_caller, True
        intents = detect_intents(text, call.language)
        asked = {
            lang
            for lang, intent in (("fr", Intent.LANGUAGE_FRENCH), ("en", Intent.LANGUAGE_ENGLISH))
            if intent in intents
        }
        if len(asked) == 1:
            await switch_language(call, asked.pop(), reason="request")
            return
        if not (first and call.settings.language.detect):
            return
        heard = detect_language(text, hint)
        if heard is not None and (await call.state()).step in (Step.GREET, Step.IDENTIFY):
            await switch_language(call, heard, reason="detected")

    async def _escalation(self, text: str) -> Trigger | None:
        """Score the utterance and note any trigger for a transfer (made at the next turn)."""
        call = self._call
        classifier = call.services.classifier
        assessment = await classifier.classify(text, call.language) if classifier else None
        trigger = call.escalation.observe_utterance(text, call.language, assessment)
        call.events.emit("sentiment", score=round(call.escalation.sentiment_history[-1], 2))
        if trigger is not None and call.pending_transfer is None:
            call.pending_transfer = trigger
            call.events.emit("trigger", reason=trigger.reason.value, detail=trigger.detail)
        return trigger

    async def _while_keypad_in_use(self, trigger: Trigger | None) -> None:
        """Speech heard while the keypad is in use: a reason to transfer ends the entry."""
        call = self._call
        if trigger is not None:
            call.interrupt_keypad(trigger.reason.value)
        elif not call.speech_ignored_said:
            call.speech_ignored_said = True
            await call.say(call.prompts.text("capture.speech_ignored"), in_context=False)

    async def _answer(self, yes: bool, *, consent: bool) -> None:
        """Record the caller's yes or no to the read-back, or to keeping their card on file."""
        purpose = (await self._call.state()).card_purpose or "plan"
        record = CardConsentRecord(
            at=datetime.now(UTC),
            wording_key=consent_question(purpose),
            language=self._call.language,
        )

        def answer(state: CallState) -> None:
            if consent:
                state.consent_answered(yes, record)
            else:
                state.caller_answered(yes)

        try:
            await self._call.update(answer)
        except WorkflowViolation as refused:
            # Not an error (e.g. a yes after the question was settled), but never silent.
            self._call.events.emit("answer_refused", code=refused.code)
            return
        event = "card_consent" if consent else "caller_confirmation"
        self._call.events.emit(event, answer="yes" if yes else "no")
