"""Inline SVG charts for the HTML report: bar charts and a confusion matrix, no JavaScript.

Every chart is an ``<svg role="img">`` with an ``aria-label``, a ``<title>`` and a ``<desc>`` that
reads the data out, so a screen reader gets the numbers a sighted reader gets from the picture.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from html import escape

_WIDTH = 520
_HEIGHT = 280
_LEFT, _RIGHT, _TOP, _BOTTOM = 48, 12, 16, 52
_DEFAULT_FILL = "#3b6fb6"
_CHAR_WIDTH = 6.6
"""Average width of a character of the 11px tick labels, to leave room for them."""


@dataclass(frozen=True)
class Bar:
    """One bar: its label under the axis, its value and (optionally) its own colour."""

    label: str
    value: float
    fill: str = _DEFAULT_FILL


def _open_svg(label: str, desc: str, width: int, height: int, css: str = "chart") -> str:
    return (
        f'<svg role="img" aria-label="{escape(label)}" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" xmlns="http://www.w3.org/2000/svg" class="{css}">'
        f"<title>{escape(label)}</title><desc>{escape(desc)}</desc>"
    )


def _ticks(top: float, whole: bool) -> list[float]:
    """Evenly spaced round tick values from 0 covering ``top`` (at most about six ticks)."""
    if top <= 0:
        return [0.0, 1.0]
    raw = top / 5
    magnitude = 10 ** math.floor(math.log10(raw))
    steps = (1, 2, 5, 10) if whole else (1, 2, 2.5, 5, 10)
    step = next(m * magnitude for m in steps if m * magnitude >= raw)
    if whole:
        step = max(1, round(step))
    count = math.ceil(top / step - 1e-9)
    return [round(i * step, 10) for i in range(count + 1)]


def _fmt_count(value: float) -> str:
    return f"{value:g}"


def bar_chart(
    label: str,
    bars: Sequence[Bar],
    *,
    y_max: float | None = None,
    fmt: Callable[[float], str] = _fmt_count,
    gap: float = 0.3,
    x_title: str = "",
    y_title: str = "",
) -> str:
    """A vertical bar chart with value labels, a y axis and gridlines.

    Args:
        label: the chart's accessible name (also its SVG title).
        bars: the bars, left to right.
        y_max: the top of the y axis; by default a round number above the largest value, with
            whole-number ticks (the values are counts).
        fmt: how values are written (tick labels and the label above each bar).
        gap: the space between bars as a fraction of each slot.
        x_title: the x axis title.
        y_title: the y axis title.
    """
    desc = "; ".join(f"{bar.label}: {fmt(bar.value)}" for bar in bars) or "no data"
    parts = [_open_svg(label, desc, _WIDTH, _HEIGHT)]
    ticks = (
        _ticks(y_max, whole=False)
        if y_max is not None
        else _ticks(max((b.value for b in bars), default=0.0), whole=True)
    )
    top = ticks[-1]
    plot_w = _WIDTH - _LEFT - _RIGHT
    plot_h = _HEIGHT - _TOP - _BOTTOM
    base = _TOP + plot_h

    def y_of(value: float) -> float:
        return base - plot_h * value / top

    for tick in ticks:
        y = y_of(tick)
        parts.append(
            f'<line x1="{_LEFT}" x2="{_WIDTH - _RIGHT}" y1="{y:.1f}" y2="{y:.1f}" class="grid"/>'
            f'<text x="{_LEFT - 6}" y="{y + 4:.1f}" text-anchor="end" class="tick">'
            f"{escape(fmt(tick))}</text>"
        )
    slot = plot_w / max(1, len(bars))
    small = len(bars) > 8
    for i, bar in enumerate(bars):
        x = _LEFT + i * slot + slot * gap / 2
        width = slot * (1 - gap)
        y = y_of(bar.value)
        centre = x + width / 2
        parts.append(
            f'<rect x="{x:.1f}" y="{y:.1f}" width="{width:.1f}" height="{base - y:.1f}" '
            f'fill="{bar.fill}"><title>{escape(bar.label)}: {escape(fmt(bar.value))}</title></rect>'
            f'<text x="{centre:.1f}" y="{y - 5:.1f}" text-anchor="middle" class="value">'
            f"{escape(fmt(bar.value))}</text>"
            f'<text x="{centre:.1f}" y="{base + 16}" text-anchor="middle" '
            f'class="{"tick" if small else "label"}">{escape(bar.label)}</text>'
        )
    parts.append(
        f'<line x1="{_LEFT}" x2="{_WIDTH - _RIGHT}" y1="{base}" y2="{base}" class="axis"/>'
    )
    if x_title:
        parts.append(
            f'<text x="{_LEFT + plot_w / 2:.1f}" y="{_HEIGHT - 8}" text-anchor="middle" '
            f'class="axis-title">{escape(x_title)}</text>'
        )
    if y_title:
        parts.append(
            f'<text transform="translate(13 {_TOP + plot_h / 2:.1f}) rotate(-90)" '
            f'text-anchor="middle" class="axis-title">{escape(y_title)}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def _cell_colours(count: int, row_total: int, diagonal: bool) -> tuple[str, str]:
    """Fill and text colour of a cell: right answers green, wrong ones red, darker by share."""
    if count == 0:
        return "#f6f8fa", "#59636e"
    share = count / row_total if row_total else 0.0
    hue = 140 if diagonal else 0
    lightness = 88 - 50 * share
    return f"hsl({hue} 55% {lightness:.0f}%)", "#ffffff" if lightness < 60 else "#1f2328"


def confusion_matrix(label: str, matrix: dict[str, dict[str, int]], empty_note: str) -> str:
    """A confusion matrix: expected labels down the side, actual labels across the top.

    Args:
        label: the chart's accessible name (also its SVG title).
        matrix: counts as ``matrix[expected][actual]``.
        empty_note: what the chart says when there is nothing to compare.
    """
    names = sorted(
        set(matrix) | {name for row in matrix.values() for name in row},
        key=lambda name: (name == "none", name),
    )
    if not names:
        return (
            _open_svg(label, empty_note, _WIDTH, 120)
            + f'<rect x="1" y="1" width="{_WIDTH - 2}" height="118" class="empty"/>'
            + f'<text x="{_WIDTH / 2}" y="64" text-anchor="middle" class="label">'
            + f"{escape(empty_note)}</text></svg>"
        )
    size = len(names)
    longest = round(max(len(n) for n in names) * _CHAR_WIDTH)
    left = 30 + longest
    cell = max(28, min(80, (_WIDTH - left - 12) // size))
    # Column labels wider than a cell are turned upright so that neighbours do not overlap.
    upright = longest > cell - 6
    top = 24 + (longest + 12 if upright else 18)
    width = max(_WIDTH, left + cell * size + 12)
    left += (width - left - cell * size - 12) // 2
    height = top + cell * size + 12
    desc = "; ".join(
        f"expected {e}, actual {a}: {matrix.get(e, {}).get(a, 0)}" for e in names for a in names
    )
    parts = [
        _open_svg(label, desc, width, height, css="chart matrix"),
        f'<text x="{left + cell * size / 2:.0f}" y="14" text-anchor="middle" '
        f'class="axis-title">actual</text>'
        f'<text transform="translate({left - longest - 16} {top + cell * size / 2:.0f}) '
        f'rotate(-90)" text-anchor="middle" class="axis-title">expected</text>',
    ]
    for j, actual in enumerate(names):
        x = left + cell * j + cell / 2
        place = (
            f'transform="translate({x + 4:.0f} {top - 6}) rotate(-90)" text-anchor="start"'
            if upright
            else f'x="{x:.0f}" y="{top - 8}" text-anchor="middle"'
        )
        parts.append(f'<text {place} class="tick">{escape(actual)}</text>')
    for i, expected in enumerate(names):
        row = matrix.get(expected, {})
        total = sum(row.values())
        y = top + cell * i
        parts.append(
            f'<text x="{left - 8}" y="{y + cell / 2 + 4:.0f}" text-anchor="end" class="tick">'
            f"{escape(expected)}</text>"
        )
        for j, actual in enumerate(names):
            count = row.get(actual, 0)
            x = left + cell * j
            fill, ink = _cell_colours(count, total, i == j)
            parts.append(
                f'<rect x="{x}" y="{y}" width="{cell}" height="{cell}" fill="{fill}" class="cell">'
                f"<title>expected {escape(expected)}, actual {escape(actual)}: {count}</title>"
                f'</rect><text x="{x + cell / 2:.0f}" y="{y + cell / 2 + 5:.0f}" '
                f'text-anchor="middle" class="value" style="fill: {ink}">{count}</text>'
            )
    parts.append("</svg>")
    return "".join(parts)
