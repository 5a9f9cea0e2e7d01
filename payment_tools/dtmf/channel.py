"""Telephone channel simulation: G.711 mu-law companding and the 300-3400 Hz voice band.

Used to test receivers the way a caller's audio reaches them through the PSTN.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]

_BIAS = 0x84
_CLIP = 32635


def mulaw_encode(samples: FloatArray) -> npt.NDArray[np.uint8]:
    """Encode float samples (full scale 1.0) to G.711 mu-law bytes."""
    pcm = np.clip(np.round(samples * 32768.0), -32768, 32767).astype(np.int64)
    sign = np.where(pcm < 0, 0x80, 0x00)
    magnitude = np.minimum(np.abs(pcm), _CLIP) + _BIAS
    exponent = np.floor(np.log2(magnitude)).astype(np.int64) - 7
    mantissa = (magnitude >> (exponent + 3)) & 0x0F
    code = ~(sign | (exponent << 4) | mantissa) & 0xFF
    out: npt.NDArray[np.uint8] = code.astype(np.uint8)
    return out


def mulaw_decode(codes: npt.NDArray[np.uint8]) -> FloatArray:
    """Decode G.711 mu-law bytes to float samples (full scale 1.0)."""
    c = ~codes.astype(np.int64) & 0xFF
    exponent = (c >> 4) & 0x07
    mantissa = c & 0x0F
    magnitude = (((mantissa << 3) + _BIAS) << exponent) - _BIAS
    pcm = np.where(c & 0x80, -magnitude, magnitude)
    out: FloatArray = pcm / 32768.0
    return out


def mulaw_roundtrip(samples: FloatArray) -> FloatArray:
    """Samples as heard after one G.711 mu-law encode and decode."""
    return mulaw_decode(mulaw_encode(samples))


def bandpass_taps(
    sample_rate: int, low_hz: float = 300.0, high_hz: float = 3400.0, n_taps: int = 255
) -> FloatArray:
    """Linear-phase FIR band-pass taps (Blackman-windowed sinc), odd length."""
    if n_taps % 2 == 0:
        raise ValueError("n_taps must be odd")
    n = np.arange(n_taps) - (n_taps - 1) / 2
    high = 2 * high_hz / sample_rate * np.sinc(2 * high_hz / sample_rate * n)
    low = 2 * low_hz / sample_rate * np.sinc(2 * low_hz / sample_rate * n)
    taps: FloatArray = (high - low) * np.blackman(n_taps)
    return taps


def telephone_bandpass(samples: FloatArray, sample_rate: int) -> FloatArray:
    """Band-limit to 300-3400 Hz with zero delay (same length, sample-aligned output)."""
    taps = bandpass_taps(sample_rate, n_taps=int(sample_rate * 0.032) | 1)
    size = len(samples) + len(taps) - 1
    nfft = 1 << (size - 1).bit_length()
    full = np.fft.irfft(np.fft.rfft(samples, nfft) * np.fft.rfft(taps, nfft), nfft)
    delay = (len(taps) - 1) // 2
    out: FloatArray = full[delay : delay + len(samples)]
    return out
