"""The README's first command: ``voicepay demo`` completes a payment and writes its artefacts."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from voicepay.cli._app import app


@pytest.fixture(autouse=True)
def _shared_redis(redis_server: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VOICEPAY_REDIS_URL", redis_server)


def test_the_demo_pays_and_prints_a_confirmation_code(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["demo", "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    call = json.loads((tmp_path / "call.json").read_text())
    assert call["outcome"] == "paid"
    assert call["confirmation_code"] in result.output
    assert "••••••••••••••••#" in result.output
    for name in ("transcript.jsonl", "events.jsonl", "logs.jsonl", "llm_requests.jsonl"):
        assert (tmp_path / name).stat().st_size > 0, name


def test_the_french_variant_runs_in_french(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["demo", "--lang", "fr", "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    transcript = (tmp_path / "transcript.jsonl").read_text(encoding="utf-8")
    assert "Bonjour" in transcript


def test_an_unknown_scenario_is_a_clear_error() -> None:
    result = CliRunner().invoke(app, ["demo", "--scenario", "nope"])
    assert result.exit_code == 2
    assert "happy-path" in result.output


def test_list_shows_every_scenario() -> None:
    result = CliRunner().invoke(app, ["demo", "--list"])
    assert result.exit_code == 0
    for name in ("happy-path", "decline-then-retry", "wrong-digits", "speaks-card-number"):
        assert name in result.output
