from __future__ import annotations

import wave
from pathlib import Path

import numpy as np
import pytest

from payment_tools.dtmf.wav import read_pcm16, read_wav, write_pcm16, write_wav


def test_float_roundtrip_is_exact_for_16_bit_values(tmp_path: Path) -> None:
    x = np.random.default_rng(0).integers(-32768, 32767, 999) / 32768.0
    write_wav(tmp_path / "a.wav", x, 16000)
    y, rate = read_wav(tmp_path / "a.wav")
    assert rate == 16000
    assert np.array_equal(x, y)


def test_pcm_roundtrip_keeps_every_sample(tmp_path: Path) -> None:
    pcm = np.random.default_rng(1).integers(-32768, 32768, 777).astype(np.int16)
    write_pcm16(tmp_path / "p.wav", pcm, 8000)
    back, rate = read_pcm16(tmp_path / "p.wav")
    assert rate == 8000 and back.dtype == np.int16
    assert np.array_equal(back, pcm)


def test_stereo_reads_first_channel_and_8_bit_is_refused(tmp_path: Path) -> None:
    with wave.open(str(tmp_path / "s.wav"), "wb") as w:
        w.setnchannels(2)
        w.setsampwidth(2)
        w.setframerate(8000)
        w.writeframes(np.array([100, -5, 200, -6], dtype="<i2").tobytes())
    y, _ = read_wav(tmp_path / "s.wav")
    assert np.array_equal(y * 32768, [100, 200])
    with wave.open(str(tmp_path / "b.wav"), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(1)
        w.setframerate(8000)
        w.writeframes(b"\x80\x80")
    with pytest.raises(ValueError):
        read_wav(tmp_path / "b.wav")
