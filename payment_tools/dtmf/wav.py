"""Mono 16-bit PCM WAV files as int16 or float samples, with the standard library's ``wave``."""

from __future__ import annotations

import wave
from pathlib import Path

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]


def read_pcm16(path: str | Path) -> tuple[npt.NDArray[np.int16], int]:
    """Read a 16-bit PCM WAV file; return its samples and sample rate.

    Multi-channel files are reduced to their first channel.

    Raises:
        ValueError: if the file is not 16-bit PCM.
    """
    with wave.open(str(path), "rb") as w:
        if w.getsampwidth() != 2:
            raise ValueError("only 16-bit PCM WAV is supported")
        channels, rate = w.getnchannels(), w.getframerate()
        raw = w.readframes(w.getnframes())
    pcm: npt.NDArray[np.int16] = np.frombuffer(raw, dtype="<i2").reshape(-1, channels)[:, 0]
    return pcm.astype(np.int16), rate


def write_pcm16(path: str | Path, pcm: npt.NDArray[np.generic], sample_rate: int) -> None:
    """Write 16-bit samples as a mono 16-bit PCM WAV file."""
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(sample_rate)
        w.writeframes(pcm.astype("<i2").tobytes())


def read_wav(path: str | Path) -> tuple[FloatArray, int]:
    """Read a 16-bit PCM WAV file as float samples (full scale 1.0) and its sample rate.

    Raises:
        ValueError: if the file is not 16-bit PCM.
    """
    pcm, rate = read_pcm16(path)
    samples: FloatArray = pcm.astype(np.float64) / 32768.0
    return samples, rate


def write_wav(path: str | Path, samples: FloatArray, sample_rate: int) -> None:
    """Write float samples (full scale 1.0, clipped) as a mono 16-bit PCM WAV file."""
    write_pcm16(
        path, np.clip(np.round(samples * 32768.0), -32768, 32767).astype(np.int16), sample_rate
    )
