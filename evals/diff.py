"""Compares two eval reports: what regressed, what improved, and whether the CI gate holds.

Scenarios are matched by name; summary metrics by the names in :data:`RULES`, each with its good
direction and a tolerance that absorbs noise (absolute for rates, relative for timings and usage).
A :class:`Threshold` from ``--fail-on`` either caps the change a metric may worsen by
(``pass_rate=0.02``, ``latency_p95_ms=25%``) or, for harm counts, caps NEW's value (``leaks=0``).
"""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

READS_SCHEMA = "voicepay-eval-report/1"
"""The report format this module understands (written by ``evals.runner``)."""

Verdict = Literal["regression", "improvement", "unchanged", "not_comparable"]
ScenarioVerdict = Literal["regression", "improvement", "unchanged", "added", "removed"]
ERROR_CHECK = "runs without error"
"""The pseudo-check a crashed trial fails (it has no real checks)."""
_EPSILON = 1e-9


@dataclass(frozen=True, slots=True)
class Rule:
    """How a metric is judged: its good direction, its noise tolerance, and how limits apply."""

    higher_is_better: bool
    tolerance: float
    relative: bool = False
    level: bool = False
    """A threshold caps NEW's value (harm counts) instead of the change from BASE."""


_RATE = Rule(higher_is_better=True, tolerance=0.01)
_BAD_RATE = Rule(higher_is_better=False, tolerance=0.01)
_HARM = Rule(higher_is_better=False, tolerance=0.0, level=True)
RULES: dict[str, Rule] = {
    "pass_rate": _RATE,
    "pass_hat_k": _RATE,
    "task_success_rate": _RATE,
    "containment_rate": _RATE,
    "leaks": _HARM,
    "errors": _HARM,
    "policy_violations": _HARM,
    "latency_p50_ms": Rule(higher_is_better=False, tolerance=0.2, relative=True),
    "latency_p95_ms": Rule(higher_is_better=False, tolerance=0.2, relative=True),
    "turns_mean": Rule(higher_is_better=False, tolerance=0.05, relative=True),
    "handle_time_mean_s": Rule(higher_is_better=False, tolerance=0.05, relative=True),
    "tokens_input": Rule(higher_is_better=False, tolerance=0.1, relative=True),
    "tokens_output": Rule(higher_is_better=False, tolerance=0.1, relative=True),
    "cost_usd": Rule(higher_is_better=False, tolerance=0.1, relative=True),
    "transfer_precision": _RATE,
    "transfer_recall": _RATE,
    "auth_false_accept_rate": _BAD_RATE,
    "auth_false_reject_rate": _BAD_RATE,
}
"""Every compared metric by family name; ``pass_hat_k`` and ``transfer_*`` take ``[key]``."""
KEYED = ("pass_hat_k", "transfer_precision", "transfer_recall")
SCENARIO_REGRESSIONS = "scenario_regressions"


class Threshold(BaseModel):
    """A ``--fail-on`` limit: ``NAME=VALUE`` or ``NAME=VALUE%`` (relative to BASE's value)."""

    model_config = ConfigDict(frozen=True)

    metric: str
    limit: float
    relative: bool = False

    @classmethod
    def parse(cls, text: str) -> Threshold:
        """Parse ``pass_rate=0.02``, ``latency_p95_ms=25%``, ``leaks=0``...; ValueError if bad."""
        match = re.fullmatch(r"\s*([a-z0-9_]+(?:\[[^\]]+\])?)\s*=\s*([0-9.]+|inf)(%?)\s*", text)
        if match is None:
            raise ValueError(f"expected NAME=VALUE or NAME=VALUE%, got {text!r}")
        metric, value, percent = match.groups()
        family = metric.split("[", 1)[0]
        if family != SCENARIO_REGRESSIONS and family not in RULES:
            known = ", ".join([*RULES, SCENARIO_REGRESSIONS])
            raise ValueError(f"unknown metric {family!r}; known: {known}")
        if family != metric and family not in KEYED:
            raise ValueError(f"{family} takes no [key]; only {', '.join(KEYED)} do")
        level = family == SCENARIO_REGRESSIONS or RULES[family].level
        if percent and level:
            raise ValueError(f"{family} takes a count, not a percentage")
        try:
            limit = float(value)
        except ValueError:
            raise ValueError(f"{value!r} is not a number") from None
        return cls(metric=metric, limit=limit / 100 if percent else limit, relative=bool(percent))

    def applies_to(self, metric: str) -> bool:
        """Whether this limit covers ``metric`` (a family name covers all its keys)."""
        return self.metric in (metric, metric.split("[", 1)[0])

    def __str__(self) -> str:
        value = f"{self.limit * 100:g}%" if self.relative else f"{self.limit:g}"
        return f"{self.metric}={value}"


