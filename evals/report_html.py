"""Renders an eval report as one self-contained HTML page: summary, charts, scenarios, transcripts.

The page has no scripts and loads nothing: styles are inline and the charts are SVG drawn here, so
``report.html`` can be mailed or attached to a ticket and still open anywhere.
"""

from __future__ import annotations

import math
from html import escape
from pathlib import Path
from typing import Any

from evals._report_style import STYLE
from evals._report_trials import safe, trial_anchor, trial_block, trial_status
from evals._svg_charts import Bar, bar_chart, confusion_matrix

_OUTCOME_ORDER = ("paid", "not_paid", "transferred", "caller_hung_up", "abandoned", "error")
_OUTCOME_FILL = {
    "paid": "#2a9d5c",
    "not_paid": "#d08a1e",
    "transferred": "#3b6fb6",
    "caller_hung_up": "#8a63c9",
    "abandoned": "#8c959f",
    "error": "#cf222e",
}


def _pct(value: float) -> str:
    return f"{value * 100:.1f}".removesuffix(".0") + "%"


def _ms(value: float) -> str:
    return f"{value:.0f}" if value >= 10 else f"{value:.1f}"


def _tile(label: str, value: str, note: str = "", bad: bool = False) -> str:
    css = "tile bad" if bad else "tile"
    extra = f'<div class="note">{escape(note)}</div>' if note else ""
    return (
        f'<div class="{css}"><div class="tile-label">{escape(label)}</div>'
        f'<div class="tile-value">{escape(value)}</div>{extra}</div>'
    )


def _header(report: dict[str, Any]) -> str:
    config = report.get("config", {})
    suites = ", ".join(str(s) for s in config.get("suites", [])) or "—"
    items = [
        ("suites", suites),
        ("trials per scenario", config.get("trials")),
        ("LLM", config.get("llm")),
        ("jobs", config.get("jobs")),
        ("seed", config.get("seed")),
        ("schema", report.get("schema")),
    ]
    meta = "".join(f"<div><dt>{escape(k)}</dt><dd>{safe(v)}</dd></div>" for k, v in items)
    return f'<header><h1>VoicePay eval report</h1><dl class="config">{meta}</dl></header>'


def _summary(summary: dict[str, Any]) -> str:
    pass_hat = summary.get("pass_hat_k", {})
    top_k = max(pass_hat, key=int) if pass_hat else None
    tokens = summary.get("tokens", {})
    latency = summary.get("latency_ms", {})
    handle = summary.get("handle_time_s", {})
    auth = summary.get("auth", {})
    leaks = int(summary.get("leaks", 0))
    errors = int(summary.get("errors", 0))
    violations = int(summary.get("policy_violations", 0))
    passed, trials = summary.get("passed", 0), summary.get("trials", 0)
    leak_note = f"in {summary.get('trials_with_leaks', 0)} trials" if leaks else "none found"
    pass_k = (f"pass^{top_k}", _pct(pass_hat[top_k])) if top_k else ("pass^k", "—")
    side = sum(
        int(tokens.get(key, 0))
        for key in ("judge_input", "judge_output", "caller_input", "caller_output")
    )
    cost = f"agent in / out · +{side:,} judge & caller · ${summary.get('cost_usd', 0.0):.4f}"
    tiles = [
        _tile(
            "pass rate",
            _pct(summary.get("pass_rate", 0.0)),
            f"{passed} of {trials} trials",
            bad=passed < trials,
        ),
        _tile(*pass_k, f"all {top_k} trials of a scenario pass" if top_k else ""),
        _tile("task success", _pct(summary.get("task_success_rate", 0.0))),
        _tile("card data leaks", str(leaks), leak_note, bad=leaks > 0),
        _tile("containment", _pct(summary.get("containment_rate", 0.0)), "calls not transferred"),
        _tile("policy violations", str(violations), bad=violations > 0),
        _tile("errors", str(errors), "trials that did not complete", bad=errors > 0),
        _tile("tokens", f"{tokens.get('input', 0):,} / {tokens.get('output', 0):,}", cost),
        _tile(
            "latency p50 / p95 (ms)",
            f"{_ms(latency.get('p50', 0))} / {_ms(latency.get('p95', 0))}",
            f"mean {_ms(latency.get('mean', 0))} ms · max {_ms(latency.get('max', 0))} ms",
        ),
        _tile("handle time", f"{handle.get('mean', 0)} s", f"mean · p95 {handle.get('p95', 0)} s"),
        _tile(
            "false accept / reject",
            f"{_pct(auth.get('false_accept_rate', 0.0))} / "
            f"{_pct(auth.get('false_reject_rate', 0.0))}",
            f"{auth.get('trials', 0)} judged",
        ),
        _tile(
            "duration",
            f"{summary.get('duration_s', 0)} s",
            f"{summary.get('scenarios', 0)} scenarios",
        ),
    ]
    return (
        '<section aria-labelledby="summary-h"><h2 id="summary-h">Summary</h2>'
        f'<div class="tiles">{"".join(tiles)}</div></section>'
    )


