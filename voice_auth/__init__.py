"""Caller voice authentication: enrolment, passive verification, liveness challenge, evaluation.

Configuration and decisions import instantly; the rest loads torch and the speaker encoder, so it
is imported on first use (``voicepay.settings`` can import the configuration cheaply).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from voice_auth.config import VoiceAuthConfigError, VoiceAuthSettings, voiceprint_key
from voice_auth.decision import Decision, DecisionThresholds, Outcome, decide

if TYPE_CHECKING:
    from voice_auth.audio import UnusableAudioError
    from voice_auth.liveness import Challenge, new_challenge
    from voice_auth.service import FailureCounter, NotEnrolledError, VoiceAuthenticator
    from voice_auth.voiceprints import (
        ConsentRecord,
        VoiceprintError,
        VoiceprintRecord,
        VoiceprintStore,
    )

__all__ = [
    "Challenge",
    "ConsentRecord",
    "Decision",
    "DecisionThresholds",
    "FailureCounter",
    "NotEnrolledError",
    "Outcome",
    "UnusableAudioError",
    "VoiceAuthConfigError",
    "VoiceAuthSettings",
    "VoiceAuthenticator",
    "VoiceprintError",
    "VoiceprintRecord",
    "VoiceprintStore",
    "decide",
    "new_challenge",
    "voiceprint_key",
]

_LAZY = {
    "UnusableAudioError": "voice_auth.audio",
    "Challenge": "voice_auth.liveness",
    "new_challenge": "voice_auth.liveness",
    "FailureCounter": "voice_auth.service",
    "NotEnrolledError": "voice_auth.service",
    "VoiceAuthenticator": "voice_auth.service",
    "ConsentRecord": "voice_auth.voiceprints",
    "VoiceprintError": "voice_auth.voiceprints",
    "VoiceprintRecord": "voice_auth.voiceprints",
    "VoiceprintStore": "voice_auth.voiceprints",
}


def __getattr__(name: str) -> Any:
    """Import the heavy parts of the public API on first access."""
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'voice_auth' has no attribute {name!r}")