DEFAULT_THRESHOLDS = (
    Threshold(metric="leaks", limit=0),
    Threshold(metric=SCENARIO_REGRESSIONS, limit=0),
    Threshold(metric="pass_rate", limit=0),
)
"""The gate without ``--fail-on``: no leak in NEW, no regressed scenario, no drop in pass rate."""


class MetricDiff(BaseModel):
    """One summary metric in BASE and NEW."""

    name: str
    base: float | None
    new: float | None
    verdict: Verdict


class ScenarioDiff(BaseModel):
    """One scenario in BASE and NEW (``None`` on the side it is missing from)."""

    name: str
    verdict: ScenarioVerdict
    base_passed: int | None = None
    base_trials: int | None = None
    new_passed: int | None = None
    new_trials: int | None = None
    pass_hat_k: dict[str, tuple[float | None, float | None]] = {}
    newly_failing: list[str] = []
    newly_passing: list[str] = []
    base_outcomes: dict[str, int] = {}
    new_outcomes: dict[str, int] = {}
    new_leaks: list[str] = []


class DiffResult(BaseModel):
    """Everything that changed between two runs, and the gate's decision."""

    scenarios: list[ScenarioDiff]
    metrics: list[MetricDiff]
    thresholds: list[str]
    failed: bool
    reasons: list[str]
    notes: list[str] = []


def summary_metrics(summary: dict[str, Any]) -> dict[str, float | None]:
    """The compared metrics of a report's ``summary``, by name."""
    values: dict[str, float | None] = {
        "pass_rate": summary["pass_rate"],
        **{f"pass_hat_k[{k}]": v for k, v in summary["pass_hat_k"].items()},
        "task_success_rate": summary["task_success_rate"],
        "containment_rate": summary["containment_rate"],
        "leaks": summary["leaks"],
        "errors": summary["errors"],
        "policy_violations": summary["policy_violations"],
        "latency_p50_ms": summary["latency_ms"]["p50"],
        "latency_p95_ms": summary["latency_ms"]["p95"],
        "turns_mean": summary["turns"]["mean"],
        "handle_time_mean_s": summary["handle_time_s"]["mean"],
        "tokens_input": summary["tokens"]["input"],
        "tokens_output": summary["tokens"]["output"],
        "cost_usd": summary["cost_usd"],
    }
    for reason, stats in summary["transfers"]["by_reason"].items():
        values[f"transfer_precision[{reason}]"] = stats["precision"]
        values[f"transfer_recall[{reason}]"] = stats["recall"]
    values["auth_false_accept_rate"] = summary["auth"]["false_accept_rate"]
    values["auth_false_reject_rate"] = summary["auth"]["false_reject_rate"]
    return values


def classify(base: float | None, new: float | None, rule: Rule, limit: Threshold | None) -> Verdict:
    """Regression, improvement or unchanged, within the limit's tolerance or else the rule's."""
    if base is None or new is None:
        return "not_comparable"
    gain = new - base if rule.higher_is_better else base - new
    tolerance, relative = rule.tolerance, rule.relative
    if limit is not None and not rule.level:
        tolerance, relative = limit.limit, limit.relative
    size = abs(gain)
    if relative:
        size = size / abs(base) if base else (math.inf if gain else 0.0)
    if size <= tolerance + _EPSILON:
        return "unchanged"
    return "improvement" if gain > 0 else "regression"


def _failures(trial: dict[str, Any]) -> set[str]:
    if trial["status"] == "error":
        return {ERROR_CHECK}
    return {c["name"] for c in trial["checks"] if not c["passed"]}


def _failure_rates(trials: list[dict[str, Any]]) -> dict[str, float]:
    counts = Counter(name for trial in trials for name in _failures(trial))
    return {name: count / len(trials) for name, count in counts.items()}


def _leak_places(trials: list[dict[str, Any]]) -> set[str]:
    # Line numbers move between runs; the same leak at another line is not a new one.
    return {re.sub(r":\d+$", "", leak) for trial in trials for leak in trial["leaks"]}


def _outcomes(trials: list[dict[str, Any]]) -> dict[str, int]:
    return dict(Counter(t["outcome"] or t["status"] for t in trials))


