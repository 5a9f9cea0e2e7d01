"""Prometheus metrics: demo calls move them, the worker endpoint serves them, labels are safe."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st
from livekit.agents.telemetry.http_server import HttpServer
from prometheus_client import REGISTRY
from prometheus_client.parser import text_string_to_metric_families
from redis.asyncio import Redis

from agent.events import CallEvents
from agent.human_desk import SimulatedDesk
from agent.runtime import open_services
from agent.text_call import TextCall
from evals.leak_scan import CardSecrets
from evals.scenario import demo_scenarios, load_scenario
from evals.simulated_call import play, run_scenario
from payment_tools.gateway import SandboxGateway
from voicepay.accounts import AccountRepository
from voicepay.fixtures import DEMO_ACCOUNTS
from voicepay.metrics import MAX_LABEL_VALUES, OTHER, CallMetrics, bounded, latency_fields
from voicepay.settings import Settings

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def parse(text: str) -> Samples:
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def grew(after: Samples, before: Samples, name: str, **labels: str) -> float:
    return value(after, name, **labels) - value(before, name, **labels)


def total_growth(after: Samples, before: Samples, name: str) -> float:
    return sum(v for (n, _), v in after.items() if n == name) - sum(
        v for (n, _), v in before.items() if n == name
    )


@pytest.fixture
async def endpoint() -> AsyncIterator[str]:
    """The worker's metrics endpoint (LiveKit's Prometheus server), on a free local port."""
    server = HttpServer("127.0.0.1", 0)
    await server.start()
    yield f"http://127.0.0.1:{server.port}/metrics"
    await server.aclose()


async def scrape(url: str) -> Samples:
    async with httpx.AsyncClient() as client:
        response = await client.get(url)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    return parse(response.text)


async def test_curl_during_and_after_demo_calls_shows_the_call_metrics(
    redis: Redis, tmp_path: Path, endpoint: str
) -> None:
    settings = Settings()
    await AccountRepository(redis, settings.auth.pepper).load_fixture(DEMO_ACCOUNTS)
    before = await scrape(endpoint)
    during: list[Samples] = []

    def caller(name: str) -> Callable[[TextCall], Awaitable[list[float]]]:
        async def play_then_listen(call: TextCall) -> list[float]:
            if name == "happy-path":
                during.append(await scrape(endpoint))
            turns = await play(call, load_scenario(demo_scenarios()[name]))
            # Like a real caller, stay on the line until the goodbye, rating the call if asked.
            for _ in range(300):
                if call.over:
                    break
                if call.call.keypad.waiting_for_key:
                    await call.press("5")
                await call.wait(0.01)
            return turns

        return play_then_listen

    async with open_services(
        settings,
        redis,
        outbox_dir=tmp_path,
        gateway=SandboxGateway(),
        humans=SimulatedDesk(after_s=0.01),
    ) as services:
        for name in ("happy-path", "decline-then-retry", "wrong-digits", "asks-for-human"):
            scenario = load_scenario(demo_scenarios()[name])
            await run_scenario(services, scenario, player=caller(name))
    after = await scrape(endpoint)

    assert grew(during[0], before, "voicepay_active_calls") == 1
    assert grew(after, before, "voicepay_active_calls") == 0
    assert grew(after, before, "voicepay_calls_started_total") == 4
    assert grew(after, before, "voicepay_calls_ended_total", outcome="paid") == 3
    assert grew(after, before, "voicepay_calls_ended_total", outcome="transferred") == 1
    assert grew(after, before, "voicepay_calls_contained_total") == 3
    funnel = [
        grew(after, before, "voicepay_funnel_calls_total", stage=stage)
        for stage in ("identified", "verified", "amount_agreed", "captured", "paid")
    ]
    assert funnel == sorted(funnel, reverse=True) and funnel[-1] == 3
    assert grew(after, before, "voicepay_transfers_total", reason="caller_request") == 1
    assert grew(after, before, "voicepay_declines_total", code="insufficient_funds") == 1
    assert total_growth(after, before, "voicepay_capture_errors_total") >= 1
    accepted = {"method": "knowledge_factor", "decision": "accept"}
    assert grew(after, before, "voicepay_auth_checks_total", **accepted) == funnel[1]
    assert grew(after, before, "voicepay_captures_total", status="success") >= 3
    assert grew(after, before, "voicepay_call_duration_seconds_count") == 4
    assert grew(after, before, "voicepay_call_duration_seconds_sum") > 0
    assert grew(after, before, "voicepay_turn_e2e_seconds_count") >= 4
    assert grew(after, before, "voicepay_llm_ttft_seconds_count") >= 4
    assert grew(after, before, "voicepay_tool_seconds_count", tool="confirm_and_charge") >= 3
    assert grew(after, before, "voicepay_tool_seconds_sum", tool="verify_identity") > 0
    # Speech metrics exist from the start; text-mode calls have no speech to time.
    for name in ("voicepay_stt_delay_seconds_count", "voicepay_tts_ttfb_seconds_count"):
        assert any(key[0] == name for key in after), name


async def test_no_card_data_or_account_number_reaches_the_exposition(
    redis: Redis, tmp_path: Path, endpoint: str
) -> None:
    settings = Settings()
    await AccountRepository(redis, settings.auth.pepper).load_fixture(DEMO_ACCOUNTS)
    async with open_services(
        settings, redis, outbox_dir=tmp_path, gateway=SandboxGateway()
    ) as services:
        scenario = load_scenario(demo_scenarios()["speaks-card-number"])
        run = await run_scenario(services, scenario)
    async with httpx.AsyncClient() as client:
        text = (await client.get(endpoint)).text
    assert run.state.account_number and run.state.account_number not in text
    labels = {
        value
        for (name, pairs) in parse(text)
        if name.startswith("voicepay_")
        for key, value in pairs
        if key != "le"
    }
    assert labels and all(not any(ch.isdigit() for ch in label) for label in labels)
    secrets = CardSecrets.from_scenario(scenario)
    assert secrets.numbers and not any(number in text for number in secrets.numbers)


def test_the_listener_counts_turn_latencies_and_ends_the_call_once() -> None:
    events = CallEvents("call_metrics_unit")
    events.subscribe(CallMetrics())

    def sample(name: str, **labels: str) -> float:
        return REGISTRY.get_sample_value(name, labels) or 0.0

    stt, tts, e2e = (
        sample("voicepay_stt_delay_seconds_count"),
        sample("voicepay_tts_ttfb_seconds_count"),
        sample("voicepay_turn_e2e_seconds_sum"),
    )
    active = sample("voicepay_active_calls")
    events.emit("turn_metrics", role="user", transcription_delay=0.2, speaking_s=1.5)
    events.emit("turn_metrics", role="assistant", e2e_latency=0.9, tts_node_ttfb=0.3)
    assert sample("voicepay_stt_delay_seconds_count") == stt + 1
    assert sample("voicepay_tts_ttfb_seconds_count") == tts + 1
    assert sample("voicepay_turn_e2e_seconds_sum") == pytest.approx(e2e + 0.9)
    record = {"outcome": "not_paid", "contained": True, "stages": ["identified"], "duration_s": 3.0}
    events.emit("call_record", **record)
    events.emit("call_record", **record)
    assert sample("voicepay_active_calls") == active - 1


def test_latency_fields_keep_only_timings() -> None:
    report = {
        "started_speaking_at": 100.0,
        "stopped_speaking_at": 102.5,
        "llm_node_ttft": 0.12345,
        "e2e_latency": 0.8,
        "llm_metadata": {"model_name": "m"},
        "provider_request_ids": ["req_1"],
    }
    assert latency_fields(report) == {
        "llm_node_ttft": 0.1235,
        "e2e_latency": 0.8,
        "speaking_s": 2.5,
    }
    assert latency_fields({}) == {}


def test_labels_are_capped_and_never_carry_digits() -> None:
    assert bounded("test_outcome", "paid") == "paid"
    assert bounded("test_outcome", "40112233") == OTHER
    assert bounded("test_outcome", "Paid Now") == OTHER
    assert bounded("test_outcome", None) == "none"
    words = [f"word_{'x' * i}" for i in range(MAX_LABEL_VALUES + 5)]
    assert [bounded("test_capped", w) for w in words][-5:] == [OTHER] * 5
    assert bounded("test_capped", words[0]) == words[0], "a value already seen stays itself"


@given(st.text(max_size=80))
def test_any_text_becomes_a_safe_label(text: str) -> None:
    label = bounded("test_any_text", text)
    assert label == OTHER or label == "none" or label == text
    assert not any(ch.isdigit() for ch in label) and len(label) <= 64


_ONE_CALL = """
from agent.events import CallEvents
from voicepay.metrics import CallMetrics
events = CallEvents("call_in_a_job_process")
events.subscribe(CallMetrics())
events.emit("call_record", outcome="paid", contained=True, stages=["identified"], duration_s=2.0)
"""
_EXPOSE = """
import sys
from voicepay.metrics import render_latest
sys.stdout.write(render_latest().decode())
"""


def test_job_processes_metrics_are_summed_through_the_shared_directory(tmp_path: Path) -> None:
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(tmp_path)}
    for _ in range(2):
        subprocess.run([sys.executable, "-c", _ONE_CALL], env=env, check=True, timeout=60)
    shown = subprocess.run(
        [sys.executable, "-c", _EXPOSE], env=env, check=True, timeout=60, capture_output=True
    ).stdout.decode()
    samples = parse(shown)
    assert value(samples, "voicepay_calls_started_total") == 2
    assert value(samples, "voicepay_calls_ended_total", outcome="paid") == 2
    assert value(samples, "voicepay_call_duration_seconds_sum") == 4.0
