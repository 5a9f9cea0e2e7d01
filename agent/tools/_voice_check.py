"""Passive voice verification, with a spoken digit challenge when the voice alone is not enough."""

from __future__ import annotations

import logging
from enum import StrEnum

from agent.call_context import CallContext

logger = logging.getLogger(__name__)

MIN_SPEECH_S = 1.5
"""Speech needed before the voice is worth checking; below it, the keypad question is asked."""
CHALLENGE_ANSWER_S = 12.0
CHALLENGE_ATTEMPTS = 2


class VoiceResult(StrEnum):
    """What the voice check concluded."""

    VERIFIED_WITH_CHALLENGE = "voice_and_challenge"
    REJECTED = "rejected"
    DOUBTFUL = "doubtful"
    UNAVAILABLE = "unavailable"


async def check_voice(call: CallContext, account: str) -> VoiceResult:
    """Verify the caller's voice against the account's voiceprint, if there is one.

    A voice match alone never opens the way to a payment (recordings and clones can match): a
    passing voice is always followed by a spoken digit challenge, which a replayed recording
    fails. ``UNAVAILABLE`` (no voiceprint) sends the caller to the usual keypad factors;
    ``DOUBTFUL`` (a voiceprint exists but the voice was not confirmed: too little speech, unusable
    audio, or a challenge not passed) to the stronger set; ``REJECTED`` is never explained to the
    caller.
    """
    voice = call.services.voice
    if voice is None or not await voice.enrolled(account):
        return VoiceResult.UNAVAILABLE
    audio = call.caller_audio
    if audio.seconds < MIN_SPEECH_S:
        return VoiceResult.DOUBTFUL
    service = await voice.service()
    from voice_auth.voiceprints import VoiceprintError

    try:
        decision = await service.verify(account, audio.since(0), audio.sample_rate, high_risk=True)
    except VoiceprintError:
        # Unreadable voiceprint (the key changed, or it was tampered with): the voice cannot
        # vouch for anyone, so the stronger keypad factors decide.
        logger.warning("voiceprint unreadable; falling back to the keypad factors")
        call.events.emit("voice_check", method="voice", decision="unreadable", score=None)
        return VoiceResult.DOUBTFUL
    _report(call, "voice", decision.outcome.value, decision.score)
    if decision.outcome.value == "reject":
        return VoiceResult.REJECTED
    for _ in range(CHALLENGE_ATTEMPTS):
        challenge = service.challenge("fr" if call.language == "fr" else "en")
        call.events.emit("voice_challenge", digits=challenge.digits)
        await call.say(challenge.prompt, in_context=False)
        mark = audio.mark
        if await call.next_utterance(CHALLENGE_ANSWER_S) is None:
            continue
        answer = await service.answer_challenge(
            account, challenge, audio.since(mark), audio.sample_rate
        )
        _report(call, "voice_challenge", answer.outcome.value, answer.score)
        if answer.outcome.value == "accept":
            return VoiceResult.VERIFIED_WITH_CHALLENGE
        if answer.outcome.value == "reject":
            return VoiceResult.REJECTED
    return VoiceResult.DOUBTFUL


def _report(call: CallContext, method: str, outcome: str, score: float | None) -> None:
    call.events.emit(
        "voice_check",
        method=method,
        decision=outcome,
        score=round(score, 3) if score is not None else None,
    )
