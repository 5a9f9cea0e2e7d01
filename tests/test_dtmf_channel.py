from __future__ import annotations

import numpy as np
import numpy.typing as npt
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from payment_tools.dtmf.channel import (
    mulaw_decode,
    mulaw_encode,
    mulaw_roundtrip,
    telephone_bandpass,
)


def test_mulaw_known_codes() -> None:
    assert mulaw_encode(np.array([0.0]))[0] == 0xFF
    assert mulaw_encode(np.array([-1.0]))[0] == 0x00
    assert mulaw_encode(np.array([1.0]))[0] == 0x80
    assert mulaw_decode(np.array([0x80], dtype=np.uint8))[0] == 32124 / 32768


@given(arrays(np.float64, 64, elements=st.floats(-1.0, 1.0)))
def test_mulaw_error_is_within_half_a_step(x: npt.NDArray[np.float64]) -> None:
    err = np.abs(mulaw_roundtrip(x) - x)
    assert np.all(err <= np.maximum(np.abs(x) / 16, 1 / 4096))


def test_every_code_decodes_and_reencodes_to_itself() -> None:
    codes = np.arange(256, dtype=np.uint8)
    back = mulaw_encode(mulaw_decode(codes))
    assert np.array_equal(back[codes != 0x7F], codes[codes != 0x7F])


def _gain(freq: float) -> float:
    t = np.arange(8000) / 8000
    x = np.sin(2 * np.pi * freq * t)
    y = telephone_bandpass(x, 8000)
    return float(np.sqrt(np.mean(y[1000:-1000] ** 2) / np.mean(x[1000:-1000] ** 2)))


def test_voice_band_passes_dtmf_and_cuts_outside() -> None:
    for freq in (697.0, 1209.0, 1633.0, 3000.0):
        assert abs(20 * np.log10(_gain(freq))) < 0.2
    assert _gain(100.0) < 0.05
    assert _gain(3900.0) < 0.05


def test_voice_band_keeps_length_and_alignment() -> None:
    x = np.zeros(501)
    x[250] = 1.0
    y = telephone_bandpass(x, 8000)
    assert len(y) == len(x)
    assert int(np.argmax(np.abs(y))) == 250
