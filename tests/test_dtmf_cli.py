from __future__ import annotations

from pathlib import Path

import numpy as np
import typer
from dtmf_support import make_sequence
from typer.testing import CliRunner

from payment_tools.dtmf.wav import read_pcm16, write_pcm16, write_wav
from voicepay.cli.dtmf import dtmf_app

app = typer.Typer()
app.add_typer(dtmf_app, name="dtmf")
runner = CliRunner()


def test_detect_prints_key_and_onset_ms_only(tmp_path: Path) -> None:
    seq = make_sequence("12#", lead_ms=250.0, tone_ms=50.0, pause_ms=100.0)
    write_wav(tmp_path / "in.wav", seq.samples, 8000)
    result = runner.invoke(app, ["dtmf", "detect", str(tmp_path / "in.wav")])
    assert result.exit_code == 0
    assert result.stdout == "1 250\n2 400\n# 550\n"


def test_mask_writes_an_aligned_copy_without_tones(tmp_path: Path) -> None:
    seq = make_sequence("777", rate=16000)
    noise = np.random.default_rng(0).normal(0, 0.001, len(seq.samples))
    pcm = np.round((seq.samples + noise) * 32768).astype(np.int16)
    write_pcm16(tmp_path / "in.wav", pcm, 16000)
    result = runner.invoke(
        app, ["dtmf", "mask", str(tmp_path / "in.wav"), str(tmp_path / "out.wav")]
    )
    assert result.exit_code == 0 and result.stdout == ""
    y, rate = read_pcm16(tmp_path / "out.wav")
    assert rate == 16000 and len(y) == len(pcm)
    assert np.array_equal(y[: seq.onsets[0] - 200], pcm[: seq.onsets[0] - 200])
    detected = runner.invoke(app, ["dtmf", "detect", str(tmp_path / "out.wav")])
    assert detected.exit_code == 0 and detected.stdout == ""


def test_mask_help_declares_the_lookahead() -> None:
    result = runner.invoke(app, ["dtmf", "mask", "--help"])
    assert result.exit_code == 0
    assert "look-ahead of 20 ms" in " ".join(result.stdout.split())


def test_an_unreadable_file_exits_2_with_nothing_on_stdout(tmp_path: Path) -> None:
    (tmp_path / "bad.wav").write_bytes(b"not a wav")
    result = runner.invoke(app, ["dtmf", "detect", str(tmp_path / "bad.wav")])
    assert result.exit_code == 2
    assert result.stdout == ""
