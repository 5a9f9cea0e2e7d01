"""``voicepay kpis``: containment, the payment funnel, handle time, transfers and CSAT."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer
from redis.exceptions import RedisError
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from voicepay.call_records import CallRecord, CallRecordStore
from voicepay.kpis import BadSince, Kpis, compute, parse_since
from voicepay.kpis_html import render_kpis_html
from voicepay.redis_client import connect
from voicepay.settings import Settings

_out = Console(soft_wrap=True)
_err = Console(stderr=True, soft_wrap=True)


async def _records(url: str, ttl_s: int, since: datetime) -> list[CallRecord]:
    client = connect(url)
    try:
        return await CallRecordStore(client, ttl_s=ttl_s).since(since)
    finally:
        await client.aclose()


def _pct(value: float | None) -> str:
    return "–" if value is None else f"{value:g}%"


def _print(kpis: Kpis) -> None:
    table = Table(title=f"VoicePay KPIs since {kpis.since:%Y-%m-%d %H:%M} UTC")
    table.add_column("KPI")
    table.add_column("Value", justify="right")
    table.add_column("Detail")
    handle = "–" if kpis.average_handle_s is None else f"{kpis.average_handle_s:g} s"
    score = "–" if kpis.average_score is None else f"{kpis.average_score:g} / 5"
    rows = [
        ("Calls", str(kpis.calls), ""),
        ("Containment", _pct(kpis.containment_pct), f"{kpis.contained} without a person"),
        (
            "True containment",
            _pct(kpis.true_containment_pct),
            f"{kpis.truly_contained} with no repeat call within 24 h",
        ),
        *[
            (f"Funnel: {stage.stage.replace('_', ' ')}", str(stage.calls), _pct(stage.pct))
            for stage in kpis.funnel
        ],
        ("Payment conversion", _pct(kpis.conversion_pct), "paid / reached card capture"),
        ("Average handle time", handle, ""),
        ("Transfer rate", _pct(kpis.transfer_rate_pct), f"{kpis.transfers} transfers"),
        *[
            (f"Transfers: {reason}", str(count), _pct(pct))
            for reason, count, pct in kpis.transfers_by_reason
        ],
        ("CSAT", _pct(kpis.csat_pct), f"mean {score}, {kpis.survey_answers} answers"),
    ]
    for row in rows:
        table.add_row(*row)
    _out.print(table)


def kpis(
    since: Annotated[
        str, typer.Option(help="Period start: a duration back (30m, 24h, 7d, 2w) or an ISO date.")
    ] = "7d",
    html: Annotated[
        Path | None, typer.Option(help="Also write a self-contained HTML page with plots here.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the KPIs as JSON.")] = False,
    redis_url: Annotated[
        str | None,
        typer.Option(
            "--redis-url", help="Redis to read (default: VOICEPAY_REDIS_URL).", show_default=False
        ),
    ] = None,
) -> None:
    """KPIs of the calls that ended since ``--since``, from the call records in Redis."""
    settings = Settings()
    url = redis_url or settings.redis_url
    if not url:
        _err.print(
            "[red]No Redis configured.[/] Call records live in the Redis the workers share. "
            "Set VOICEPAY_REDIS_URL (e.g. redis://localhost:6379/0) or pass --redis-url."
        )
        raise typer.Exit(code=2)
    now = datetime.now(UTC)
    try:
        start = parse_since(since, now)
    except BadSince as exc:
        _err.print(f"[red]Bad --since:[/] {escape(str(exc))}")
        raise typer.Exit(code=2) from None
    try:
        records = asyncio.run(_records(url, settings.metrics.record_ttl_s, start))
    except RedisError as exc:
        _err.print(f"[red]Redis error:[/] {escape(str(exc))}")
        raise typer.Exit(code=1) from None
    result = compute(records, since=start, until=now)
    if as_json:
        _out.print_json(json.dumps(result.to_json()))
    else:
        _print(result)
    if html is not None:
        html.write_text(render_kpis_html(result), encoding="utf-8")
        if not as_json:
            _out.print(f"Wrote {escape(str(html))}")
