from __future__ import annotations

import random
from datetime import UTC, datetime

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from redis.asyncio import Redis
from shared_speech import FSDD, needs_shared_data

from agent.lockout import AuthLockout
from voice_auth.audio import TELEPHONE_RATE, UnusableAudioError
from voice_auth.config import VoiceAuthSettings
from voice_auth.decision import Outcome
from voice_auth.digits import DigitTemplates, content_mismatch, split_words
from voice_auth.encoders import GE2EEncoder
from voice_auth.liveness import Challenge, check_answer, new_challenge
from voice_auth.liveness_eval import FsddSpeaker, evaluate_liveness
from voice_auth.service import NotEnrolledError, VoiceAuthenticator
from voice_auth.verification import EnrolmentLimits, Verifier, Voiceprint
from voice_auth.voiceprints import ConsentRecord, VoiceprintStore

MARGIN = 0.045
SPEAKER_THRESHOLD = 0.75
COSINE = VoiceAuthSettings().thresholds()


@given(seed=st.integers(0, 2**32), length=st.integers(3, 8))
def test_challenges_are_random_digits_that_no_counting_piece_answers(
    seed: int, length: int
) -> None:
    challenge = new_challenge(length=length, rng=random.Random(seed))
    assert len(challenge.digits) == length and challenge.digits.isdigit()
    assert all(
        int(b) != int(a) + 1 for a, b in zip(challenge.digits, challenge.digits[1:], strict=False)
    )
    assert new_challenge(length=length, rng=random.Random(seed)) == challenge


def test_challenges_vary_and_are_phrased_in_english_and_french() -> None:
    assert len({new_challenge().digits for _ in range(50)}) > 40
    assert Challenge("4729").prompt == (
        "To confirm it's really you, please say these digits: 4, 7, 2, 9."
    )
    assert Challenge("4729", "fr").prompt == (
        "Pour confirmer votre identité, veuillez dire ces chiffres : 4, 7, 2, 9."
    )


@settings(max_examples=30, deadline=None)
@given(
    words=st.lists(st.floats(0.15, 0.6), min_size=1, max_size=10),
    gap=st.floats(0.2, 0.6),
)
def test_counting_is_cut_at_the_pauses(words: list[float], gap: float) -> None:
    rng = np.random.default_rng(0)
    pieces, expected, at = [], [], 0.3
    pieces.append(rng.standard_normal(round(0.3 * TELEPHONE_RATE)) * 1e-3)
    for length in words:
        pieces.append(rng.standard_normal(round(length * TELEPHONE_RATE)) * 0.2)
        pieces.append(rng.standard_normal(round(gap * TELEPHONE_RATE)) * 1e-3)
        expected.append((at, at + length))
        at += length + gap
    audio = np.concatenate(pieces).astype(np.float32)
    spans = split_words(audio, len(words))
    assert len(spans) == len(words)
    for (start, end), (want_start, want_end) in zip(spans, expected, strict=True):
        assert start / 100 == pytest.approx(want_start, abs=0.06)
        assert end / 100 == pytest.approx(want_end, abs=0.06)
    assert split_words(audio, len(words) + 1) == []


def test_counting_without_pauses_is_refused() -> None:
    talk = (np.random.default_rng(1).standard_normal(5 * TELEPHONE_RATE) * 0.2).astype(np.float32)
    with pytest.raises(UnusableAudioError, match="could not hear ten separate digits"):
        DigitTemplates.from_counting([(talk, TELEPHONE_RATE)])


@pytest.fixture(scope="module")
def speakers() -> list[FsddSpeaker]:
    return [FsddSpeaker(FSDD, name, seed) for seed, name in enumerate(("jackson", "nicolas"))]


@pytest.fixture(scope="module")
def verifier() -> Verifier:
    torch.set_num_threads(1)  # as in production: one core per verification
    return Verifier(GE2EEncoder())


@pytest.fixture(scope="module")
def enrolled(speakers: list[FsddSpeaker], verifier: Verifier) -> tuple[Voiceprint, DigitTemplates]:
    counting = [(speakers[0].counting(take), TELEPHONE_RATE) for take in range(5)]
    return verifier.enrol(counting, EnrolmentLimits()), DigitTemplates.from_counting(counting[:2])


@needs_shared_data
def test_the_right_digits_match_and_others_do_not(
    speakers: list[FsddSpeaker], enrolled: tuple[Voiceprint, DigitTemplates]
) -> None:
    _, templates = enrolled
    rng = random.Random(4)
    answer = speakers[0].answer("4729", rng, first_take=5)
    assert content_mismatch(answer, TELEPHONE_RATE, templates, "4729") <= MARGIN
    assert content_mismatch(answer, TELEPHONE_RATE, templates, "8150") > MARGIN
    with pytest.raises(ValueError, match="string of digits"):
        content_mismatch(answer, TELEPHONE_RATE, templates, "47a9")


@needs_shared_data
def test_a_replayed_enrolment_recording_fails_the_challenge(
    speakers: list[FsddSpeaker], verifier: Verifier, enrolled: tuple[Voiceprint, DigitTemplates]
) -> None:
    voiceprint, templates = enrolled
    replay = speakers[0].counting(0)  # the enrolment recording itself: the right voice
    for seed in range(5):
        challenge = new_challenge(rng=random.Random(seed))
        result = check_answer(
            verifier,
            voiceprint,
            templates,
            challenge,
            replay,
            TELEPHONE_RATE,
            speaker_threshold=SPEAKER_THRESHOLD,
            margin=MARGIN,
        )
        assert not result.passed
        assert result.reason.startswith("not the digits asked for")
        assert result.speaker_score is not None and result.speaker_score > SPEAKER_THRESHOLD


