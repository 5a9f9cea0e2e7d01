"""Liveness against replay: the caller repeats random digits, checked for voice and content.

A recording of the caller (say, of their enrolment) does not contain the digits just asked for,
so it fails the content check; a live impostor saying the right digits fails the speaker check.
Content is matched against the caller's own digits from enrolment (:mod:`voice_auth.digits`), so
it works in whatever language the caller counted in at enrolment.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Literal

from voice_auth.audio import Audio, QualityLimits
from voice_auth.digits import DIGITS, DigitTemplates, content_mismatch
from voice_auth.verification import Verifier, Voiceprint

Language = Literal["en", "fr"]

# Four digits are 1.2-2 s of speech: less than a verification utterance needs.
CHALLENGE_LIMITS = QualityLimits(min_speech_seconds=0.8)

_PROMPTS: dict[Language, str] = {
    "en": "To confirm it's really you, please say these digits: {digits}.",
    "fr": "Pour confirmer votre identité, veuillez dire ces chiffres : {digits}.",
}


@dataclass(frozen=True)
class Challenge:
    """Digits the caller must say, and the language to ask in."""

    digits: str
    language: Language = "en"

    @property
    def prompt(self) -> str:
        """What the agent says; digits separated so text-to-speech reads them one by one."""
        return _PROMPTS[self.language].format(digits=", ".join(self.digits))


def new_challenge(
    language: Language = "en", *, length: int = 4, rng: random.Random | None = None
) -> Challenge:
    """A random digit challenge (``rng`` defaults to the system's secure source).

    No two neighbouring digits follow each other in counting order ("4", "5"), so no piece of
    the caller's enrolment counting can be replayed as an answer without cutting it up.
    """
    source = rng or random.SystemRandom()
    digits = source.choice(DIGITS)
    while len(digits) < length:
        candidate = source.choice(DIGITS)
        if int(candidate) != int(digits[-1]) + 1:
            digits += candidate
    return Challenge(digits=digits, language=language)


@dataclass(frozen=True)
class LivenessResult:
    """Whether the answer passed, with both measurements (``None`` when not measured)."""

    passed: bool
    speaker_score: float | None
    content_mismatch: float | None
    reason: str


def check_answer(
    verifier: Verifier,
    voiceprint: Voiceprint,
    templates: DigitTemplates,
    challenge: Challenge,
    audio: Audio,
    sample_rate: int,
    *,
    speaker_threshold: float,
    margin: float,
) -> LivenessResult:
    """Check the caller's answer to ``challenge``: right digits AND the enrolled voice.

    Args:
        verifier: Scores the answer against ``voiceprint`` (same encoder and cohort as the call).
        voiceprint: The account's voiceprint.
        templates: The account's digit templates from enrolment.
        challenge: The digits that were asked for.
        audio: The caller's answer, mono.
        sample_rate: Rate of ``audio`` in Hz.
        speaker_threshold: Lowest cosine similarity of the answer to the voiceprint. Plain
            cosine, not s-norm: a cohort of read speech inflates s-norm scores of short digit
            answers (see docs/voice-auth.md).
        margin: Largest content mismatch accepted (see :func:`~voice_auth.digits.content_mismatch`).

    Raises:
        UnusableAudioError: The answer is too short or too poor to judge: ask again.
    """
    embedding, _ = verifier.embed_utterance(audio, sample_rate, CHALLENGE_LIMITS)
    score = verifier.score(voiceprint, embedding, normalise=False)
    mismatch = content_mismatch(audio, sample_rate, templates, challenge.digits)
    if mismatch > margin:
        return LivenessResult(
            False, score, mismatch, f"not the digits asked for (mismatch {mismatch:.3f})"
        )
    if score < speaker_threshold:
        return LivenessResult(False, score, mismatch, f"voice does not match (score {score:.2f})")
    return LivenessResult(True, score, mismatch, "right digits in the enrolled voice")
