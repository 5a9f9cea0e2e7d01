"""Helpers for the DTMF tests: synthetic key sequences, and real speech from ../shared/data."""

from __future__ import annotations

import functools
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest

from payment_tools.dtmf.tones import dtmf_tone
from payment_tools.dtmf.wav import read_wav

FloatArray = npt.NDArray[np.float64]

SHARED_DATA = Path(
    os.environ.get("VOICEPAY_SHARED_DATA", Path(__file__).resolve().parents[2] / "shared" / "data")
)


@dataclass(frozen=True)
class Sequence:
    """Key presses separated by silence: the samples, and where each tone starts and ends."""

    samples: FloatArray
    onsets: list[int]
    ends: list[int]


def make_sequence(
    keys: str,
    *,
    rate: int = 8000,
    tone_ms: float = 60.0,
    pause_ms: float = 60.0,
    lead_ms: float = 37.0,
    seed: int = 0,
    level_dbm0: float = -10.0,
    twist_db: float = 0.0,
    row_deviation: float = 0.0,
    col_deviation: float = 0.0,
) -> Sequence:
    """A recording of ``keys``, each tone followed by a pause, with random tone phases."""
    rng = np.random.default_rng(seed)
    parts = [np.zeros(round(lead_ms * rate / 1000))]
    pos, onsets, ends = len(parts[0]), [], []
    for key in keys:
        n = round(tone_ms * rate / 1000)
        phase = (float(rng.uniform(0, 6.3)), float(rng.uniform(0, 6.3)))
        tone = dtmf_tone(
            key,
            n,
            rate,
            level_dbm0=level_dbm0,
            twist_db=twist_db,
            row_deviation=row_deviation,
            col_deviation=col_deviation,
            phase=phase,
        )
        parts.append(tone)
        onsets.append(pos)
        ends.append(pos + n)
        gap = round(pause_ms * rate / 1000)
        parts.append(np.zeros(gap))
        pos += n + gap
    return Sequence(np.concatenate(parts), onsets, ends)


def shared_folder(*parts: str) -> Path:
    """A folder of ../shared/data; the test is skipped when it is not there."""
    path = SHARED_DATA.joinpath(*parts)
    if not path.is_dir():
        pytest.skip(f"shared speech not found at {path} (set VOICEPAY_SHARED_DATA)")
    return path


@functools.cache
def _harvard(folder: Path) -> FloatArray:
    samples, rate = read_wav(folder / "OSR_us_000_0034_8k.wav")
    assert rate == 8000
    return samples


@functools.cache
def _digits(folder: Path) -> FloatArray:
    takes = [read_wav(p)[0] for p in sorted(folder.glob("*.wav"))[::7][:200]]
    return np.concatenate(takes)


def harvard_speech() -> FloatArray:
    """35 s of telephone-band read speech (OSR Harvard sentences, 8 kHz)."""
    return _harvard(shared_folder("osr-harvard-8k"))


def digit_speech() -> FloatArray:
    """Spoken digits (FSDD, 8 kHz): 200 takes concatenated, about 85 s."""
    return _digits(shared_folder("fsdd", "recordings"))
