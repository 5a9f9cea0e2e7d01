"""The eval runner: trials, pass^k, crash isolation, and a leaky agent failing the run."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

import agent.ingress
import agent.payment_agent
from evals.metrics import pass_hat_k
from evals.runner import RunConfig, run_suites
from evals.scenario import DEMO_DIR
from payment_tools.redaction import RedactionResult
from voicepay.cli._app import app


def suite(tmp_path: Path, *names: str) -> Path:
    folder = tmp_path / "suite"
    folder.mkdir()
    for name in names:
        shutil.copy(DEMO_DIR / f"{name}.yaml", folder / f"{name}.yaml")
    return folder


def test_pass_hat_k_is_taus_estimator() -> None:
    assert [pass_hat_k(3, 5, k) for k in range(1, 6)] == [0.6, 0.3, 0.1, 0.0, 0.0]
    assert pass_hat_k(5, 5, 5) == 1.0
    with pytest.raises(ValueError):
        pass_hat_k(1, 2, 3)


def test_five_trials_give_pass_hat_k_for_k_1_to_5(tmp_path: Path) -> None:
    report = run_suites(
        RunConfig(suites=(suite(tmp_path, "happy-path"),), out=tmp_path / "out", trials=5)
    )
    summary = report["summary"]
    assert (summary["scenarios"], summary["trials"], summary["passed"]) == (1, 5, 5)
    assert summary["pass_hat_k"] == {str(k): 1.0 for k in range(1, 6)}
    trial_dirs = sorted((tmp_path / "out" / "scenarios" / "happy-path").iterdir())
    assert [d.name for d in trial_dirs] == [f"trial-{k}" for k in range(1, 6)]
    for folder in trial_dirs:
        call = json.loads((folder / "call.json").read_text())
        assert call["outcome"] == "paid"
        assert (folder / "logs.jsonl").stat().st_size > 0


def test_a_broken_scenario_is_reported_and_the_suite_goes_on(tmp_path: Path) -> None:
    folder = suite(tmp_path, "happy-path")
    (folder / "broken.yaml").write_text("name: broken\ncaller:\n  - shout: hello\n")
    report = run_suites(RunConfig(suites=(folder,), out=tmp_path / "out"))
    results = {s["name"]: s["results"][0] for s in report["scenarios"]}
    assert results["happy-path"]["passed"]
    assert results["broken"]["status"] == "error"
    assert "broken.yaml:3" in results["broken"]["error"]
    assert report["summary"]["errors"] == 1


def test_a_leaky_agent_fails_the_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A variant that forgets to redact speech and to guard the LLM leaks; the run must fail."""
    monkeypatch.setattr(
        agent.ingress, "redact_card_data", lambda text: RedactionResult(text, False)
    )
    monkeypatch.setattr(agent.payment_agent, "holds_card_number", lambda chat_ctx: False)
    folder = suite(tmp_path, "speaks-card-number")
    result = CliRunner().invoke(app, ["eval", "run", str(folder), "--out", str(tmp_path / "o")])
    assert result.exit_code == 1, result.output
    report = json.loads((tmp_path / "o" / "report.json").read_text())
    assert report["summary"]["leaks"] > 0
    [trial] = report["scenarios"][0]["results"]
    assert not trial["passed"]
    assert any(leak.startswith("card_number@file:llm_requests.jsonl") for leak in trial["leaks"])


def test_the_sound_agent_passes_the_same_run(tmp_path: Path) -> None:
    folder = suite(tmp_path, "speaks-card-number")
    result = CliRunner().invoke(app, ["eval", "run", str(folder), "--out", str(tmp_path / "o")])
    assert result.exit_code == 0, result.output
    assert json.loads((tmp_path / "o" / "report.json").read_text())["summary"]["leaks"] == 0
