"""Writes a run's report files: ``report.json`` (the documented schema) and ``report.html``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from evals.report_html import render_html


def write_report(report: dict[str, Any], out: Path) -> None:
    """Write ``report.json`` and the self-contained ``report.html`` into ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    (out / "report.json").write_text(json.dumps(report, indent=2, ensure_ascii=False), "utf-8")
    (out / "report.html").write_text(render_html(report, out), "utf-8")


def read_report(path: Path) -> dict[str, Any]:
    """Read a report from its file or from the run folder holding it."""
    file = path / "report.json" if path.is_dir() else path
    report: dict[str, Any] = json.loads(file.read_text("utf-8"))
    return report
