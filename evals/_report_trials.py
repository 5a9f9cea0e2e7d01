"""The per-trial part of the HTML report: a collapsible block with facts, checks and transcript.

Transcripts are read from each trial's artefact folder. They were masked when written; every line
goes through :func:`mask_card_numbers` once more here, since the report is a file people share.
"""

from __future__ import annotations

import json
from html import escape
from pathlib import Path
from typing import Any

from agent.artefacts import TRANSCRIPT_FILE
from payment_tools.redaction import mask_card_numbers


def safe(value: object) -> str:
    """``value`` as HTML text: card-number runs masked, then escaped."""
    return escape(mask_card_numbers(str(value)))


def trial_status(trial: dict[str, Any]) -> tuple[str, str]:
    """The trial's badge text and CSS class: pass, fail or error."""
    if trial.get("status") == "error":
        return "ERROR", "error"
    return ("PASS", "pass") if trial.get("passed") else ("FAIL", "fail")


def _transcript_path(trial: dict[str, Any], out: Path) -> Path | None:
    """Where the trial's transcript is: its recorded folder, else its place under ``out``."""
    candidates = []
    if trial.get("artefacts"):
        candidates.append(Path(trial["artefacts"]) / TRANSCRIPT_FILE)
    folder = out / "scenarios" / str(trial.get("scenario")) / f"trial-{trial.get('trial')}"
    candidates.append(folder / TRANSCRIPT_FILE)
    return next((path for path in candidates if path.is_file()), None)


def _when(at_ms: object) -> str:
    if not isinstance(at_ms, int | float):
        return ""
    return f"{at_ms / 1000:.1f}s" if at_ms >= 1000 else f"{at_ms:.0f}ms"


def _line(raw: str) -> str:
    try:
        entry = json.loads(raw)
    except ValueError:
        entry = None
    if not isinstance(entry, dict):
        return f'<li class="line raw"><span class="text">{safe(raw)}</span></li>'
    speaker = "agent" if entry.get("speaker") == "agent" else "caller"
    when = f'<span class="at">{safe(_when(entry.get("at_ms")))}</span>'
    who = f'<span class="who">{speaker}</span>'
    if "keypad" in entry:
        text = f'<span class="text"><span class="key-label">keypad</span> {safe(entry["keypad"])}'
        return f'<li class="line caller keypad">{when}{who}{text}</span></li>'
    note = (
        f' <span class="note">(ignored: {safe(entry["ignored"])})</span>'
        if entry.get("ignored")
        else ""
    )
    text = f'<span class="text">{safe(entry.get("text", ""))}{note}</span>'
    return f'<li class="line {speaker}">{when}{who}{text}</li>'


def _transcript(trial: dict[str, Any], out: Path) -> str:
    path = _transcript_path(trial, out)
    if path is None:
        where = trial.get("artefacts") or "no artefact folder"
        return f'<p class="missing">No transcript: {TRANSCRIPT_FILE} not found ({safe(where)}).</p>'
    lines = [raw for raw in path.read_text("utf-8", errors="replace").splitlines() if raw.strip()]
    if not lines:
        return '<p class="missing">The transcript is empty.</p>'
    return '<ol class="transcript">' + "".join(_line(raw) for raw in lines) + "</ol>"


def _fact(name: str, value: object, expected: object = None) -> str:
    shown = "—" if value in (None, "", []) else value
    if isinstance(shown, list):
        shown = ", ".join(str(v) for v in shown)
    extra = f' <span class="muted">(expected {safe(expected)})</span>' if expected else ""
    wrong = ' class="bad"' if expected and expected != (value or "none") else ""
    return f"<dt>{escape(name)}</dt><dd{wrong}>{safe(shown)}{extra}</dd>"


def _checks(trial: dict[str, Any]) -> str:
    checks = trial.get("checks") or []
    if not checks:
        return ""
    failing = [c for c in checks if not c.get("passed")]
    summary = f"{len(checks) - len(failing)} of {len(checks)} checks passed"
    if not failing:
        return f'<p class="checks-ok">{summary}.</p>'
    items = "".join(
        f"<li><strong>{safe(c.get('name', ''))}</strong> "
        f'<span class="kind">{safe(c.get("kind", ""))}</span>'
        + (f" — {safe(c['detail'])}" if c.get("detail") else "")
        + "</li>"
        for c in failing
    )
    return f'<p class="checks-bad">{summary}. Failing:</p><ul class="failing">{items}</ul>'


def trial_anchor(trial: dict[str, Any]) -> str:
    """The HTML id of a trial's block."""
    return f"trial-{trial.get('scenario')}-{trial.get('trial')}"


def trial_block(trial: dict[str, Any], out: Path) -> str:
    """One trial as a ``<details>`` block, closed, with a one-line summary."""
    badge, css = trial_status(trial)
    ran = f"ran {float(trial.get('duration_s') or 0):.1f} s"
    details = (
        f"did not complete · {ran}"
        if css == "error"
        else f"{trial.get('outcome')} · {trial.get('turns', 0)} turns · "
        f"handle time {trial.get('handle_time_s', 0)} s · {ran}"
    )
    summary = (
        f'<span class="badge {css}">{badge}</span> '
        f'<span class="trial-name">{safe(trial.get("scenario"))} · trial {safe(trial.get("trial"))}'
        f'</span> <span class="muted">{safe(details)}</span>'
    )
    leaks = trial.get("leaks") or []
    tokens = f"{trial.get('input_tokens', 0)} in / {trial.get('output_tokens', 0)} out"
    facts = "".join(
        [
            _fact("outcome", trial.get("outcome"), trial.get("expected_outcome")),
            _fact(
                "transfer reason",
                trial.get("transfer_reason"),
                trial.get("expected_transfer_reason"),
            ),
            _fact("authentication", trial.get("auth"), trial.get("expected_auth")),
            _fact("tools", trial.get("tools")),
            _fact("tokens", tokens),
        ]
    )
    leak_html = f'<p class="leak">Card data leaked: {safe(", ".join(leaks))}</p>' if leaks else ""
    error = (
        f'<p class="checks-bad">The trial did not complete:</p><pre class="error">'
        f"{safe(trial['error'])}</pre>"
        if trial.get("error")
        else ""
    )
    # A trial that did not complete has no outcome to show: its error says it all.
    fact_list = "" if error else f'<dl class="facts">{facts}</dl>'
    return (
        f'<details class="trial {css}" id="{escape(trial_anchor(trial))}">'
        f'<summary>{summary}</summary><div class="trial-body">'
        f"{error}{leak_html}{_checks(trial)}{fact_list}"
        f"<h4>Transcript</h4>{_transcript(trial, out)}</div></details>"
    )
