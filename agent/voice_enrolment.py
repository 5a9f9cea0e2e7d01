"""Offering voice ID at the end of a call verified by the keypad, and enrolling the caller.

The offer is made in code, not by the LLM, and only when it makes sense: voice authentication is
available, the caller proved who they are with the keypad factors on a voice line, the account has
no voiceprint, and the holder has not declined recently. Consent is an explicit spoken yes, recorded
with the voiceprint; then the caller counts from zero to nine twice (the templates the liveness
challenge uses) and says a sentence, and the voiceprint is built from those recordings alone.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from agent._nlu_yes_no import parse_yes_no
from agent.call_context import CallContext
from agent.voice_identity import Samples, VoiceAuth
from agent.workflow import CallState

logger = logging.getLogger(__name__)

ANSWER_S = 15.0


async def offer_voice_enrolment(call: CallContext, state: CallState) -> None:
    """Offer voice ID to a caller verified by the keypad, and enrol them if they agree."""
    account = state.account_number
    voice = call.services.voice
    if (
        voice is None
        or account is None
        or not call.settings.voice_auth.offer_enrolment
        or not state.verified
        or "voice" in (state.auth_method or "")
        or call.caller_audio.seconds == 0
        or await voice.enrolled(account)
        or await voice.enrolment_declined(account)
    ):
        return
    await call.say(call.prompts.text("enrol.offer"), in_context=False)
    answer = await call.next_utterance(ANSWER_S)
    if answer is None or parse_yes_no(answer, call.language) != "yes":
        if answer is not None:
            await voice.remember_declined(account)
        call.events.emit("voice_enrolment", consent=False, enrolled=False)
        await call.say(call.prompts.text("enrol.declined"), in_context=False)
        return
    consented_at = datetime.now(UTC)
    recordings: list[Samples] = []
    for prompt in ("enrol.count", "enrol.count_again", "enrol.speak"):
        await call.say(call.prompts.text(prompt), in_context=False)
        mark = call.caller_audio.mark
        if await call.next_utterance(ANSWER_S) is None:
            break
        recordings.append(call.caller_audio.since(mark))
    given_by = f"caller verified by {state.auth_method}"
    enrolled = len(recordings) == 3 and await _enrol(
        call, voice, account, recordings, given_by, consented_at
    )
    call.events.emit("voice_enrolment", consent=True, enrolled=enrolled)
    await call.say(
        call.prompts.text("enrol.done" if enrolled else "enrol.failed"), in_context=False
    )


async def _enrol(
    call: CallContext,
    voice: VoiceAuth,
    account: str,
    recordings: list[Samples],
    given_by: str,
    consented_at: datetime,
) -> bool:
    # Imported here: the speaker model's stack is loaded only for calls that use it.
    from voice_auth.audio import UnusableAudioError
    from voice_auth.voiceprints import ConsentRecord

    consent = ConsentRecord(
        given_by=given_by,
        given_at=consented_at,
        method="spoken yes to the voice ID offer at the end of the call",
        call_id=call.call_id,
    )
    service = await voice.service()
    rate = call.caller_audio.sample_rate
    *counting, sentence = recordings
    try:
        await service.enrol(account, [(sentence, rate)], [(c, rate) for c in counting], consent)
    except UnusableAudioError as error:
        logger.info("voice enrolment refused: %s", error)
        return False
    return True
