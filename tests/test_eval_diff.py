"""``voicepay eval diff``: per-scenario and per-metric verdicts, thresholds and the CI gate."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st
from typer.testing import CliRunner

from evals.diff import (
    ERROR_CHECK,
    RULES,
    SCENARIO_REGRESSIONS,
    ReportError,
    Threshold,
    classify,
    diff_reports,
)
from evals.report_files import write_report
from evals.runner import RunConfig, build_report, run_suites
from evals.scenario import DEMO_DIR
from evals.trial import CheckResult, TrialResult
from voicepay.cli._app import app

POLICY = "at most one charge"


def trial(
    scenario: str,
    number: int = 1,
    *,
    failing: tuple[str, ...] = (),
    outcome: str = "paid",
    status: str = "ok",
    leaks: tuple[str, ...] = (),
    turn_ms: tuple[float, ...] = (100.0, 100.0),
    policy_broken: bool = False,
    **fields: Any,
) -> TrialResult:
    """A judged trial that fails exactly the named checks."""
    checks = [
        CheckResult(name=name, kind="task", passed=name not in failing)
        for name in ("outcome", "paid", *(f for f in failing if f not in ("outcome", "paid")))
    ]
    checks.append(CheckResult(name=POLICY, kind="policy", passed=not policy_broken))
    checks.append(CheckResult(name="no card data leaked", kind="containment", passed=not leaks))
    if status == "error":
        checks = []
    passed = status == "ok" and all(c.passed for c in checks)
    return TrialResult(
        scenario=scenario,
        file=f"{scenario}.yaml",
        trial=number,
        status="ok" if status == "ok" else "error",
        passed=passed,
        task_success=passed,
        checks=checks,
        outcome=outcome if status == "ok" else None,
        leaks=list(leaks),
        turns=len(turn_ms),
        turn_ms=list(turn_ms),
        **fields,
    )


def report(*trials: TrialResult, per_scenario: int = 1, **config: Any) -> dict[str, Any]:
    """A report exactly as ``voicepay eval run`` writes it, then read back from JSON."""
    run = RunConfig(suites=(Path("suite"),), out=Path("out"), trials=per_scenario, **config)
    built = build_report(run, list(trials), 1.0)
    decoded: dict[str, Any] = json.loads(json.dumps(built))
    return decoded


def pays(*, per_scenario: int = 1, **changes: Any) -> dict[str, Any]:
    """Two scenarios that pass every trial, with ``changes`` applied to scenario ``pay``."""
    trials = [
        trial("pay", n, **changes) if changes else trial("pay", n)
        for n in range(1, per_scenario + 1)
    ]
    trials += [trial("transfer", n, outcome="transferred") for n in range(1, per_scenario + 1)]
    return report(*trials, per_scenario=per_scenario)


def scenario(result: Any, name: str) -> Any:
    return next(s for s in result.scenarios if s.name == name)


def metric(result: Any, name: str) -> Any:
    return next(m for m in result.metrics if m.name == name)


# classify: direction and tolerance


@pytest.mark.parametrize(
    ("family", "base", "new", "verdict"),
    [
        ("pass_rate", 0.9, 0.8, "regression"),
        ("pass_rate", 0.8, 0.9, "improvement"),
        ("pass_rate", 0.9, 0.895, "unchanged"),
        ("containment_rate", 0.9, 0.7, "regression"),
        ("auth_false_accept_rate", 0.0, 0.1, "regression"),
        ("auth_false_reject_rate", 0.2, 0.0, "improvement"),
        ("leaks", 0, 1, "regression"),
        ("policy_violations", 2, 1, "improvement"),
        ("latency_p95_ms", 100.0, 130.0, "regression"),
        ("latency_p95_ms", 100.0, 115.0, "unchanged"),
        ("latency_p95_ms", 100.0, 70.0, "improvement"),
        ("latency_p50_ms", 0.0, 5.0, "regression"),
        ("cost_usd", 1.0, 1.2, "regression"),
        ("turns_mean", 10.0, 9.0, "improvement"),
        ("transfer_recall", 1.0, 0.5, "regression"),
        ("transfer_precision", None, 0.5, "not_comparable"),
    ],
)
def test_classify_knows_each_metrics_good_direction_and_noise(
    family: str, base: float | None, new: float | None, verdict: str
) -> None:
    assert classify(base, new, RULES[family], None) == verdict


def test_a_threshold_replaces_the_default_tolerance() -> None:
    rule = RULES["pass_rate"]
    allowed = Threshold.parse("pass_rate=0.02")
    assert classify(1.0, 0.98, rule, allowed) == "unchanged"
    assert classify(1.0, 0.97, rule, allowed) == "regression"
    assert classify(1.0, 0.995, rule, Threshold.parse("pass_rate=0")) == "regression"
    relative = Threshold.parse("latency_p95_ms=50%")
    assert classify(100.0, 140.0, RULES["latency_p95_ms"], relative) == "unchanged"


# Threshold parsing


@pytest.mark.parametrize(
    ("text", "metric", "limit", "relative"),
    [
        ("pass_rate=0.02", "pass_rate", 0.02, False),
        ("latency_p95_ms=25%", "latency_p95_ms", 0.25, True),
        ("leaks=0", "leaks", 0.0, False),
        ("scenario_regressions=2", SCENARIO_REGRESSIONS, 2.0, False),
        ("policy_violations=0", "policy_violations", 0.0, False),
        (" pass_hat_k[3] = 0.1 ", "pass_hat_k[3]", 0.1, False),
        ("transfer_recall[caller_request]=0.05", "transfer_recall[caller_request]", 0.05, False),
    ],
)
def test_threshold_parses_counts_drops_and_percentages(
    text: str, metric: str, limit: float, relative: bool
) -> None:
    threshold = Threshold.parse(text)
    assert (threshold.metric, threshold.limit, threshold.relative) == (metric, limit, relative)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("bogus=1", "unknown metric"),
        ("pass_rate", "NAME=VALUE"),
        ("pass_rate=-0.1", "NAME=VALUE"),
        ("pass_rate=1.2.3", "not a number"),
        ("leaks=10%", "count"),
        ("scenario_regressions=5%", "count"),
        ("leaks[x]=0", r"takes no \[key\]"),
    ],
)
def test_threshold_rejects_what_it_cannot_enforce(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Threshold.parse(text)


@given(
    name=st.sampled_from([*RULES, SCENARIO_REGRESSIONS]),
    hundredths=st.integers(min_value=0, max_value=100_000),
    percent=st.booleans(),
)
def test_threshold_text_round_trips(name: str, hundredths: int, percent: bool) -> None:
    level = name == SCENARIO_REGRESSIONS or RULES[name].level
    text = f"{name}={hundredths / 100:g}{'%' if percent and not level else ''}"
    threshold = Threshold.parse(text)
    assert Threshold.parse(str(threshold)) == threshold
    assert threshold.applies_to(name)


# Per scenario


def test_a_scenario_that_starts_failing_is_a_regression_naming_the_check() -> None:
    result = diff_reports(pays(), pays(failing=("outcome",), outcome="not_paid"))
    pay = scenario(result, "pay")
    assert pay.verdict == "regression"
    assert pay.newly_failing == ["outcome"]
    assert (pay.base_passed, pay.new_passed) == (1, 0)
    assert (pay.base_outcomes, pay.new_outcomes) == ({"paid": 1}, {"not_paid": 1})
    assert scenario(result, "transfer").verdict == "unchanged"
    assert result.failed
    assert "1 scenario(s) regressed (limit 0): pay" in result.reasons


def test_a_scenario_that_starts_passing_is_an_improvement() -> None:
    result = diff_reports(pays(failing=("paid",)), pays())
    pay = scenario(result, "pay")
    assert pay.verdict == "improvement"
    assert pay.newly_passing == ["paid"]
    assert metric(result, "pass_rate").verdict == "improvement"
    assert not result.failed


def test_a_different_failing_check_at_the_same_pass_rate_is_a_regression() -> None:
    result = diff_reports(pays(failing=("paid",)), pays(failing=("outcome",)))
    pay = scenario(result, "pay")
    assert (pay.verdict, pay.newly_failing, pay.newly_passing) == (
        "regression",
        ["outcome"],
        ["paid"],
    )


def test_pass_hat_k_and_partial_failures_are_compared_per_trial() -> None:
    base = pays(per_scenario=2)
    flaky = report(
        trial("pay", 1),
        trial("pay", 2, failing=("outcome",)),
        trial("transfer", 1, outcome="transferred"),
        trial("transfer", 2, outcome="transferred"),
        per_scenario=2,
    )
    pay = scenario(diff_reports(base, flaky), "pay")
    assert pay.verdict == "regression"
    assert (pay.new_passed, pay.new_trials) == (1, 2)
    assert pay.pass_hat_k == {"1": (1.0, 0.5), "2": (1.0, 0.0)}


def test_a_crashed_trial_fails_the_error_pseudo_check() -> None:
    pay = scenario(diff_reports(pays(), pays(status="error")), "pay")
    assert pay.verdict == "regression"
    assert ERROR_CHECK in pay.newly_failing


def test_new_leaks_are_named_without_line_numbers() -> None:
    base = pays(leaks=("expiry@file:events.jsonl:3",))
    moved = pays(leaks=("expiry@file:events.jsonl:9", "card_number@chat_history:1"))
    assert scenario(diff_reports(base, moved), "pay").new_leaks == ["card_number@chat_history"]


def test_added_and_removed_scenarios_are_listed_but_do_not_fail_the_gate() -> None:
    base = report(trial("pay"), trial("old"))
    new = report(trial("pay"), trial("fresh"))
    result = diff_reports(base, new)
    assert [(s.name, s.verdict) for s in result.scenarios] == [
        ("pay", "unchanged"),
        ("old", "removed"),
        ("fresh", "added"),
    ]
    assert (scenario(result, "fresh").new_passed, scenario(result, "old").base_passed) == (1, 1)
    assert not result.failed


# Summary metrics and the gate


def test_a_run_compared_with_itself_changes_nothing_and_passes() -> None:
    base = pays(per_scenario=2)
    result = diff_reports(base, base)
    assert {s.verdict for s in result.scenarios} == {"unchanged"}
    assert {m.verdict for m in result.metrics} <= {"unchanged", "not_comparable"}
    assert not result.failed
    assert result.reasons == []


def test_every_summary_metric_is_compared() -> None:
    names = {m.name for m in diff_reports(pays(), pays()).metrics}
    assert {
        "pass_rate",
        "pass_hat_k[1]",
        "task_success_rate",
        "containment_rate",
        "leaks",
        "errors",
        "policy_violations",
        "latency_p50_ms",
        "latency_p95_ms",
        "turns_mean",
        "handle_time_mean_s",
        "tokens_input",
        "tokens_output",
        "cost_usd",
        "auth_false_accept_rate",
        "auth_false_reject_rate",
    } <= names


def test_any_leak_in_new_fails_by_default_even_if_base_leaked_too() -> None:
    leaky = pays(leaks=("expiry@events",))
    result = diff_reports(leaky, leaky)
    assert result.failed
    assert result.reasons == ["leaks: 1 in NEW (limit 0)"]


def test_any_pass_rate_drop_fails_by_default_and_a_threshold_allows_it() -> None:
    base = report(*(trial("pay", n) for n in range(1, 5)), per_scenario=4)
    one_off = report(
        *(trial("pay", n) for n in range(1, 4)), trial("pay", 4, failing=("paid",)), per_scenario=4
    )
    assert diff_reports(base, one_off).failed
    loose = [Threshold.parse("pass_rate=0.25"), Threshold.parse("scenario_regressions=1")]
    result = diff_reports(base, one_off, loose)
    assert not result.failed
    assert metric(result, "pass_rate").verdict == "unchanged"
    assert "pass_rate=0.25" in result.thresholds


def test_scenario_regressions_caps_the_number_of_regressed_scenarios() -> None:
    base = report(trial("a"), trial("b"), trial("c"), trial("d"))
    worse = report(trial("a", failing=("outcome",)), trial("b", failing=("outcome",)), trial("c"))
    gate = [Threshold.parse("pass_rate=1"), Threshold.parse("scenario_regressions=1")]
    result = diff_reports(base, worse, gate)
    assert result.reasons == ["2 scenario(s) regressed (limit 1): a, b"]
    gate[1] = Threshold.parse("scenario_regressions=2")
    assert not diff_reports(base, worse, gate).failed


def test_latency_gate_is_relative_to_base() -> None:
    base = pays(turn_ms=(100.0, 100.0))
    slower = pays(turn_ms=(100.0, 150.0))
    ungated = diff_reports(base, slower)
    assert metric(ungated, "latency_p95_ms").verdict == "regression"
    assert not ungated.failed
    assert diff_reports(base, slower, [Threshold.parse("latency_p95_ms=25%")]).failed
    assert not diff_reports(base, slower, [Threshold.parse("latency_p95_ms=60%")]).failed


def test_policy_violations_gate_counts_violations_in_new() -> None:
    gate = [Threshold.parse("policy_violations=0"), Threshold.parse("scenario_regressions=9")]
    gate.append(Threshold.parse("pass_rate=1"))
    result = diff_reports(pays(), pays(policy_broken=True), gate)
    assert metric(result, "policy_violations").verdict == "regression"
    assert result.reasons == ["policy_violations: 1 in NEW (limit 0)"]


def test_usage_transfer_and_auth_metrics_have_their_directions() -> None:
    base = report(
        trial("pay", input_tokens=1000, output_tokens=100, handle_time_s=60.0),
        trial(
            "human",
            outcome="transferred",
            transfer_reason="caller_request",
            expected_outcome="transferred",
            expected_transfer_reason="caller_request",
            auth="verified",
            expected_auth="verified",
        ),
    )
    new = report(
        trial("pay", input_tokens=2000, output_tokens=50, handle_time_s=40.0),
        trial(
            "human",
            outcome="paid",
            expected_outcome="transferred",
            expected_transfer_reason="caller_request",
            auth="none",
            expected_auth="verified",
        ),
    )
    result = diff_reports(base, new, [Threshold.parse("scenario_regressions=9")])
    verdicts = {m.name: m.verdict for m in result.metrics}
    assert verdicts["tokens_input"] == "regression"
    assert verdicts["tokens_output"] == "improvement"
    assert verdicts["cost_usd"] == "regression"
    assert verdicts["handle_time_mean_s"] == "improvement"
    assert verdicts["transfer_recall[caller_request]"] == "regression"
    assert verdicts["transfer_precision[caller_request]"] == "not_comparable"
    assert verdicts["auth_false_reject_rate"] == "regression"
    assert verdicts["containment_rate"] == "improvement"
    assert not result.failed


def test_different_run_configs_are_noted() -> None:
    base = report(trial("pay"), per_scenario=1)
    new = report(trial("pay", 1), trial("pay", 2), per_scenario=2, llm="openai")
    result = diff_reports(base, new)
    assert result.notes == [
        "trials differs: 1 in BASE, 2 in NEW",
        "llm differs: offline in BASE, openai in NEW",
    ]
    assert metric(result, "pass_hat_k[2]").verdict == "not_comparable"


def test_a_file_that_is_not_a_report_is_refused() -> None:
    with pytest.raises(ReportError, match="NEW: not a voicepay-eval-report/1"):
        diff_reports(pays(), {"schema": "something-else"})


# The command


def write(tmp_path: Path, name: str, content: dict[str, Any]) -> Path:
    folder = tmp_path / name
    folder.mkdir()
    (folder / "report.json").write_text(json.dumps(content), "utf-8")
    return folder


def test_cli_exits_1_with_the_regression_and_0_when_nothing_changed(tmp_path: Path) -> None:
    base = write(tmp_path, "base", pays())
    new = write(tmp_path, "new", pays(failing=("paid",)))
    runner = CliRunner()
    failed = runner.invoke(app, ["eval", "diff", str(base), str(new)])
    assert failed.exit_code == 1
    assert "now failing: paid" in failed.output
    assert "gate failed" in failed.output
    same = runner.invoke(app, ["eval", "diff", str(base), str(base / "report.json")])
    assert same.exit_code == 0, same.output
    assert "gate passed" in same.output


def test_cli_json_prints_the_diff_result(tmp_path: Path) -> None:
    base = write(tmp_path, "base", pays())
    new = write(tmp_path, "new", pays(failing=("paid",)))
    result = CliRunner().invoke(app, ["eval", "diff", str(base), str(new), "--json"])
    assert result.exit_code == 1
    decoded = json.loads(result.stdout)
    assert decoded["failed"] is True
    assert decoded["scenarios"][0]["newly_failing"] == ["paid"]


def test_cli_fail_on_loosens_the_gate(tmp_path: Path) -> None:
    base = write(tmp_path, "base", pays())
    new = write(tmp_path, "new", pays(failing=("paid",)))
    loose = ["--fail-on", "pass_rate=1", "--fail-on", "scenario_regressions=1"]
    assert CliRunner().invoke(app, ["eval", "diff", str(base), str(new), *loose]).exit_code == 0


def test_cli_refuses_bad_thresholds_and_missing_reports(tmp_path: Path) -> None:
    base = write(tmp_path, "base", pays())
    runner = CliRunner()
    bad = runner.invoke(app, ["eval", "diff", str(base), str(base), "--fail-on", "leaks=5%"])
    assert bad.exit_code == 2
    empty = tmp_path / "empty"
    empty.mkdir()
    missing = runner.invoke(app, ["eval", "diff", str(base), str(empty)])
    assert missing.exit_code == 2
    assert "cannot compare" in missing.output


# End to end: a real suite run twice, the second time with an injected regression


def suite(folder: Path, *, broken: bool) -> Path:
    """Two demo scenarios; ``wrong-digits`` must end paid, and ``broken`` allows one card try."""
    folder.mkdir()
    shutil.copy(DEMO_DIR / "happy-path-fr.yaml", folder)
    wrong_digits = yaml.safe_load((DEMO_DIR / "wrong-digits.yaml").read_text("utf-8"))
    wrong_digits["expect"] = {"outcome": "paid"}
    if broken:
        wrong_digits["settings"] = {"capture": {"max_attempts": 1}}
    (folder / "wrong-digits.yaml").write_text(yaml.safe_dump(wrong_digits), "utf-8")
    return folder


def run(tmp_path: Path, name: str, *, broken: bool) -> Path:
    out = tmp_path / f"{name}-run"
    config = RunConfig(suites=(suite(tmp_path / name, broken=broken),), out=out, jobs=1)
    write_report(run_suites(config), out)
    return out


@pytest.mark.slow
def test_eval_diff_flags_an_injected_regression(tmp_path: Path) -> None:
    base = run(tmp_path, "base", broken=False)
    new = run(tmp_path, "new", broken=True)
    runner = CliRunner()

    regressed = runner.invoke(app, ["eval", "diff", str(base), str(new), "--json"])
    assert regressed.exit_code == 1, regressed.output
    decoded = json.loads(regressed.stdout)
    verdicts = {s["name"]: s for s in decoded["scenarios"]}
    assert verdicts["wrong-digits"]["verdict"] == "regression"
    assert "outcome" in verdicts["wrong-digits"]["newly_failing"]
    assert verdicts["happy-path-fr"]["verdict"] == "unchanged"

    table = runner.invoke(app, ["eval", "diff", str(base), str(new)])
    assert table.exit_code == 1
    assert "wrong-digits" in table.output
    assert "now failing: outcome" in table.output

    same = runner.invoke(app, ["eval", "diff", str(base), str(base)])
    assert same.exit_code == 0, same.output
    assert "gate passed" in same.output