@needs_shared_data
def test_the_caller_passes_and_a_live_impostor_fails_on_voice(
    speakers: list[FsddSpeaker], verifier: Verifier, enrolled: tuple[Voiceprint, DigitTemplates]
) -> None:
    voiceprint, templates = enrolled
    challenge = Challenge("3816")
    rng = random.Random(2)
    genuine, impostor = (s.answer(challenge.digits, rng, first_take=5) for s in speakers)
    results = [
        check_answer(
            verifier,
            voiceprint,
            templates,
            challenge,
            audio,
            TELEPHONE_RATE,
            speaker_threshold=SPEAKER_THRESHOLD,
            margin=MARGIN,
        )
        for audio in (genuine, impostor)
    ]
    assert results[0].passed, results[0].reason
    assert not results[1].passed
    assert results[1].speaker_score is not None
    assert results[1].speaker_score < SPEAKER_THRESHOLD


@pytest.fixture
def service(redis: Redis, verifier: Verifier) -> VoiceAuthenticator:
    return VoiceAuthenticator(
        VoiceprintStore(redis, bytes(32)),
        verifier,
        COSINE,
        AuthLockout(redis, max_failures=3, window_s=900),
        rng=random.Random(7),
    )


CONSENT = ConsentRecord(given_by="caller authenticated as holder", given_at=datetime.now(UTC))


@needs_shared_data
async def test_enrol_verify_step_up_and_lock_out_a_replay_attack(
    service: VoiceAuthenticator, speakers: list[FsddSpeaker], redis: Redis
) -> None:
    caller = speakers[0]
    counting = [(caller.counting(take), TELEPHONE_RATE) for take in range(2)]
    speech = [(caller.counting(take), TELEPHONE_RATE) for take in range(2, 5)]
    record = await service.enrol("40112233", speech, counting, CONSENT)
    assert record.quality.speech_seconds >= 10.0 and record.quality.counting_passes == 2
    assert record.consent == CONSENT

    live = caller.counting(20)
    assert (await service.verify("40112233", live, TELEPHONE_RATE)).outcome is Outcome.ACCEPT
    risky = await service.verify("40112233", live, TELEPHONE_RATE, high_risk=True)
    assert risky.outcome is Outcome.STEP_UP

    challenge = service.challenge("fr")
    answer = caller.answer(challenge.digits, random.Random(1), first_take=5)
    passed = await service.answer_challenge("40112233", challenge, answer, TELEPHONE_RATE)
    assert passed.outcome is Outcome.ACCEPT, passed.reason

    replay = caller.counting(0)
    for _ in range(3):
        decision = await service.answer_challenge(
            "40112233", service.challenge(), replay, TELEPHONE_RATE
        )
        assert decision.outcome is Outcome.REJECT
    assert decision.reason.endswith("account locked")
    locked = await service.verify("40112233", live, TELEPHONE_RATE)
    assert (locked.outcome, locked.reason) == (
        Outcome.REJECT,
        "account locked after repeated failures",
    )


@needs_shared_data
async def test_unusable_audio_steps_up_without_counting_a_failure(
    service: VoiceAuthenticator, speakers: list[FsddSpeaker], redis: Redis
) -> None:
    caller = speakers[0]
    counting = [(caller.counting(take), TELEPHONE_RATE) for take in range(5)]
    await service.enrol("40112233", counting[2:], counting[:2], CONSENT)
    silence = np.zeros(2 * TELEPHONE_RATE, dtype=np.float32)
    decision = await service.verify("40112233", silence, TELEPHONE_RATE)
    assert (decision.outcome, decision.reason) == (
        Outcome.STEP_UP,
        "unusable audio: no speech detected",
    )
    assert await redis.get("voicepay:auth-failures:40112233") is None


@needs_shared_data
async def test_enrolment_needs_consented_counting_and_deletion_forgets(
    service: VoiceAuthenticator, speakers: list[FsddSpeaker]
) -> None:
    caller = speakers[0]
    one = [(caller.counting(0), TELEPHONE_RATE)]
    with pytest.raises(UnusableAudioError, match="needs 2 counting recordings, got 1"):
        await service.enrol("40112233", one, one, CONSENT)
    counting = [(caller.counting(take), TELEPHONE_RATE) for take in range(5)]
    await service.enrol("40112233", counting[2:], counting[:2], CONSENT)
    assert await service.delete("40112233")
    with pytest.raises(NotEnrolledError):
        await service.verify("40112233", caller.counting(9), TELEPHONE_RATE)


@needs_shared_data
@pytest.mark.slow
def test_liveness_measured_on_fsdd(verifier: Verifier) -> None:
    report = evaluate_liveness(
        FSDD, verifier, speaker_threshold=SPEAKER_THRESHOLD, margin=MARGIN, trials_per_speaker=5
    )
    assert report.speakers == 3 and report.trials_per_kind == 15
    assert report.pass_rate["genuine"] >= 0.8
    assert report.pass_rate["replayed_enrolment"] == 0.0
    assert report.pass_rate["replayed_answer"] <= 0.05
    assert report.pass_rate["live_impostor"] <= 0.05
