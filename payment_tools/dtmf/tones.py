"""DTMF frequency plan, dBm0 level conversions and a tone synthesiser.

Levels follow G.711 mu-law: a full-scale sine is +3.17 dBm0, and full scale is the largest
mu-law magnitude (8159 of 8192 in 14-bit linear PCM), mapped here to float samples in [-1, 1].
SpanDSP uses +3.14 dBm0 (the A-law figure) against 32768; the two differ by less than 0.1 dB.
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

ROW_HZ: tuple[float, ...] = (697.0, 770.0, 852.0, 941.0)
COL_HZ: tuple[float, ...] = (1209.0, 1336.0, 1477.0, 1633.0)
KEYPAD: tuple[str, ...] = ("123A", "456B", "789C", "*0#D")
KEYS = "".join(KEYPAD)

MULAW_FULL_SCALE = 8159.0 / 8192.0
FULL_SCALE_SINE_DBM0 = 3.17
DBM0_PEAK = MULAW_FULL_SCALE * 10.0 ** (-FULL_SCALE_SINE_DBM0 / 20.0)
"""Peak amplitude of a 0 dBm0 sine in float samples (about 0.6915)."""


def key_frequencies(key: str) -> tuple[float, float]:
    """Return the (row, column) frequencies in Hz of a keypad key.

    Raises:
        ValueError: if ``key`` is not one of ``0-9 * # A-D``.
    """
    for row, keys in enumerate(KEYPAD):
        col = keys.find(key) if len(key) == 1 else -1
        if col >= 0:
            return ROW_HZ[row], COL_HZ[col]
    raise ValueError("not a DTMF key")


def dbm0_to_peak(level_dbm0: float) -> float:
    """Peak amplitude (float full scale 1.0) of a sine at ``level_dbm0``."""
    return float(DBM0_PEAK * 10.0 ** (level_dbm0 / 20.0))


def dbm0_to_power(level_dbm0: float) -> float:
    """Mean-square power (float full scale 1.0) of a sine at ``level_dbm0``."""
    return float(dbm0_to_peak(level_dbm0) ** 2 / 2.0)


def power_to_dbm0(power: float) -> float:
    """Level in dBm0 of a sine whose mean-square power is ``power``."""
    return 10.0 * math.log10(max(power, 1e-30) / dbm0_to_power(0.0))


def dtmf_tone(
    key: str,
    n_samples: int,
    sample_rate: int,
    *,
    level_dbm0: float = -10.0,
    twist_db: float = 0.0,
    row_deviation: float = 0.0,
    col_deviation: float = 0.0,
    phase: tuple[float, float] = (0.0, 0.0),
) -> npt.NDArray[np.float64]:
    """Synthesise one DTMF tone burst.

    Args:
        key: keypad key, ``0-9 * # A-D``.
        n_samples: length of the burst in samples.
        sample_rate: samples per second.
        level_dbm0: level of the low (row) tone.
        twist_db: level of the high (column) tone minus the low tone, in dB.
        row_deviation: relative frequency error of the row tone (0.015 is +1.5 %).
        col_deviation: relative frequency error of the column tone.
        phase: starting phases of the row and column tones, in radians.

    Returns:
        The burst as float64 samples.
    """
    row_hz, col_hz = key_frequencies(key)
    t = np.arange(n_samples, dtype=np.float64) / sample_rate
    row_amp = dbm0_to_peak(level_dbm0)
    col_amp = dbm0_to_peak(level_dbm0 + twist_db)
    row = row_amp * np.sin(2 * np.pi * row_hz * (1 + row_deviation) * t + phase[0])
    col = col_amp * np.sin(2 * np.pi * col_hz * (1 + col_deviation) * t + phase[1])
    out: npt.NDArray[np.float64] = row + col
    return out
