"""Geometry of the sentiment chart, drawn by the transfer page as inline SVG."""

from __future__ import annotations

from dataclasses import dataclass

WIDTH = 320
HEIGHT = 96
_PAD = 8


@dataclass(frozen=True, slots=True)
class SentimentChart:
    """Points of the caller's sentiment line, in SVG user units (integers).

    Attributes:
        points: ``x,y`` pairs separated by spaces, for ``<polyline points=...>``.
        dots: the same points as ``(x, y, value)``, value as a signed percentage.
        zero_y: where the neutral line is drawn.
        width: the chart width.
        height: the chart height.
        trend: "improving", "worsening" or "steady" from first to last turn.
    """

    points: str
    dots: list[tuple[int, int, int]]
    zero_y: int
    width: int
    height: int
    trend: str


def sentiment_chart(values: list[float]) -> SentimentChart | None:
    """The chart for per-turn sentiment in [-1, 1], or None with no values."""
    if not values:
        return None
    clamped = [min(1.0, max(-1.0, value)) for value in values]
    span_x = WIDTH - 2 * _PAD
    span_y = HEIGHT - 2 * _PAD
    step = span_x / (len(clamped) - 1) if len(clamped) > 1 else 0.0
    dots = [
        (
            round(_PAD + i * step) if len(clamped) > 1 else WIDTH // 2,
            round(_PAD + (1 - value) / 2 * span_y),
            round(value * 100),
        )
        for i, value in enumerate(clamped)
    ]
    change = clamped[-1] - clamped[0]
    trend = "improving" if change > 0.2 else "worsening" if change < -0.2 else "steady"
    return SentimentChart(
        points=" ".join(f"{x},{y}" for x, y, _ in dots),
        dots=dots,
        zero_y=_PAD + span_y // 2,
        width=WIDTH,
        height=HEIGHT,
        trend=trend,
    )
