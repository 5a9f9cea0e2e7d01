"""Complete calls leave no card digit anywhere: LLM requests, history, logs, Redis and files."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
from redis.asyncio import Redis

from agent.runtime import open_services
from evals.leak_scan import CardSecrets, Leak, LeakScanner, iter_strings
from evals.scenario import Scenario, demo_scenarios, load_scenario
from evals.simulated_call import CallRun, run_scenario
from payment_tools.gateway import SandboxGateway
from voicepay.accounts import AccountRepository
from voicepay.fixtures import DEMO_ACCOUNTS
from voicepay.logging_setup import JsonFormatter, install_pii_filter
from voicepay.settings import Settings

CONTAINMENT_SCENARIOS = [
    "happy-path",
    "decline-then-retry",
    "wrong-digits",
    "speaks-card-number",
    "happy-path-fr",
]


class _Lines(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.lines: list[str] = []
        self.setFormatter(JsonFormatter())

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


@pytest.fixture
def every_log_line() -> Iterator[_Lines]:
    """Every log record of every logger, at DEBUG, through the production filter and formatter."""
    root = logging.getLogger()
    handler = _Lines()
    previous = root.level
    root.addHandler(handler)
    install_pii_filter()
    root.setLevel(logging.DEBUG)
    yield handler
    root.removeHandler(handler)
    root.setLevel(previous)


def _file_names(root: Path) -> set[str]:
    return {p.name for p in root.rglob("*") if p.is_file()}


async def run_call(redis: Redis, name: str, out_dir: Path) -> tuple[Scenario, CallRun]:
    settings = Settings()
    scenario = load_scenario(demo_scenarios()[name])
    await AccountRepository(redis, settings.auth.pepper).load_fixture(DEMO_ACCOUNTS)
    async with open_services(
        settings, redis, outbox_dir=out_dir / "outbox", gateway=SandboxGateway()
    ) as services:
        run = await run_scenario(services, scenario, out_dir=out_dir)
    return scenario, run


@pytest.mark.parametrize("name", CONTAINMENT_SCENARIOS)
async def test_a_complete_call_leaks_no_card_data(
    name: str, redis: Redis, tmp_path: Path, every_log_line: _Lines
) -> None:
    scenario, run = await run_call(redis, name, tmp_path)
    secrets = CardSecrets.from_scenario(scenario)
    assert secrets.numbers and secrets.expiries and secrets.security_codes
    scanner = LeakScanner(secrets)

    requests = [e.data for e in run.events if e.kind == "llm_request"]
    assert requests, "the LLM was never called"
    leaks: list[Leak] = []
    leaks += scanner.scan_json("llm_requests(memory)", requests)
    leaks += scanner.scan_many("chat_history", iter_strings(run.history.to_dict()))
    leaks += scanner.scan_json("events(memory)", [e.to_json() for e in run.events])
    leaks += scanner.scan_many("logs", every_log_line.lines)
    leaks += await scanner.scan_redis(redis)
    leaks += scanner.scan_files(tmp_path)
    assert leaks == []

    written = _file_names(tmp_path)
    assert {"call.json", "transcript.jsonl", "events.jsonl", "llm_requests.jsonl"} <= written
    assert every_log_line.lines, "no log line was captured: the scan would prove nothing"
    assert await redis.dbsize() > 0


async def test_the_calls_still_pay_and_the_spoken_card_never_reaches_the_model(
    redis: Redis, tmp_path: Path
) -> None:
    _, run = await run_call(redis, "speaks-card-number", tmp_path)
    assert run.summary["outcome"] == "paid"
    sent = json.dumps([e.data for e in run.events if e.kind == "llm_request"])
    assert "[card data removed]" in sent
    assert any(e.kind == "card_data_redacted" for e in run.events)


def test_the_scanner_finds_each_form_of_leak() -> None:
    scanner = LeakScanner(
        CardSecrets(
            numbers=frozenset({"4242424242424242"}),
            expiries=frozenset({"0931"}),
            security_codes=frozenset({"739"}),
        )
    )
    assert {leak.kind for leak in scanner.scan_text("t", "card 4242 4242 4242 4242")} == {
        "card_number",
        "luhn_run",
    }
    assert scanner.scan_text("t", "digits 42424242 only")[0].kind == "card_number"
    assert scanner.scan_text("t", "four two four two four two four two")[0].kind == "card_number"
    assert scanner.scan_text("t", "expires 09/31")[0].kind == "expiry"
    assert scanner.scan_text("t", "expires 09/2031")[0].kind == "expiry"
    assert scanner.scan_text("t", "code 739.")[0].kind == "security_code"
    assert scanner.scan_json("j", {"cvc": 739})[0].kind == "security_code"
    assert scanner.scan_text("t", "5555555555554444")[0].kind == "luhn_run"
    assert scanner.scan_json("j", {"at_ms": 739, "ts": "2026-11-27T13:25:43.739+00:00"}) == []
    assert scanner.scan_text("t", "card ending in 4242, xxxxxxxxxxxx4242, $12.50") == []
