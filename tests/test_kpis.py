"""KPIs from call records: the definitions, the --since parser and ``voicepay kpis``."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from typer.testing import CliRunner

from voicepay.call_records import CallRecord, CallRecordStore
from voicepay.cli._app import app
from voicepay.kpis import BadSince, compute, parse_since, repeated_calls
from voicepay.redis_client import connect

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
ALL_STAGES = ["identified", "verified", "amount_agreed", "captured", "paid"]


def record(call_id: str, minutes_ago: float, **fields: Any) -> CallRecord:
    ended = NOW - timedelta(minutes=minutes_ago)
    duration = fields.pop("duration_s", 120.0)
    base: dict[str, Any] = {
        "call_id": call_id,
        "started_at": ended - timedelta(seconds=duration),
        "ended_at": ended,
        "duration_s": duration,
        "language": "en",
        "outcome": "paid",
        "last_step": "receipt",
        "stages": ALL_STAGES,
        "contained": True,
    }
    return CallRecord.model_validate({**base, **fields})


def sample_records() -> list[CallRecord]:
    return [
        record("c1", 600, account="111", caller="tagalice", duration_s=100.0, survey_score=5),
        # The same caller again 30 minutes later: the first call was not truly contained.
        record("c2", 570, account="111", caller="tagalice", duration_s=200.0, survey_score=2),
        record("c3", 300, account="222", outcome="not_paid", stages=ALL_STAGES[:4]),
        record(
            "c4",
            200,
            account="333",
            outcome="transferred",
            contained=False,
            transfer_reason="dispute",
            stages=ALL_STAGES[:2],
        ),
        record(
            "c5",
            100,
            outcome="transferred",
            contained=False,
            transfer_reason="caller_request",
            stages=[],
            survey_score=4,
        ),
        record("c6", 50, account="444", outcome="abandoned", stages=["identified"]),
    ]


def test_the_kpis_follow_their_definitions() -> None:
    kpis = compute(sample_records(), since=NOW - timedelta(days=1), until=NOW)
    assert kpis.calls == 6
    assert (kpis.contained, kpis.containment_pct) == (4, 66.7)
    assert (kpis.truly_contained, kpis.true_containment_pct) == (3, 50.0)
    assert [(s.stage, s.calls) for s in kpis.funnel] == [
        ("identified", 5),
        ("verified", 4),
        ("amount_agreed", 3),
        ("captured", 3),
        ("paid", 2),
    ]
    assert kpis.conversion_pct == 66.7, "paid over calls that reached card capture"
    assert kpis.average_handle_s == round((100 + 200 + 4 * 120) / 6, 1)
    assert (kpis.transfers, kpis.transfer_rate_pct) == (2, 33.3)
    assert sorted(kpis.transfers_by_reason) == [("caller_request", 1, 16.7), ("dispute", 1, 16.7)]
    assert (kpis.survey_answers, kpis.csat_pct, kpis.average_score) == (3, 66.7, 3.67)
    assert dict(kpis.outcomes) == {"paid": 2, "not_paid": 1, "transferred": 2, "abandoned": 1}
    assert json.loads(json.dumps(kpis.to_json()))["calls"] == 6


def test_no_calls_give_no_ratios() -> None:
    kpis = compute([], since=None, until=NOW)
    assert kpis.calls == 0 and kpis.containment_pct is None and kpis.conversion_pct is None
    assert kpis.average_handle_s is None and kpis.csat_pct is None


def test_a_repeat_is_the_same_caller_within_a_day_by_phone_else_account() -> None:
    calls = [
        record("a1", 3000, caller="tag1", account="111"),
        record("a2", 3000 - 25 * 60, caller="tag1", account="111"),  # 25 h later: not a repeat
        record("b1", 500, account="222"),
        record("b2", 400, account="222"),  # same account, no phone tag: a repeat
        record("c1", 300, caller="tag3", account="333"),
        record("c2", 200, caller="tag4", account="333"),  # same account, other phone: not one
        record("d1", 100),
        record("d2", 90),  # nobody known: cannot be a repeat
    ]
    assert repeated_calls(calls) == {"b1"}


@given(st.integers(min_value=0, max_value=10_000), st.sampled_from("mhdw"))
def test_durations_count_back_from_now(amount: int, unit: str) -> None:
    seconds = {"m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}[unit]
    assert parse_since(f"{amount}{unit}", NOW) == NOW - timedelta(seconds=amount * seconds)
    assert parse_since(f" {amount}{unit.upper()} ", NOW) == parse_since(f"{amount}{unit}", NOW)


@given(st.datetimes(timezones=st.just(UTC)))
def test_iso_dates_are_taken_as_given(when: datetime) -> None:
    assert parse_since(when.isoformat(), NOW) == when
    assert parse_since(when.replace(tzinfo=None).isoformat(), NOW) == when


@given(st.text(max_size=20).filter(lambda t: not t.strip()[:1].isdigit()))
def test_anything_else_is_refused(text: str) -> None:
    with pytest.raises(BadSince):
        parse_since(text, NOW)


def test_the_command_prints_json_and_writes_the_html_page(
    redis_server: str, tmp_path: Path
) -> None:
    async def seed() -> None:
        client = connect(redis_server)
        try:
            await client.flushdb()
            store = CallRecordStore(client, ttl_s=30 * 86400)
            now = datetime.now(UTC)
            for r in sample_records():
                shift = now - NOW
                await store.save(
                    r.model_copy(
                        update={"started_at": r.started_at + shift, "ended_at": r.ended_at + shift}
                    )
                )
        finally:
            await client.aclose()

    asyncio.run(seed())
    page = tmp_path / "kpis.html"
    runner = CliRunner()
    result = runner.invoke(
        app, ["kpis", "--since", "24h", "--json", "--html", str(page), "--redis-url", redis_server]
    )
    assert result.exit_code == 0, result.output
    figures = json.loads(result.output)
    assert figures["calls"] == 6 and figures["true_containment_pct"] == 50.0
    assert "Conversion funnel" in page.read_text("utf-8")
    recent = runner.invoke(app, ["kpis", "--since", "3h", "--json", "--redis-url", redis_server])
    assert json.loads(recent.output)["calls"] == 2, "only the calls of the last three hours"
    table = runner.invoke(app, ["kpis", "--redis-url", redis_server])
    assert table.exit_code == 0
    assert "True containment" in table.output and "Transfers: dispute" in table.output
    bad = runner.invoke(app, ["kpis", "--since", "yesterday", "--redis-url", redis_server])
    assert bad.exit_code == 2 and "Bad --since" in bad.output
