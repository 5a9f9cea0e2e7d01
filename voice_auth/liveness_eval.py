"""Measuring the liveness challenge on FSDD-style recordings (one spoken digit per file).

Files are named ``{digit}_{speaker}_{take}.wav``. For each speaker, the counting recordings of
enrolment are built from takes ``0..enrol_takes-1`` (zero to nine with 0.4 s pauses); answers to
challenges are built from later takes with 0-0.25 s between digits. Four kinds of trial:

* genuine: the enrolled speaker says the digits asked for (should pass);
* replayed enrolment: the first counting recording played back (should fail);
* replayed answer: the speaker's answer to an earlier, different challenge (should fail);
* live impostor: another speaker says the digits asked for (should fail).
"""

from __future__ import annotations

import random
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from voice_auth.audio import TELEPHONE_RATE, Audio, UnusableAudioError, load_audio, resample
from voice_auth.digits import DIGITS, DigitTemplates
from voice_auth.liveness import check_answer, new_challenge
from voice_auth.verification import EnrolmentLimits, Verifier

TRIAL_KINDS = ("genuine", "replayed_enrolment", "replayed_answer", "live_impostor")
_NOISE_DBFS = -58.0


@dataclass(frozen=True)
class LivenessReport:
    """Share of trials of each kind that passed, and the CPU cost of checking a genuine answer."""

    speakers: int
    trials_per_kind: int
    pass_rate: dict[str, float]
    unusable: int
    cpu_ms_p50: float

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready fields."""
        return asdict(self)


class FsddSpeaker:
    """One FSDD speaker's takes, joined into counting recordings and challenge answers."""

    def __init__(self, folder: Path, name: str, seed: int) -> None:
        self._folder = folder
        self.name = name
        self._noise = np.random.default_rng(seed)

    def take(self, digit: str, index: int) -> Audio:
        """One take of one digit, at 8 kHz."""
        audio, rate = load_audio(self._folder / f"{digit}_{self.name}_{index}.wav")
        return resample(audio, rate, TELEPHONE_RATE)

    def takes(self) -> int:
        """How many takes of each digit there are."""
        return len(list(self._folder.glob(f"0_{self.name}_*.wav")))

    def join(self, pieces: list[Audio], gaps: list[float]) -> Audio:
        """Pieces with the given gaps after each, 0.3 s of lead-in and faint background noise."""
        parts: list[Audio] = [np.zeros(round(0.3 * TELEPHONE_RATE), dtype=np.float32)]
        for piece, gap in zip(pieces, gaps, strict=True):
            parts += [piece, np.zeros(round(gap * TELEPHONE_RATE), dtype=np.float32)]
        audio = np.concatenate([*parts, np.zeros(round(0.3 * TELEPHONE_RATE), dtype=np.float32)])
        noise = self._noise.standard_normal(audio.size) * 10 ** (_NOISE_DBFS / 20)
        return np.asarray(audio + noise, dtype=np.float32)

    def counting(self, index: int) -> Audio:
        """Zero to nine from take ``index``, with 0.4 s pauses: an enrolment counting pass."""
        return self.join([self.take(d, index) for d in DIGITS], [0.4] * len(DIGITS))

    def answer(self, digits: str, rng: random.Random, first_take: int) -> Audio:
        """``digits`` from random takes from ``first_take`` on, 0-0.25 s apart."""
        pieces = [self.take(d, rng.randrange(first_take, self.takes())) for d in digits]
        return self.join(pieces, [rng.uniform(0.0, 0.25) for _ in digits])


def evaluate_liveness(
    fsdd_dir: Path,
    verifier: Verifier,
    *,
    speaker_threshold: float,
    margin: float,
    trials_per_speaker: int = 40,
    enrol_takes: int = 5,
    counting_passes: int = 2,
    seed: int = 0,
) -> LivenessReport:
    """Run every kind of trial for every speaker in ``fsdd_dir`` (see the module docstring).

    Raises:
        ValueError: Fewer than two speakers, or too few takes to enrol and test.
    """
    names = sorted({p.stem.split("_")[1] for p in fsdd_dir.glob("*_*_*.wav")})
    if len(names) < 2:
        raise ValueError(f"{fsdd_dir} needs recordings of two or more speakers")
    rng = random.Random(seed)
    speakers = [FsddSpeaker(fsdd_dir, name, seed + i) for i, name in enumerate(names)]
    passed = dict.fromkeys(TRIAL_KINDS, 0)
    timings: list[float] = []
    unusable = 0
    for index, speaker in enumerate(speakers):
        if speaker.takes() <= enrol_takes + 4:
            raise ValueError(f"speaker {speaker.name} has too few takes to enrol and test")
        counting = [(speaker.counting(i), TELEPHONE_RATE) for i in range(enrol_takes)]
        templates = DigitTemplates.from_counting(counting[:counting_passes])
        voiceprint = verifier.enrol(counting, EnrolmentLimits())
        impostor = speakers[(index + 1) % len(speakers)]
        previous = new_challenge(rng=rng)
        for _ in range(trials_per_speaker):
            challenge = new_challenge(rng=rng)
            answers = {
                "genuine": speaker.answer(challenge.digits, rng, enrol_takes),
                "replayed_enrolment": counting[0][0],
                "replayed_answer": speaker.answer(previous.digits, rng, enrol_takes),
                "live_impostor": impostor.answer(challenge.digits, rng, enrol_takes),
            }
            for kind, audio in answers.items():
                start = time.process_time()
                try:
                    result = check_answer(
                        verifier,
                        voiceprint,
                        templates,
                        challenge,
                        audio,
                        TELEPHONE_RATE,
                        speaker_threshold=speaker_threshold,
                        margin=margin,
                    )
                    passed[kind] += result.passed
                except UnusableAudioError:
                    unusable += 1
                if kind == "genuine":
                    timings.append((time.process_time() - start) * 1e3)
            previous = challenge
    total = trials_per_speaker * len(speakers)
    return LivenessReport(
        speakers=len(speakers),
        trials_per_kind=total,
        pass_rate={kind: count / total for kind, count in passed.items()},
        unusable=unusable,
        cpu_ms_p50=float(np.percentile(timings, 50)),
    )


def render_liveness(report: LivenessReport) -> str:
    """Human-readable summary."""
    rates = "\n".join(f"  {kind:<20} {rate:.1%} passed" for kind, rate in report.pass_rate.items())
    return (
        f"speakers {report.speakers}, {report.trials_per_kind} trials of each kind "
        f"({report.unusable} unusable answers)\n{rates}\n"
        f"check of a genuine answer: p50 {report.cpu_ms_p50:.1f} ms CPU (speaker + content)"
    )