def diff_scenario(base: dict[str, Any] | None, new: dict[str, Any] | None) -> ScenarioDiff:
    """Compare one scenario's entry in two reports (either may be missing)."""
    if new is None:
        if base is None:
            raise ValueError("a scenario must be in at least one report")
        return ScenarioDiff(
            name=base["name"],
            verdict="removed",
            base_passed=base["passed"],
            base_trials=base["trials"],
        )
    if base is None:
        return ScenarioDiff(
            name=new["name"], verdict="added", new_passed=new["passed"], new_trials=new["trials"]
        )
    base_fail, new_fail = _failure_rates(base["results"]), _failure_rates(new["results"])
    checks = base_fail.keys() | new_fail.keys()
    failing = sorted(c for c in checks if new_fail.get(c, 0) > base_fail.get(c, 0) + _EPSILON)
    passing = sorted(c for c in checks if base_fail.get(c, 0) > new_fail.get(c, 0) + _EPSILON)
    leaks = sorted(_leak_places(new["results"]) - _leak_places(base["results"]))
    gain = new["passed"] / new["trials"] - base["passed"] / base["trials"]
    verdict: ScenarioVerdict = "unchanged"
    if gain < -_EPSILON or failing or leaks:
        verdict = "regression"
    elif gain > _EPSILON or passing:
        verdict = "improvement"
    keys = sorted(base["pass_hat_k"].keys() | new["pass_hat_k"].keys(), key=int)
    return ScenarioDiff(
        name=new["name"],
        verdict=verdict,
        base_passed=base["passed"],
        base_trials=base["trials"],
        new_passed=new["passed"],
        new_trials=new["trials"],
        pass_hat_k={k: (base["pass_hat_k"].get(k), new["pass_hat_k"].get(k)) for k in keys},
        newly_failing=failing,
        newly_passing=passing,
        base_outcomes=_outcomes(base["results"]),
        new_outcomes=_outcomes(new["results"]),
        new_leaks=leaks,
    )


def _limit_for(metric: str, thresholds: list[Threshold]) -> Threshold | None:
    return next((t for t in reversed(thresholds) if t.applies_to(metric)), None)


def _breach(metric: MetricDiff, rule: Rule, limit: Threshold) -> str | None:
    if rule.level:
        if metric.new is not None and metric.new > limit.limit:
            return f"{metric.name}: {metric.new:g} in NEW (limit {limit.limit:g})"
        return None
    if metric.verdict == "regression":
        return f"{metric.name}: {metric.base:g} -> {metric.new:g} (allowed: {limit})"
    return None


class ReportError(ValueError):
    """A file that is not a report this module can read."""


def check_report(report: Any, label: str) -> None:
    """Raise :class:`ReportError` unless ``report`` is a report in the format read here."""
    if not isinstance(report, dict) or report.get("schema") != READS_SCHEMA:
        found = report.get("schema") if isinstance(report, dict) else type(report).__name__
        raise ReportError(f"{label}: not a {READS_SCHEMA} report (schema {found!r})")


def _notes(base: dict[str, Any], new: dict[str, Any]) -> list[str]:
    return [
        f"{key} differs: {base['config'].get(key)} in BASE, {new['config'].get(key)} in NEW"
        for key in ("trials", "llm")
        if base["config"].get(key) != new["config"].get(key)
    ]


def diff_reports(
    base: dict[str, Any], new: dict[str, Any], thresholds: list[Threshold] | None = None
) -> DiffResult:
    """Compare two reports (BASE first) and decide the gate.

    Args:
        base: the reference report, as written by ``voicepay eval run``.
        new: the report under test.
        thresholds: ``--fail-on`` limits; they replace the defaults of the same name.
    """
    check_report(base, "BASE")
    check_report(new, "NEW")
    given = thresholds or []
    gates = [*(t for t in DEFAULT_THRESHOLDS if t.metric not in {g.metric for g in given}), *given]
    base_by_name = {s["name"]: s for s in base["scenarios"]}
    new_by_name = {s["name"]: s for s in new["scenarios"]}
    names = [*base_by_name, *(n for n in new_by_name if n not in base_by_name)]
    scenarios = [diff_scenario(base_by_name.get(n), new_by_name.get(n)) for n in names]
    base_values = summary_metrics(base["summary"])
    new_values = summary_metrics(new["summary"])
    reasons: list[str] = []
    metrics: list[MetricDiff] = []
    for name in [*base_values, *(n for n in new_values if n not in base_values)]:
        rule, limit = RULES[name.split("[", 1)[0]], _limit_for(name, gates)
        before, after = base_values.get(name), new_values.get(name)
        metric = MetricDiff(
            name=name, base=before, new=after, verdict=classify(before, after, rule, limit)
        )
        metrics.append(metric)
        breach = _breach(metric, rule, limit) if limit is not None else None
        if breach is not None:
            reasons.append(breach)
    regressed = [s.name for s in scenarios if s.verdict == "regression"]
    cap = _limit_for(SCENARIO_REGRESSIONS, gates)
    if cap is not None and len(regressed) > cap.limit:
        reasons.append(
            f"{len(regressed)} scenario(s) regressed (limit {cap.limit:g}): {', '.join(regressed)}"
        )
    return DiffResult(
        scenarios=scenarios,
        metrics=metrics,
        thresholds=[str(t) for t in gates],
        failed=bool(reasons),
        reasons=reasons,
        notes=_notes(base, new),
    )