def _short_ms(value: float) -> str:
    return f"{value / 1000:g}k" if value >= 1000 else f"{value:g}"


def _bin_label(upper: float, previous: float | None) -> str:
    if math.isinf(upper):
        return f">{_short_ms(previous)}" if previous is not None else "all"
    return f"≤{_short_ms(upper)}"


def _figure(chart: str, caption: str) -> str:
    return f"<figure>{chart}<figcaption>{caption}</figcaption></figure>"


def _transfer_table(by_reason: dict[str, dict[str, Any]]) -> str:
    if not by_reason:
        return '<p class="muted">No transfer reasons were expected or seen.</p>'

    def cell(value: float | None) -> str:
        return "—" if value is None else _pct(value)

    rows = "".join(
        f'<tr><th scope="row">{safe(reason)}</th><td>{safe(s.get("predicted", 0))}</td>'
        f"<td>{safe(s.get('support', 0))}</td><td>{cell(s.get('precision'))}</td>"
        f"<td>{cell(s.get('recall'))}</td></tr>"
        for reason, s in by_reason.items()
    )
    return (
        '<table class="data"><caption>Transfer precision and recall by reason</caption>'
        '<thead><tr><th scope="col">reason</th><th scope="col">transferred for it</th>'
        '<th scope="col">expected</th><th scope="col">precision</th>'
        f'<th scope="col">recall</th></tr></thead><tbody>{rows}</tbody></table>'
    )


def _charts(summary: dict[str, Any]) -> str:
    outcomes: dict[str, int] = summary.get("outcomes", {})
    ordered = sorted(outcomes, key=lambda o: (_OUTCOME_ORDER + (o,)).index(o))
    outcome_chart = bar_chart(
        "Outcomes",
        [Bar(o, outcomes[o], _OUTCOME_FILL.get(o, "#8c959f")) for o in ordered],
        y_title="trials",
    )
    pass_hat = summary.get("pass_hat_k", {})
    pass_chart = bar_chart(
        "pass^k by k",
        [Bar(f"k={k}", v, "#6f42c1") for k, v in sorted(pass_hat.items(), key=lambda i: int(i[0]))],
        y_max=1.0,
        fmt=_pct,
        x_title="k (trials that must all pass)",
    )
    latency = summary.get("latency_ms", {})
    bins = latency.get("histogram", [])
    edges = [math.inf if b["le_ms"] is None else float(b["le_ms"]) for b in bins]
    latency_chart = bar_chart(
        "Per-turn latency histogram",
        [
            Bar(_bin_label(edge, edges[i - 1] if i else None), b["count"], "#1f8a9e")
            for i, (edge, b) in enumerate(zip(edges, bins, strict=True))
        ],
        gap=0.08,
        x_title="agent turn latency (ms)",
        y_title="turns",
    )
    transfers = summary.get("transfers", {})
    matrix = confusion_matrix(
        "Transfer confusion matrix",
        transfers.get("confusion", {}),
        "No trial had an expected outcome to compare against.",
    )
    stats = " · ".join(f"{k} {_ms(latency.get(k, 0))} ms" for k in ("mean", "p50", "p95", "max"))
    none = "“none” means no transfer"
    figures = [
        _figure(outcome_chart, "How the calls ended (errors are trials that did not complete)."),
        _figure(pass_chart, "pass^k: the chance that k trials of a scenario all pass."),
        _figure(latency_chart, f"Time the agent took per turn: {escape(stats)}."),
        _figure(matrix, f"Transfer reason expected (rows) against actual (columns); {none}."),
    ]
    return (
        '<section aria-labelledby="charts-h"><h2 id="charts-h">Charts</h2>'
        f'<div class="charts">{"".join(figures)}</div>'
        f"{_transfer_table(transfers.get('by_reason', {}))}</section>"
    )


