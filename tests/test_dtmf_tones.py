from __future__ import annotations

import numpy as np
import pytest

from payment_tools.dtmf.tones import (
    DBM0_PEAK,
    dbm0_to_power,
    dtmf_tone,
    key_frequencies,
    power_to_dbm0,
)


def test_keypad_frequencies() -> None:
    assert key_frequencies("1") == (697.0, 1209.0)
    assert key_frequencies("0") == (941.0, 1336.0)
    assert key_frequencies("D") == (941.0, 1633.0)
    with pytest.raises(ValueError):
        key_frequencies("E")


def test_mulaw_full_scale_sine_is_plus_3_17_dbm0() -> None:
    assert DBM0_PEAK == pytest.approx(0.6915, abs=1e-4)
    assert power_to_dbm0(0.5 * (8159 / 8192) ** 2) == pytest.approx(3.17)


def test_tone_levels_and_twist() -> None:
    x = dtmf_tone("5", 8000, 8000, level_dbm0=-20.0, twist_db=4.0)
    spectrum = np.abs(np.fft.rfft(x)) ** 2 * 2 / len(x) ** 2
    row, col = spectrum[770], spectrum[1336]
    assert power_to_dbm0(row) == pytest.approx(-20.0, abs=0.01)
    assert 10 * np.log10(col / row) == pytest.approx(4.0, abs=0.01)
    assert np.mean(x**2) == pytest.approx(dbm0_to_power(-20.0) + dbm0_to_power(-16.0), rel=1e-3)
