from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from shared_speech import LIBRI, needs_shared_data

from voice_auth.audio import TELEPHONE_RATE, UnusableAudioError, load_audio, telephone_band
from voice_auth.config import VoiceAuthSettings
from voice_auth.decision import Outcome, decide
from voice_auth.encoders import GE2EEncoder
from voice_auth.verification import Verifier, Voiceprint

pytestmark = needs_shared_data
COSINE = VoiceAuthSettings().thresholds()
SNORM = VoiceAuthSettings(cohort_path=Path("cohort.npz")).thresholds()


def phone(path: Path) -> np.ndarray:
    audio, rate = load_audio(path)
    return telephone_band(audio, rate)


@pytest.fixture(scope="module")
def verifier() -> Verifier:
    return Verifier(GE2EEncoder())


@pytest.fixture(scope="module")
def voiceprint(verifier: Verifier) -> Voiceprint:
    files = ["3080-5032-0002.flac", "3080-5032-0006.flac"]
    return verifier.enrol([(phone(LIBRI / "3080" / f), TELEPHONE_RATE) for f in files])


def test_enrolment_records_model_and_net_speech(verifier: Verifier, voiceprint: Voiceprint) -> None:
    assert voiceprint.model_id == verifier.encoder.model_id
    assert 10.0 <= voiceprint.speech_seconds < 26.5
    assert voiceprint.utterances == 2
    assert 0.8 < voiceprint.consistency <= 1.0
    assert np.linalg.norm(voiceprint.embedding) == pytest.approx(1.0, abs=1e-5)


def test_enrolled_caller_is_accepted_and_another_rejected(
    verifier: Verifier, voiceprint: Voiceprint
) -> None:
    same = verifier.verify(voiceprint, phone(LIBRI / "3080" / "3080-5032-0003.flac"), 8000)
    other = verifier.verify(voiceprint, phone(LIBRI / "3331" / "3331-159605-0003.flac"), 8000)
    assert decide(same.score, COSINE).outcome is Outcome.ACCEPT
    # Plain cosine leaves this impostor in the grey zone: stepped up, never accepted.
    assert decide(other.score, COSINE).outcome is not Outcome.ACCEPT
    assert same.score > other.score + 0.1
    assert same.quality.ok


def test_enrolment_needs_two_utterances(verifier: Verifier) -> None:
    long_one = phone(LIBRI / "3080" / "3080-5032-0003.flac")
    with pytest.raises(UnusableAudioError, match="needs 2 utterances, got 1"):
        verifier.enrol([(long_one, TELEPHONE_RATE)])


def test_enrolment_needs_ten_seconds_of_speech(verifier: Verifier) -> None:
    short = [(phone(LIBRI / "3331" / f), TELEPHONE_RATE) for f in ("3331-159605-0004.flac",) * 2]
    with pytest.raises(UnusableAudioError, match=r"too little speech to enrol: \d\.\d s heard"):
        verifier.enrol(short)


def test_enrolment_names_the_unusable_utterance(verifier: Verifier) -> None:
    good = phone(LIBRI / "3080" / "3080-5032-0000.flac")
    silent = np.zeros(8000 * 3, dtype=np.float32)
    with pytest.raises(UnusableAudioError, match="utterance 2: no speech detected"):
        verifier.enrol([(good, TELEPHONE_RATE), (silent, TELEPHONE_RATE)])


def test_verification_refuses_unusable_audio(verifier: Verifier, voiceprint: Voiceprint) -> None:
    too_short = phone(LIBRI / "3080" / "3080-5032-0003.flac")[:TELEPHONE_RATE]
    with pytest.raises(UnusableAudioError, match="too little speech"):
        verifier.verify(voiceprint, too_short, TELEPHONE_RATE)


def test_voiceprint_from_another_model_is_not_compared(
    verifier: Verifier, voiceprint: Voiceprint
) -> None:
    foreign = Voiceprint("speechbrain-000000000000", voiceprint.embedding, 12.0)
    with pytest.raises(ValueError, match="made by speechbrain-000000000000"):
        verifier.verify(foreign, phone(LIBRI / "3080" / "3080-5032-0003.flac"), 8000)


def test_cohort_normalised_scores_centre_impostors_near_zero(voiceprint: Voiceprint) -> None:
    encoder = GE2EEncoder()
    cohort = np.stack(
        [
            encoder.embed(phone(path)[: 3 * TELEPHONE_RATE], TELEPHONE_RATE)
            for path in sorted((LIBRI.parent / "librispeech-train-clean-100").glob("*.flac"))[:8]
        ]
    )
    normalised = Verifier(encoder, cohort=cohort)
    same = normalised.verify(voiceprint, phone(LIBRI / "3080" / "3080-5032-0003.flac"), 8000)
    other = normalised.verify(voiceprint, phone(LIBRI / "1998" / "1998-15444-0007.flac"), 8000)
    # An eight-speaker cohort is small: the genuine caller clears the reject threshold by far.
    assert same.score > SNORM.reject + 0.5
    assert decide(other.score, SNORM).outcome is Outcome.REJECT and abs(other.score) < 2.0
    raw = normalised.score(
        voiceprint,
        encoder.embed(phone(LIBRI / "3080" / "3080-5032-0003.flac"), 8000),
        normalise=False,
    )
    assert -1.0 <= raw <= 1.0
