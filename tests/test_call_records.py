"""Every call leaves a record in Redis: no card data, the funnel it reached, kept for the TTL."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from pydantic import SecretStr
from redis.asyncio import Redis

from agent.events import CallEvents
from agent.human_desk import SimulatedDesk
from agent.runtime import open_services
from agent.workflow import CallState
from evals.leak_scan import CardSecrets, LeakScanner
from evals.scenario import demo_scenarios, load_scenario
from evals.simulated_call import CallRun, run_scenario
from payment_tools.gateway import SandboxGateway
from payment_tools.redaction import find_luhn_runs
from voicepay.accounts import AccountRepository
from voicepay.call_records import CallRecord, CallRecordStore, build_record, caller_hash
from voicepay.fixtures import DEMO_ACCOUNTS
from voicepay.redis_client import connect
from voicepay.settings import Settings

DAY = 24 * 3600


async def demo_call(
    redis: Redis, tmp_path: Path, name: str, *, records: CallRecordStore | None = None
) -> CallRun:
    settings = Settings()
    await AccountRepository(redis, settings.auth.pepper).load_fixture(DEMO_ACCOUNTS)
    async with open_services(
        settings,
        redis,
        outbox_dir=tmp_path,
        gateway=SandboxGateway(),
        humans=SimulatedDesk(after_s=0.01),
    ) as services:
        if records is not None:
            services.records = records
        return await run_scenario(services, load_scenario(demo_scenarios()[name]))


async def test_a_paid_call_leaves_a_record_without_card_data(redis: Redis, tmp_path: Path) -> None:
    run = await demo_call(redis, tmp_path, "speaks-card-number")
    key = CallRecordStore.key(run.state.call_id)
    stored = await redis.get(key)
    assert isinstance(stored, str)
    assert 0 < await redis.ttl(key) <= Settings().metrics.record_ttl_s
    record = CallRecord.model_validate_json(stored)
    assert record.outcome == "paid" and record.paid and record.contained
    assert record.stages == ["identified", "verified", "amount_agreed", "captured", "paid"]
    times = [record.stage_at_s[stage] for stage in record.stages]
    assert times == sorted(times) and times[-1] <= record.duration_s
    assert record.account == run.state.account_number
    assert record.amount_minor == run.state.amount_minor and record.currency == "USD"
    assert record.card_brand and record.card_last4 and len(record.card_last4) == 4
    assert record.auth_method == "knowledge_factor" and record.transfer_reason is None
    assert record.ended_at - record.started_at == timedelta(seconds=record.duration_s)
    scenario = load_scenario(demo_scenarios()["speaks-card-number"])
    assert LeakScanner(CardSecrets.from_scenario(scenario)).scan_raw("record", stored) == []
    published = [e.data for e in run.events if e.kind == "call_record"]
    assert published == [record.model_dump(mode="json")]


async def test_a_transferred_call_is_not_contained(redis: Redis, tmp_path: Path) -> None:
    run = await demo_call(redis, tmp_path, "asks-for-human")
    [record] = await CallRecordStore(redis, ttl_s=DAY).since()
    assert record.call_id == run.state.call_id
    assert record.outcome == "transferred" and not record.contained
    assert record.transfer_reason == "caller_request" and not record.paid


async def test_a_record_that_cannot_be_stored_does_not_break_the_call(
    redis: Redis, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    dead = connect("unix:///nonexistent/voicepay-test.sock")
    try:
        with caplog.at_level(logging.WARNING):
            run = await demo_call(
                redis, tmp_path, "happy-path", records=CallRecordStore(dead, ttl_s=DAY)
            )
    finally:
        await dead.aclose()
    assert run.state.outcome == "paid"
    assert any("call record not stored" in r.getMessage() for r in caplog.records)
    assert [e.data["outcome"] for e in run.events if e.kind == "call_record"] == ["paid"]


def _record(call_id: str, ended_at: datetime) -> CallRecord:
    return CallRecord(
        call_id=call_id,
        started_at=ended_at - timedelta(seconds=60),
        ended_at=ended_at,
        duration_s=60,
        language="en",
        outcome="not_paid",
        last_step="amount",
        contained=True,
    )


async def test_the_store_lists_recent_records_and_forgets_expired_ones(redis: Redis) -> None:
    store = CallRecordStore(redis, ttl_s=DAY)
    now = datetime.now(UTC)
    await store.save(_record("call_old", now - timedelta(days=2)))
    await store.save(_record("call_week", now - timedelta(hours=20)))
    await store.save(_record("call_new", now - timedelta(minutes=5)))
    assert [r.call_id for r in await store.since()] == ["call_week", "call_new"]
    recent = await store.since(now - timedelta(hours=1))
    assert [r.call_id for r in recent] == ["call_new"]
    await redis.delete(CallRecordStore.key("call_week"))
    assert [r.call_id for r in await store.since()] == ["call_new"]


def test_the_record_reads_the_caller_tag_and_a_survey_score() -> None:
    events = CallEvents("call_survey")
    events.emit("caller", phone_hash="abcdefgh")
    events.emit("survey", score=4)
    state = CallState(call_id="call_survey")
    record = build_record(state, events.history, ended_at=datetime.now(UTC), duration_s=12.5)
    assert record.caller == "abcdefgh" and record.survey_score == 4
    assert record.stages == [] and record.outcome == "unknown" and record.contained
    events.emit("survey", score=9)
    later = build_record(state, events.history, ended_at=datetime.now(UTC), duration_s=1)
    assert later.survey_score is None, "an out-of-range score is not kept"


def test_caller_tags_match_per_caller_and_reveal_no_number() -> None:
    pepper = SecretStr("pepper-one")
    tag = caller_hash("+14155550123", pepper)
    assert tag == caller_hash("+14155550123", pepper)
    assert tag != caller_hash("+14155550124", pepper)
    assert tag != caller_hash("+14155550123", SecretStr("pepper-two"))
    assert "4155550123" not in tag and find_luhn_runs(tag) == []
    assert tag.isalnum() and tag.islower() and len(tag) == 16
