"""When a call should go to a person: the per-call escalation tracker and its settings.

Rules, in the order they are checked on each caller utterance:

1. an explicit request for a person (:attr:`agent.nlu.Intent.HUMAN`, negation-aware, so "I don't
   need an agent" is not one), or the keypad transfer key;
2. a subject that needs a person (dispute, fraud, hardship, bereavement, complaint, legal
   threat), on one clear statement;
3. sentiment, only when sustained (the mean of the last ``sentiment_window`` turns at or below
   ``sustained_mean``, with at least ``sustained_turns`` of them at or below ``negative_turn``),
   or on one very strong turn (at or below ``strong_turn``) that holds escalation words.

Repeated misunderstanding is counted separately, from the replies (see
:meth:`EscalationTracker.observe_misunderstanding`).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from statistics import fmean
from typing import Literal

from agent.escalation._intents import EscalationIntent, detect_escalation_intents, most_urgent
from agent.escalation._sentiment import score_sentiment
from agent.nlu import Intent, detect_intents
from voicepay.settings import EscalationSettings


class EscalationReason(StrEnum):
    """The reason code a trigger records on the call (a transfer reason)."""

    CALLER_REQUEST = "caller_request"
    NEGATIVE_SENTIMENT = "negative_sentiment"
    DISPUTE = "dispute"
    FRAUD = "fraud"
    HARDSHIP = "hardship"
    BEREAVEMENT = "bereavement"
    COMPLAINT = "complaint"
    LEGAL_THREAT = "legal_threat"
    REPEATED_MISUNDERSTANDING = "repeated_misunderstanding"


@dataclass(frozen=True, slots=True)
class Trigger:
    """A reason to transfer the call; ``detail`` never quotes the caller."""

    reason: EscalationReason
    detail: str


@dataclass(frozen=True, slots=True)
class Assessment:
    """One utterance as a classifier read it."""

    sentiment: float
    intent: EscalationIntent | None
    escalation_words: bool
    source: Literal["offline", "llm"] = "offline"


def assess_offline(text: str, lang: str) -> Assessment:
    """The offline reading of an utterance: lexicon sentiment and pattern intents."""
    sentiment = score_sentiment(text, lang)
    intent = most_urgent(detect_escalation_intents(text, lang))
    return Assessment(sentiment.score, intent, sentiment.escalation_words)


class EscalationTracker:
    """Watches one call for a reason to hand it to a person.

    Args:
        settings: the thresholds; the defaults when omitted.
    """

    def __init__(self, settings: EscalationSettings | None = None) -> None:
        self.settings = settings or EscalationSettings()
        self.sentiment_history: list[float] = []
        """The sentiment of every caller utterance, in order (for the hand-off brief's chart)."""
        self.triggers: list[Trigger] = []
        """Every trigger that fired, in order."""
        self._misunderstood = 0

    def observe_utterance(
        self, text: str, lang: str, assessment: Assessment | None = None
    ) -> Trigger | None:
        """Note one (redacted) caller utterance; the trigger it fires, if any.

        Args:
            text: what the caller said, card data already removed.
            lang: the call's language, ``"en"`` or ``"fr"``.
            assessment: an LLM's reading of ``text``; the offline one when omitted.
        """
        reading = assessment or assess_offline(text, lang)
        self.sentiment_history.append(max(-1.0, min(1.0, reading.sentiment)))
        if Intent.HUMAN in detect_intents(text, lang):
            return self._fire(EscalationReason.CALLER_REQUEST, "asked for a person")
        if reading.intent is not None:
            reason = EscalationReason(reading.intent.value)
            return self._fire(reason, f"{reading.source} intent {reading.intent.value}")
        return self._sentiment_trigger(reading)

    def observe_keypad(self, line: str) -> Trigger | None:
        """Note keys typed outside a card capture; the transfer key asks for a person."""
        if line.strip() == self.settings.keypad_transfer_key:
            key = self.settings.keypad_transfer_key
            return self._fire(EscalationReason.CALLER_REQUEST, f"pressed {key}")
        return None

    def observe_misunderstanding(self) -> Trigger | None:
        """Note a reply saying the caller was not understood; fires after the limit in a row."""
        self._misunderstood += 1
        if self._misunderstood >= self.settings.misunderstanding_limit:
            detail = f"{self._misunderstood} misunderstandings in a row"
            return self._fire(EscalationReason.REPEATED_MISUNDERSTANDING, detail)
        return None

    def observe_understood(self) -> None:
        """Note a turn the agent understood; the misunderstanding count starts again."""
        self._misunderstood = 0

    def _sentiment_trigger(self, reading: Assessment) -> Trigger | None:
        s = self.settings
        turn = self.sentiment_history[-1]
        strong = turn <= s.strong_turn
        if strong and (reading.escalation_words or not s.strong_turn_needs_escalation_words):
            return self._fire(EscalationReason.NEGATIVE_SENTIMENT, f"strong turn {turn:.2f}")
        window = self.sentiment_history[-s.sentiment_window :]
        negative = sum(score <= s.negative_turn for score in window)
        mean = fmean(window)
        if negative >= s.sustained_turns and mean <= s.sustained_mean:
            detail = f"mean {mean:.2f} over {len(window)} turns, {negative} negative"
            return self._fire(EscalationReason.NEGATIVE_SENTIMENT, detail)
        return None

    def _fire(self, reason: EscalationReason, detail: str) -> Trigger:
        trigger = Trigger(reason, detail)
        self.triggers.append(trigger)
        return trigger