def _pct_columns(max_k: int) -> list[int]:
    """Which pass^k columns the scenario table shows: every k for a few trials, else a sample."""
    if max_k <= 5:
        return list(range(1, max_k + 1))
    return sorted({1, 2, math.ceil(max_k / 2), max_k})


def _failing_checks(results: list[dict[str, Any]]) -> str:
    counts: dict[str, int] = {}
    for trial in results:
        if trial.get("status") == "error":
            counts["trial error"] = counts.get("trial error", 0) + 1
        for check in trial.get("checks") or []:
            if not check.get("passed"):
                counts[check.get("name", "")] = counts.get(check.get("name", ""), 0) + 1
    if not counts:
        return '<span class="muted">—</span>'
    return "<br>".join(f"{safe(name)} ({n}/{len(results)})" for name, n in counts.items())


def _scenarios(scenarios: list[dict[str, Any]], max_k: int) -> str:
    ks = _pct_columns(max_k)
    head = "".join(f'<th scope="col">pass^{k}</th>' for k in ks)
    rows = []
    for scenario in scenarios:
        results = scenario.get("results", [])
        pass_hat = scenario.get("pass_hat_k", {})
        cells = "".join(
            f"<td>{_pct(pass_hat[str(k)]) if str(k) in pass_hat else '—'}</td>" for k in ks
        )
        marks = "".join(
            f'<a href="#{escape(trial_anchor(t))}" class="dot {trial_status(t)[1]}" '
            f'title="trial {safe(t.get("trial"))}: {trial_status(t)[0]}">'
            f"{trial_status(t)[0][0]}</a>"
            for t in results
        )
        ok = scenario.get("passed", 0) == scenario.get("trials", 0)
        rows.append(
            f'<tr class="{"" if ok else "row-bad"}"><th scope="row">{safe(scenario.get("name"))}'
            f'<div class="muted small">{safe(scenario.get("file", ""))}</div></th>'
            f"<td>{safe(scenario.get('trials', 0))}</td><td>{safe(scenario.get('passed', 0))}</td>"
            f'{cells}<td class="marks">{marks}</td><td>{_failing_checks(results)}</td></tr>'
        )
    return (
        '<section aria-labelledby="scenarios-h"><h2 id="scenarios-h">Scenarios</h2>'
        '<table class="data"><thead><tr><th scope="col">scenario</th><th scope="col">trials</th>'
        f'<th scope="col">passed</th>{head}<th scope="col">each trial</th>'
        f'<th scope="col">failing checks</th></tr></thead><tbody>{"".join(rows)}</tbody></table>'
        "</section>"
    )


def _transcripts(scenarios: list[dict[str, Any]], out: Path) -> str:
    groups = "".join(
        f"<h3>{safe(s.get('name'))}</h3>"
        + "".join(trial_block(t, out) for t in s.get("results", []))
        for s in scenarios
    )
    return (
        '<section aria-labelledby="transcripts-h"><h2 id="transcripts-h">Trials and transcripts'
        '</h2><p class="muted">Keypad entries are shown masked; card data spoken aloud was removed '
        f"before anything was written.</p>{groups}</section>"
    )


def render_html(report: dict[str, Any], out: Path) -> str:
    """Render ``report`` as a self-contained HTML page.

    Args:
        report: the report built by :func:`evals.runner.build_report` (or read from its JSON).
        out: the run folder; trial transcripts are looked up there when their recorded folder is
            gone.

    Returns:
        The whole page.
    """
    summary = report.get("summary", {})
    scenarios = report.get("scenarios", [])
    max_k = max((int(k) for k in summary.get("pass_hat_k", {})), default=1)
    title = f"VoicePay eval report · {summary.get('passed', 0)}/{summary.get('trials', 0)} passed"
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(title)}</title><style>{STYLE}</style></head><body>"
        f"{_header(report)}<main>{_summary(summary)}{_charts(summary)}"
        f"{_scenarios(scenarios, max_k)}{_transcripts(scenarios, out)}</main></body></html>\n"
    )
