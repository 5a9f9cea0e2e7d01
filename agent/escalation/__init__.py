"""Escalation triggers: when and why a call should be handed to a person.

An :class:`EscalationTracker` per call watches the caller's utterances, keypad keys and the
agent's not-understood replies, and returns a :class:`Trigger` with a reason code when the call
should go to a person: an explicit request, a subject that needs a person (dispute, fraud,
hardship, bereavement, complaint, legal threat), sustained or very strong negative sentiment, or
repeated misunderstanding. Sentiment is scored offline (:func:`score_sentiment`, English and
French), or by a configured LLM through :class:`LiveKitLLMClassifier`, which falls back to the
offline reading on any error.
"""

from agent.escalation._classifier import IntentLabel, LiveKitLLMClassifier, LLMClassifier
from agent.escalation._intents import (
    PRIORITY,
    EscalationIntent,
    detect_escalation_intents,
    most_urgent,
)
from agent.escalation._policy import (
    Assessment,
    EscalationReason,
    EscalationTracker,
    Trigger,
    assess_offline,
)
from agent.escalation._sentiment import Sentiment, score_sentiment
from voicepay.settings import EscalationSettings

__all__ = [
    "PRIORITY",
    "Assessment",
    "EscalationIntent",
    "EscalationReason",
    "EscalationSettings",
    "EscalationTracker",
    "IntentLabel",
    "LLMClassifier",
    "LiveKitLLMClassifier",
    "Sentiment",
    "Trigger",
    "assess_offline",
    "detect_escalation_intents",
    "most_urgent",
    "score_sentiment",
]
