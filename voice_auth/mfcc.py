"""MFCC frames of telephone-band speech, for matching spoken digits against the caller's own."""

from __future__ import annotations

from functools import cache

import numpy as np
import numpy.typing as npt

from voice_auth.audio import TELEPHONE_RATE, Audio, telephone_band

Frames = npt.NDArray[np.float32]

HOP = 80  # 10 ms at 8 kHz
_WINDOW = 200  # 25 ms
_N_FFT = 256
_N_MELS = 24
_N_CEPSTRA = 12
_BAND_HZ = (250.0, 3600.0)
_PRE_EMPHASIS = 0.97


def _hz_to_mel(hz: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    return np.asarray(2595.0 * np.log10(1.0 + hz / 700.0), dtype=np.float64)


def _mel_to_hz(mel: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    return np.asarray(700.0 * (10.0 ** (mel / 2595.0) - 1.0), dtype=np.float64)


@cache
def _filterbank() -> npt.NDArray[np.float64]:
    low_mel, high_mel = _hz_to_mel(np.array(_BAND_HZ)).tolist()
    edges = _mel_to_hz(np.linspace(low_mel, high_mel, _N_MELS + 2))
    bins = np.fft.rfftfreq(_N_FFT, 1.0 / TELEPHONE_RATE)
    low, centre, high = edges[:-2, None], edges[1:-1, None], edges[2:, None]
    rising = (bins[None, :] - low) / (centre - low)
    falling = (high - bins[None, :]) / (high - centre)
    return np.asarray(np.clip(np.minimum(rising, falling), 0.0, None), dtype=np.float64)


@cache
def _dct() -> npt.NDArray[np.float64]:
    k = np.arange(1, _N_CEPSTRA + 1)[:, None]  # c0 (loudness) left out
    n = np.arange(_N_MELS)[None, :] + 0.5
    return np.asarray(np.cos(np.pi / _N_MELS * n * k), dtype=np.float64)


def cepstra(audio: Audio, sample_rate: int) -> Frames:
    """Twelve MFCCs and their deltas per 10 ms frame, from the 8 kHz telephone band.

    Frame ``i`` starts at sample ``i * HOP`` of the 8 kHz signal. The features are not
    normalised: see :func:`normalise`.
    """
    x = np.asarray(telephone_band(audio, sample_rate), dtype=np.float64)
    if x.size < _WINDOW:
        return np.zeros((0, 2 * _N_CEPSTRA), dtype=np.float32)
    x = np.append(x[0], x[1:] - _PRE_EMPHASIS * x[:-1])
    count = 1 + (x.size - _WINDOW) // HOP
    index = np.arange(_WINDOW)[None, :] + HOP * np.arange(count)[:, None]
    power = np.abs(np.fft.rfft(x[index] * np.hamming(_WINDOW), _N_FFT)) ** 2
    ceps = np.log(power @ _filterbank().T + 1e-10) @ _dct().T
    padded = np.pad(ceps, ((2, 2), (0, 0)), mode="edge")
    deltas = (2.0 * (padded[4:] - padded[:-4]) + (padded[3:-1] - padded[1:-3])) / 10.0
    return np.hstack([ceps, deltas]).astype(np.float32)


def normalise(frames: Frames, reference: Frames | None = None) -> Frames:
    """Mean and variance normalisation with the statistics of ``reference`` (default: itself).

    Removes the channel (handset, line) so that templates and a later call compare.
    """
    stats = frames if reference is None else reference
    if stats.shape[0] == 0:
        return frames
    mean, std = stats.mean(axis=0), stats.std(axis=0) + 1e-6
    return np.asarray((frames - mean) / std, dtype=np.float32)
