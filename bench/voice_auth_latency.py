"""Voice verification latency per 3 s telephone utterance on one core, and the liveness check's.

Run from the repository root: ``.venv/bin/python bench/voice_auth_latency.py [--rounds N]``.
Needs the shared recordings (``../shared/data`` or ``VOICEPAY_SHARED_DATA``). One torch thread,
as in production. A verification is what ``VoiceAuthenticator.verify`` computes: silence
trimming and quality gates, GE2E embedding, and the s-norm score against a 60-embedding cohort.
The liveness check embeds the 4-digit answer and aligns it to the caller's digit templates.
Wall-clock and CPU time are both shown: other load on the machine inflates only the first.
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch

from voice_auth.audio import TELEPHONE_RATE, load_audio, prepare_speech, telephone_band
from voice_auth.digits import DigitTemplates
from voice_auth.encoders import GE2EEncoder
from voice_auth.liveness import check_answer, new_challenge
from voice_auth.liveness_eval import FsddSpeaker
from voice_auth.verification import EnrolmentLimits, Verifier

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(os.environ.get("VOICEPAY_SHARED_DATA", ROOT.parent / "shared" / "data"))
TARGET_MS = 100.0


def crops(folder: Path, count: int) -> list[np.ndarray]:
    length = 3 * TELEPHONE_RATE
    found: list[np.ndarray] = []
    for path in sorted(folder.rglob("*.flac")):
        audio, rate = load_audio(path)
        speech = prepare_speech(telephone_band(audio, rate), TELEPHONE_RATE).samples
        found += [speech[i : i + length] for i in range(0, len(speech) - length + 1, length)]
    return found[:count]


def timed(action: Callable[[], object], rounds: int) -> tuple[np.ndarray, np.ndarray]:
    action()  # warm-up
    wall, cpu = [], []
    for _ in range(rounds):
        start, cpu_start = time.perf_counter(), time.process_time()
        action()
        wall.append((time.perf_counter() - start) * 1e3)
        cpu.append((time.process_time() - cpu_start) * 1e3)
    return np.array(wall), np.array(cpu)


def row(name: str, wall: np.ndarray, cpu: np.ndarray) -> str:
    p50, p95 = np.percentile(wall, [50, 95])
    return f"{name:<34} {p50:8.1f} {p95:8.1f} {np.percentile(cpu, 50):9.1f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=200)
    args = parser.parse_args()
    if not DATA.is_dir():
        raise SystemExit(f"shared recordings not found at {DATA} (set VOICEPAY_SHARED_DATA)")
    torch.set_num_threads(1)
    encoder = GE2EEncoder()
    cohort_audio = crops(DATA / "librispeech-train-clean-100", 60)
    cohort = np.stack([encoder.embed(c, TELEPHONE_RATE) for c in cohort_audio])
    verifier = Verifier(encoder, cohort)
    tests = crops(DATA / "librispeech-test-other" / "3080", 40)
    voiceprint = verifier.enrol([(t, TELEPHONE_RATE) for t in tests[:5]], EnrolmentLimits())
    utterances = tests[5:]
    speaker = FsddSpeaker(DATA / "fsdd" / "recordings", "jackson", seed=0)
    counting = [(speaker.counting(take), TELEPHONE_RATE) for take in range(2)]
    templates = DigitTemplates.from_counting(counting)
    rng = random.Random(0)
    challenge = new_challenge(rng=rng)
    answers = [speaker.answer(challenge.digits, rng, first_take=5) for _ in range(20)]
    turn = iter(range(10**9))

    def verify() -> object:
        return verifier.verify(voiceprint, utterances[next(turn) % len(utterances)], 8000)

    def liveness() -> object:
        return check_answer(
            verifier,
            voiceprint,
            templates,
            challenge,
            answers[next(turn) % len(answers)],
            TELEPHONE_RATE,
            speaker_threshold=0.75,
            margin=0.045,
        )

    print(f"{os.cpu_count()} cores, Python {platform.python_version()}, torch {torch.__version__}")
    print(f"load average at start: {os.getloadavg()[0]:.2f}; {args.rounds} rounds, 1 thread")
    print(f"{'':<34} {'p50 ms':>8} {'p95 ms':>8} {'CPU p50':>9}")
    verify_times = timed(verify, args.rounds)
    print(row("verify 3 s utterance (s-norm)", *verify_times))
    print(row("liveness answer (4 digits)", *timed(liveness, args.rounds)))
    print(f"load average at end: {os.getloadavg()[0]:.2f}")
    verdict = "meets" if np.percentile(verify_times[1], 50) <= TARGET_MS else "MISSES"
    print(f"verification {verdict} the {TARGET_MS:.0f} ms p50 target (CPU time)")


if __name__ == "__main__":
    main()
