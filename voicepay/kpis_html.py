"""The KPI page: one self-contained HTML file (inline CSS and SVG, no script, no external asset)."""

from __future__ import annotations

from html import escape

from evals._svg_charts import Bar, bar_chart
from voicepay.kpis import Kpis

_FUNNEL_FILL = "#3b6fb6"
_PAID_FILL = "#2e8540"
_TRANSFER_FILL = "#b5651d"

_STYLE = """
:root { --fg: #1f2328; --muted: #57606a; --line: #d0d7de; --soft: #f6f8fa; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: var(--fg);
  margin: 24px auto; max-width: 1120px; padding: 0 16px; }
h1 { font-size: 22px; margin: 0 0 4px; }
h2 { font-size: 16px; margin: 0 0 8px; }
.period { color: var(--muted); margin: 0 0 16px; }
.tiles { display: grid; grid-template-columns: repeat(auto-fill, minmax(170px, 1fr)); gap: 12px;
  margin-bottom: 20px; }
.tile { border: 1px solid var(--line); border-radius: 6px; padding: 10px 12px; }
.tile .name { color: var(--muted); font-size: 12px; }
.tile .figure { font-size: 22px; font-weight: 600; }
.tile .detail { color: var(--muted); font-size: 12px; }
.charts { display: grid; grid-template-columns: repeat(auto-fit, minmax(480px, 1fr)); gap: 16px; }
section { border: 1px solid var(--line); border-radius: 6px; padding: 12px; }
svg.chart { display: block; width: 100%; height: auto; max-height: 340px; }
svg .grid { stroke: #e6eaef; stroke-width: 1; }
svg .axis { stroke: #8c959f; stroke-width: 1; }
svg text { font-family: inherit; fill: var(--fg); }
svg .tick { font-size: 11px; fill: var(--muted); }
svg .label { font-size: 12px; }
svg .value { font-size: 12px; font-weight: 600; }
svg .axis-title { font-size: 12px; fill: var(--muted); }
.empty { color: var(--muted); }
"""


def _pct(value: float | None) -> str:
    return "–" if value is None else f"{value:g}%"


def _tile(name: str, figure: str, detail: str = "") -> str:
    return (
        f'<div class="tile"><div class="name">{escape(name)}</div>'
        f'<div class="figure">{escape(figure)}</div>'
        f'<div class="detail">{escape(detail)}</div></div>'
    )


def _tiles(kpis: Kpis) -> str:
    handle = "–" if kpis.average_handle_s is None else f"{kpis.average_handle_s:g} s"
    csat_detail = (
        f"mean {kpis.average_score:g} / 5 from {kpis.survey_answers} answers"
        if kpis.average_score is not None
        else "no survey answers"
    )
    return (
        '<div class="tiles">'
        + "".join(
            [
                _tile("Calls", str(kpis.calls)),
                _tile(
                    "Containment", _pct(kpis.containment_pct), f"{kpis.contained} without a person"
                ),
                _tile(
                    "True containment",
                    _pct(kpis.true_containment_pct),
                    f"{kpis.truly_contained} with no repeat call in 24 h",
                ),
                _tile(
                    "Payment conversion", _pct(kpis.conversion_pct), "paid / reached card capture"
                ),
                _tile("Average handle time", handle),
                _tile("Transfer rate", _pct(kpis.transfer_rate_pct), f"{kpis.transfers} transfers"),
                _tile("CSAT", _pct(kpis.csat_pct), csat_detail),
            ]
        )
        + "</div>"
    )


def _funnel(kpis: Kpis) -> str:
    names = {"amount_agreed": "amount agreed"}
    bars = [
        Bar(
            names.get(stage.stage, stage.stage),
            stage.calls,
            _PAID_FILL if stage.stage == "paid" else _FUNNEL_FILL,
        )
        for stage in kpis.funnel
    ]
    return bar_chart("Conversion funnel", bars, x_title="stage reached", y_title="calls")


def _transfers(kpis: Kpis) -> str:
    if not kpis.transfers_by_reason:
        return '<p class="empty">No call went to a person.</p>'
    bars = [Bar(reason, count, _TRANSFER_FILL) for reason, count, _ in kpis.transfers_by_reason]
    return bar_chart("Transfers by reason", bars, x_title="reason", y_title="calls")


def _outcomes(kpis: Kpis) -> str:
    if not kpis.outcomes:
        return '<p class="empty">No calls in this period.</p>'
    bars = [Bar(outcome, count) for outcome, count in kpis.outcomes]
    return bar_chart("Outcomes", bars, x_title="outcome", y_title="calls")


def render_kpis_html(kpis: Kpis) -> str:
    """The KPI page for ``kpis``: tiles, the conversion funnel, transfers and outcomes."""
    since = kpis.since.strftime("%Y-%m-%d %H:%M UTC") if kpis.since else "the oldest kept record"
    until = kpis.until.strftime("%Y-%m-%d %H:%M UTC")
    sections = [
        ("Conversion funnel", _funnel(kpis)),
        ("Transfers by reason", _transfers(kpis)),
        ("Outcomes", _outcomes(kpis)),
    ]
    body = "".join(
        f'<section aria-label="{escape(title)}"><h2>{escape(title)}</h2>{chart}</section>'
        for title, chart in sections
    )
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>VoicePay KPIs</title><style>{_STYLE}</style></head><body>"
        f"<h1>VoicePay KPIs</h1>"
        f'<p class="period">Calls that ended from {escape(since)} to {escape(until)}.</p>'
        f'{_tiles(kpis)}<div class="charts">{body}</div></body></html>'
    )
