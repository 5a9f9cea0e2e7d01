"""Placeholder replaced by the HTML report renderer."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def render_html(report: dict[str, Any], out: Path) -> str:
    """Render the report as a self-contained HTML page."""
    return f"<pre>{json.dumps(report['summary'], indent=2)}</pre>"
