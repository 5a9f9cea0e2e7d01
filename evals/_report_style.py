"""The HTML report's inline stylesheet."""

from __future__ import annotations

STYLE = """
:root { --fg: #1f2328; --muted: #59636e; --line: #d1d9e0; --bg: #ffffff; --soft: #f6f8fa;
  --pass: #1a7f37; --fail: #cf222e; --warn: #9a6700; --agent: #eef4fc; --caller: #f3f0fa; }
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "Noto Sans",
  "DejaVu Sans", sans-serif; color: var(--fg); background: var(--soft); }
header, main { max-width: 1160px; margin: 0 auto; padding: 0 24px; }
header { padding-top: 24px; }
h1 { font-size: 26px; margin: 0 0 8px; }
h2 { font-size: 20px; margin: 32px 0 12px; padding-bottom: 6px;
  border-bottom: 1px solid var(--line); }
h3 { font-size: 16px; margin: 20px 0 8px; }
h4 { font-size: 14px; margin: 14px 0 6px; color: var(--muted); }
.config { display: flex; flex-wrap: wrap; gap: 6px 28px; margin: 0; color: var(--muted); }
.config div { display: flex; gap: 6px; }
.config dt::after { content: ":"; }
.config dd { margin: 0; color: var(--fg); font-weight: 600; }
.tiles { display: grid; grid-template-columns: repeat(auto-fill, minmax(170px, 1fr)); gap: 12px; }
.tile { background: var(--bg); border: 1px solid var(--line); border-radius: 8px;
  padding: 10px 14px; }
.tile-label { font-size: 12px; text-transform: uppercase; letter-spacing: .04em;
  color: var(--muted); }
.tile-value { font-size: 24px; font-weight: 650; font-variant-numeric: tabular-nums; }
.tile .note { font-size: 12px; color: var(--muted); }
.tile.bad { border-color: var(--fail); background: #fff1f1; }
.tile.bad .tile-value { color: var(--fail); }
.charts { display: grid; grid-template-columns: repeat(auto-fit, minmax(480px, 1fr)); gap: 16px; }
figure { margin: 0; background: var(--bg); border: 1px solid var(--line); border-radius: 8px;
  padding: 12px; }
figcaption { font-size: 13px; color: var(--muted); margin-top: 6px; }
svg.chart { display: block; width: 100%; height: auto; max-height: 340px; }
svg.chart.matrix { width: auto; max-width: 100%; max-height: none; margin: 0 auto; }
svg .grid { stroke: #e6eaef; stroke-width: 1; }
svg .axis { stroke: #8c959f; stroke-width: 1; }
svg text { font-family: inherit; fill: var(--fg); }
svg .tick { font-size: 11px; fill: var(--muted); }
svg .label { font-size: 12px; }
svg .value { font-size: 12px; font-weight: 600; }
svg .axis-title { font-size: 12px; fill: var(--muted); }
svg .cell { stroke: #fff; stroke-width: 2; }
svg .empty { fill: var(--soft); stroke: var(--line); stroke-dasharray: 4 4; }
table.data { width: 100%; border-collapse: collapse; background: var(--bg); margin: 16px 0;
  border: 1px solid var(--line); font-variant-numeric: tabular-nums; }
table.data caption { text-align: left; font-weight: 600; padding: 0 0 6px; }
table.data th, table.data td { text-align: left; padding: 7px 10px; vertical-align: top;
  border-bottom: 1px solid var(--line); }
table.data thead th { background: var(--soft); font-size: 13px; color: var(--muted); }
table.data tbody th { font-weight: 600; }
tr.row-bad th:first-child { box-shadow: inset 3px 0 0 var(--fail); }
.small { font-size: 12px; font-weight: 400; }
.muted { color: var(--muted); }
.marks { white-space: nowrap; }
.dot { display: inline-block; width: 20px; height: 20px; margin-right: 3px; border-radius: 4px;
  color: #fff; font-size: 11px; font-weight: 700; line-height: 20px; text-align: center;
  text-decoration: none; }
.dot.pass, .badge.pass { background: var(--pass); }
.dot.fail, .badge.fail { background: var(--fail); }
.dot.error, .badge.error { background: var(--warn); }
details.trial { background: var(--bg); border: 1px solid var(--line); border-radius: 8px;
  margin: 8px 0; }
details.trial.fail, details.trial.error { border-left: 4px solid var(--fail); }
details.trial > summary { cursor: pointer; padding: 9px 14px; list-style-position: inside; }
details.trial[open] > summary { border-bottom: 1px solid var(--line); }
.badge { color: #fff; border-radius: 4px; padding: 1px 7px; font-size: 12px; font-weight: 700; }
.trial-name { font-weight: 600; }
.trial-body { padding: 4px 16px 14px; }
.facts { display: grid; grid-template-columns: max-content 1fr; gap: 2px 16px; margin: 8px 0;
  font-size: 14px; }
.facts dt { color: var(--muted); }
.facts dd { margin: 0; }
.facts dd.bad { color: var(--fail); font-weight: 600; }
.checks-ok { color: var(--pass); margin: 8px 0; }
.checks-bad { color: var(--fail); font-weight: 600; margin: 8px 0 4px; }
.failing { margin: 0 0 8px; }
.kind { font-size: 12px; color: var(--muted); border: 1px solid var(--line); border-radius: 4px;
  padding: 0 5px; }
.leak { background: #fff1f1; color: var(--fail); border: 1px solid var(--fail); border-radius: 6px;
  padding: 6px 10px; font-weight: 600; }
pre.error { background: #fff8e6; border: 1px solid #e8c36a; border-radius: 6px; padding: 8px 10px;
  white-space: pre-wrap; font-size: 12px; overflow-x: auto; }
.missing { color: var(--warn); font-style: italic; }
ol.transcript { list-style: none; margin: 0; padding: 0; display: flex; flex-direction: column;
  gap: 6px; }
.line { display: grid; grid-template-columns: 58px 52px 1fr; gap: 8px; align-items: baseline;
  padding: 6px 10px; border-radius: 8px; max-width: 88%; }
.line.agent { background: var(--agent); align-self: flex-start; }
.line.caller { background: var(--caller); align-self: flex-end; }
.line.raw { background: var(--soft); }
.line .at { font-size: 11px; color: var(--muted); font-variant-numeric: tabular-nums; }
.line .who { font-size: 11px; font-weight: 700; text-transform: uppercase; color: var(--muted); }
.line.agent .who { color: #2f5d9a; }
.line.caller .who { color: #6b46a8; }
.keypad .text { font-family: ui-monospace, "DejaVu Sans Mono", monospace; letter-spacing: .15em; }
.key-label { font-family: system-ui, sans-serif; letter-spacing: 0; font-size: 11px;
  border: 1px solid var(--line); border-radius: 4px; padding: 0 5px; margin-right: 6px;
  background: var(--bg); }
.note { color: var(--muted); font-size: 12px; }
a { color: #0969da; }
"""
