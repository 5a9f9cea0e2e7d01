"""Suite metrics over trial results: pass^k, containment, transfers, authentication, latency."""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from math import comb
from typing import Any

from evals.trial import TrialResult

LATENCY_BINS_MS = (5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000)
PRICE_PER_MTOK = {"input": 0.40, "output": 1.60}
"""USD per million tokens for the default model (gpt-4.1-mini); offline runs cost nothing."""
_TOKEN_FIELDS = {
    "input": "input_tokens",
    "output": "output_tokens",
    "judge_input": "judge_input_tokens",
    "judge_output": "judge_output_tokens",
    "caller_input": "caller_input_tokens",
    "caller_output": "caller_output_tokens",
}
"""Summary ``tokens`` keys: the agent's model, the LLM judges' and the simulated caller's."""


def pass_hat_k(successes: int, trials: int, k: int) -> float:
    """tau-bench's unbiased estimate that k independent trials all succeed: C(c,k) / C(n,k)."""
    if k > trials:
        raise ValueError("k exceeds the number of trials")
    return comb(successes, k) / comb(trials, k)


def _percentile(values: Sequence[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))
    return round(ordered[index], 2)


def _stats(values: Sequence[float]) -> dict[str, float]:
    return {
        "mean": round(statistics.fmean(values), 2) if values else 0.0,
        "p50": _percentile(values, 0.5),
        "p95": _percentile(values, 0.95),
        "max": round(max(values), 2) if values else 0.0,
    }


def _histogram(values: Iterable[float]) -> list[dict[str, float | None]]:
    """Counts per latency bin; the last bin (``le_ms`` null) holds everything slower."""
    counts = Counter(
        next((edge for edge in LATENCY_BINS_MS if v <= edge), float("inf")) for v in values
    )
    bins: list[dict[str, float | None]] = [
        {"le_ms": edge, "count": counts.get(edge, 0)} for edge in LATENCY_BINS_MS
    ]
    bins.append({"le_ms": None, "count": counts.get(float("inf"), 0)})
    return bins


def _transfers(results: Sequence[TrialResult]) -> dict[str, Any]:
    reasons = sorted(
        {r.transfer_reason for r in results if r.transfer_reason}
        | {r.expected_transfer_reason for r in results if r.expected_transfer_reason}
    )
    judged = [r for r in results if r.status == "ok" and r.expected_outcome is not None]
    confusion: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for r in judged:
        expected = r.expected_transfer_reason or "none"
        actual = r.transfer_reason or "none"
        confusion[expected][actual] += 1
    by_reason: dict[str, dict[str, Any]] = {}
    for reason in reasons:
        predicted = sum(1 for r in judged if r.transfer_reason == reason)
        support = sum(1 for r in judged if r.expected_transfer_reason == reason)
        hits = sum(1 for r in judged if r.transfer_reason == reason == r.expected_transfer_reason)
        by_reason[reason] = {
            "precision": round(hits / predicted, 4) if predicted else None,
            "recall": round(hits / support, 4) if support else None,
            "predicted": predicted,
            "support": support,
        }
    return {
        "by_reason": by_reason,
        "confusion": {k: dict(v) for k, v in confusion.items()},
    }


def _auth(results: Sequence[TrialResult]) -> dict[str, Any]:
    judged = [r for r in results if r.status == "ok" and r.expected_auth is not None]
    impostors = [r for r in judged if r.expected_auth != "verified"]
    genuine = [r for r in judged if r.expected_auth == "verified"]
    false_accepts = sum(1 for r in impostors if r.auth == "verified")
    false_rejects = sum(1 for r in genuine if r.auth != "verified")
    return {
        "trials": len(judged),
        "false_accepts": false_accepts,
        "false_rejects": false_rejects,
        "false_accept_rate": round(false_accepts / len(impostors), 4) if impostors else 0.0,
        "false_reject_rate": round(false_rejects / len(genuine), 4) if genuine else 0.0,
    }


def per_scenario_pass_hat_k(results: Sequence[TrialResult], max_k: int) -> dict[str, float]:
    """pass^k for k = 1..max_k over one scenario's trials."""
    successes = sum(1 for r in results if r.passed)
    return {str(k): round(pass_hat_k(successes, len(results), k), 4) for k in range(1, max_k + 1)}


def summarise(
    results: Sequence[TrialResult], trials_per_scenario: int, duration_s: float
) -> dict[str, Any]:
    """The report's ``summary``."""
    by_scenario: dict[str, list[TrialResult]] = defaultdict(list)
    for result in results:
        by_scenario[result.scenario].append(result)
    pass_hat = (
        {
            str(k): round(
                statistics.fmean(
                    pass_hat_k(sum(r.passed for r in rs), len(rs), k) for rs in by_scenario.values()
                ),
                4,
            )
            for k in range(1, trials_per_scenario + 1)
        }
        if by_scenario
        else {}
    )
    ok = [r for r in results if r.status == "ok"]
    latencies = [ms for r in ok for ms in r.turn_ms]
    tokens = {key: sum(getattr(r, name) for r in results) for key, name in _TOKEN_FIELDS.items()}
    input_tokens = sum(v for k, v in tokens.items() if k.endswith("input"))
    output_tokens = sum(v for k, v in tokens.items() if k.endswith("output"))
    passed = sum(1 for r in results if r.passed)
    return {
        "scenarios": len(by_scenario),
        "trials": len(results),
        "passed": passed,
        "pass_rate": round(passed / len(results), 4) if results else 0.0,
        "pass_hat_k": pass_hat,
        "task_success_rate": round(sum(r.task_success for r in results) / len(results), 4)
        if results
        else 0.0,
        "leaks": sum(len(r.leaks) for r in results),
        "trials_with_leaks": sum(1 for r in results if r.leaks),
        "errors": sum(1 for r in results if r.status == "error"),
        "containment_rate": round(sum(r.outcome != "transferred" for r in ok) / len(ok), 4)
        if ok
        else 0.0,
        "outcomes": dict(Counter(r.outcome or r.status for r in results)),
        "transfers": _transfers(results),
        "auth": _auth(results),
        "turns": _stats([float(r.turns) for r in ok]),
        "handle_time_s": _stats([r.handle_time_s for r in ok]),
        "tokens": tokens,
        "cost_usd": round(
            (input_tokens * PRICE_PER_MTOK["input"] + output_tokens * PRICE_PER_MTOK["output"])
            / 1e6,
            4,
        ),
        "latency_ms": {**_stats(latencies), "histogram": _histogram(latencies)},
        "policy_violations": sum(r.policy_violations for r in results),
        "duration_s": round(duration_s, 2),
    }
