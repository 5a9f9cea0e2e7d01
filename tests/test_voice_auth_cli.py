from __future__ import annotations

import base64
import json
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import typer
from shared_speech import FSDD, LIBRI, SHARED_DATA, needs_shared_data
from typer.testing import CliRunner

from voice_auth.cohort import load_cohort
from voice_auth.encoders import GE2EEncoder
from voice_auth.liveness_eval import FsddSpeaker
from voicepay.cli.voice_auth import voice_auth_app, voiceprint_app

app = typer.Typer()
app.add_typer(voice_auth_app, name="voice-auth")
app.add_typer(voiceprint_app, name="voiceprint")
runner = CliRunner()


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("VOICEPAY_ENVIRONMENT", "VOICEPAY_REDIS_URL", "VOICEPAY_VOICE_AUTH__KEY"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def recordings(tmp_path: Path) -> dict[str, list[Path]]:
    speaker = FsddSpeaker(FSDD, "theo", seed=0)
    files: dict[str, list[Path]] = {"counting": [], "speech": []}
    for take in range(5):
        kind = "counting" if take < 2 else "speech"
        path = tmp_path / f"{kind}-{take}.wav"
        sf.write(path, speaker.counting(take), 8000)
        files[kind].append(path)
    return files


def enrol_args(account: str, files: dict[str, list[Path]], redis_url: str) -> list[str]:
    args = ["voiceprint", "enrol", account, "--consented-by", "caller as holder"]
    args += ["--call-id", "call-9", "--redis-url", redis_url]
    for path in files["speech"]:
        args += ["--utterance", str(path)]
    for path in files["counting"]:
        args += ["--counting", str(path)]
    return args


@needs_shared_data
def test_enrol_show_and_delete_a_voiceprint(
    recordings: dict[str, list[Path]], redis_server: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("VOICEPAY_ENVIRONMENT", "test")
    monkeypatch.setenv("VOICEPAY_VOICE_AUTH__KEY", base64.b64encode(bytes(range(32))).decode())
    enrolled = runner.invoke(app, enrol_args("40112233", recordings, redis_server))
    assert enrolled.exit_code == 0, enrolled.output
    assert "Enrolled account 40112233" in enrolled.output
    shown = runner.invoke(app, ["voiceprint", "show", "40112233", "--redis-url", redis_server])
    assert shown.exit_code == 0, shown.output
    for text in (
        "resemblyzer 0.1.4",
        "caller as holder",
        "keypad 1 after consent prompt",
        "call-9",
    ):
        assert text in shown.output
    deleted = runner.invoke(app, ["voiceprint", "delete", "40112233", "--redis-url", redis_server])
    assert "Deleted the voiceprint of account 40112233" in deleted.output
    again = runner.invoke(app, ["voiceprint", "show", "40112233", "--redis-url", redis_server])
    assert again.exit_code == 1
    assert "has no voiceprint" in again.output


def test_outside_dev_voiceprints_need_a_real_key(
    redis_server: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("VOICEPAY_ENVIRONMENT", "test")
    result = runner.invoke(app, ["voiceprint", "delete", "40112233", "--redis-url", redis_server])
    assert result.exit_code == 2
    assert "VOICEPAY_VOICE_AUTH__KEY must be set" in result.output


def test_without_redis_nothing_is_enrolled_into_a_vanishing_server() -> None:
    result = runner.invoke(app, ["voiceprint", "delete", "40112233"])
    assert result.exit_code == 2
    assert "No Redis configured" in result.output


@needs_shared_data
def test_unusable_counting_is_explained(
    recordings: dict[str, list[Path]], redis_server: str, tmp_path: Path
) -> None:
    talk = np.random.default_rng(0).standard_normal(6 * 8000).astype(np.float32) * 0.2
    sf.write(tmp_path / "no-pauses.wav", talk, 8000)
    recordings["counting"][0] = tmp_path / "no-pauses.wav"
    result = runner.invoke(app, enrol_args("40112233", recordings, redis_server))
    assert result.exit_code == 1
    assert "Not enrolled: counting recording 1: could not hear ten separate digits" in " ".join(
        result.output.split()
    )


@needs_shared_data
def test_eval_prints_json_with_the_required_fields_and_writes_a_det_curve(
    tmp_path: Path,
) -> None:
    data = tmp_path / "speakers"
    for speaker in ("1688", "3080", "2414"):
        (data / speaker).mkdir(parents=True)
        for source in sorted((LIBRI / speaker).rglob("*.flac")):
            (data / speaker / source.name).symlink_to(source)
    det = tmp_path / "det.png"
    result = runner.invoke(
        app, ["voice-auth", "eval", str(data), "--json", "--no-snorm", "--det", str(det)]
    )
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert {"eer", "far", "frr", "threshold", "trials", "latency_ms_p50"} <= report.keys()
    assert (report["threshold"], report["reject_threshold"]) == (0.84, 0.74)
    assert report["trials"] > 50 and report["scoring"] == "cosine"
    assert det.read_bytes().startswith(b"\x89PNG")


def test_eval_of_a_missing_folder_is_an_error(tmp_path: Path) -> None:
    result = runner.invoke(app, ["voice-auth", "eval", str(tmp_path / "nope")])
    assert result.exit_code == 1
    assert "no such directory" in result.output


@needs_shared_data
def test_cohort_file_is_written_for_the_encoder(tmp_path: Path) -> None:
    source = tmp_path / "cohort-speech"
    source.mkdir()
    for path in sorted((SHARED_DATA / "librispeech-train-clean-100").glob("*.flac"))[:3]:
        (source / path.name).symlink_to(path)
    out = tmp_path / "cohort.npz"
    result = runner.invoke(app, ["voice-auth", "cohort", str(source), "--out", str(out)])
    assert result.exit_code == 0, result.output
    cohort = load_cohort(out, GE2EEncoder().model_id)
    assert cohort.shape[1] == 256 and cohort.shape[0] >= 3
    with pytest.raises(ValueError, match="was made by ge2e-"):
        load_cohort(out, "speechbrain-000000000000")
