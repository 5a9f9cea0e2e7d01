"""Complete calls end the way a caller would expect, in English and French."""

from __future__ import annotations

from pathlib import Path

from redis.asyncio import Redis

from agent.handoff import HandoffQueue
from agent.human_desk import SimulatedDesk
from agent.runtime import open_services
from evals.scenario import (
    HangUpTurn,
    KeysTurn,
    SayTurn,
    Scenario,
    SilenceTurn,
    demo_scenarios,
    load_scenario,
)
from evals.simulated_call import CallRun, run_scenario
from payment_tools.gateway import SandboxGateway
from prompts import PromptBook
from voicepay.accounts import AccountRepository
from voicepay.fixtures import DEMO_ACCOUNTS
from voicepay.settings import CaptureSettings, Settings


async def call(
    redis: Redis,
    scenario: Scenario | str,
    tmp_path: Path,
    *,
    settings: Settings | None = None,
    gateway: SandboxGateway | None = None,
) -> CallRun:
    settings = settings or Settings()
    if isinstance(scenario, str):
        scenario = load_scenario(demo_scenarios()[scenario])
    await AccountRepository(redis, settings.auth.pepper).load_fixture(DEMO_ACCOUNTS)
    async with open_services(
        settings,
        redis,
        outbox_dir=tmp_path / "outbox",
        gateway=gateway or SandboxGateway(),
        humans=SimulatedDesk(),
    ) as services:
        return await run_scenario(services, scenario, out_dir=tmp_path / "call")


def said(run: CallRun) -> list[str]:
    return [str(e.data["text"]) for e in run.events if e.kind == "agent_said"]


async def test_happy_path_pays_the_full_balance_once(redis: Redis, tmp_path: Path) -> None:
    gateway = SandboxGateway()
    run = await call(redis, "happy-path", tmp_path, gateway=gateway)
    assert run.summary["outcome"] == "paid"
    assert (run.summary["amount"], run.summary["currency"]) == ("259.99", "USD")
    assert run.summary["card"] == {"brand": "visa", "last4": "4242"}
    assert run.summary["auth"]["status"] == "verified"
    assert run.summary["confirmation_code"].startswith("VP-")
    assert [(e.amount_minor, e.currency) for e in gateway.ledger] == [(25999, "USD")]
    account = await AccountRepository(redis, Settings().auth.pepper).get("50223344")
    assert account is not None and account.balance_minor == 0
    receipts = list((tmp_path / "outbox").glob("*.json"))
    assert len(receipts) == 1
    assert "ending 4242" in receipts[0].read_text()
    assert any("$259.99" in line and "4242" in line for line in said(run))


async def test_a_declined_card_is_replaced_and_charged_once(redis: Redis, tmp_path: Path) -> None:
    gateway = SandboxGateway()
    run = await call(redis, "decline-then-retry", tmp_path, gateway=gateway)
    assert run.summary["outcome"] == "paid"
    assert run.summary["declines"] == [
        {"reason": "insufficient_funds", "brand": "visa", "last4": "9995"}
    ]
    assert run.summary["card"] == {"brand": "mastercard", "last4": "4444"}
    assert len(gateway.ledger) == 1
    assert any("available funds" in line for line in said(run))


async def test_mistyped_fields_are_announced_and_retried(redis: Redis, tmp_path: Path) -> None:
    run = await call(redis, "wrong-digits", tmp_path)
    assert run.summary["outcome"] == "paid"
    result = next(e for e in run.events if e.kind == "capture_result")
    assert result.data["errors"] == ["invalid-card-number", "invalid-date"]
    assert any("card number doesn't seem to be valid" in line for line in said(run))
    assert any("start the card number again" in line for line in said(run))


async def test_asking_for_a_person_queues_a_hand_off_with_a_summary(
    redis: Redis, tmp_path: Path
) -> None:
    run = await call(redis, "asks-for-human", tmp_path)
    assert run.summary["outcome"] == "transferred"
    assert run.summary["transfer_reason"] == "caller_request"
    [handoff] = await HandoffQueue(redis).pending("payments")
    assert handoff["reason"] == "caller_request"
    assert handoff["verified"] == "yes"
    assert "Account 50229911" in handoff["summary"]
    assert "real person" in handoff["summary"]


async def test_a_french_caller_pays_part_of_the_balance_in_french(
    redis: Redis, tmp_path: Path
) -> None:
    run = await call(redis, "happy-path-fr", tmp_path)
    assert run.summary["outcome"] == "paid"
    assert (run.summary["amount"], run.summary["currency"]) == ("50.00", "EUR")
    assert any("50,00 €" in line for line in said(run))
    assert any("Bonjour" in line for line in said(run))


async def test_three_wrong_security_answers_lock_the_account_across_calls(
    redis: Redis, tmp_path: Path
) -> None:
    wrong = Scenario(
        name="wrong-dob",
        caller=[
            SayTurn(say="My account number is 5 0 2 2 3 3 4 4."),
            KeysTurn(keys="01011990#"),
            KeysTurn(keys="02011990#"),
            KeysTurn(keys="03011990#"),
        ],
    )
    run = await call(redis, wrong, tmp_path / "first")
    assert run.summary["outcome"] == "transferred"
    assert run.summary["transfer_reason"] == "authentication_failed"
    assert run.summary["auth"]["status"] == "locked"
    right = Scenario(
        name="right-dob-too-late",
        caller=[SayTurn(say="Account 5 0 2 2 3 3 4 4."), KeysTurn(keys="04071990#")],
    )
    again = await call(redis, right, tmp_path / "second")
    assert again.summary["auth"]["status"] == "locked"
    assert again.summary["outcome"] == "transferred"
    locked = PromptBook.load("en").text("auth.locked")
    assert locked in said(run) and locked in said(again)


async def test_a_silent_caller_at_the_keypad_gets_timeouts_then_no_charge(
    redis: Redis, tmp_path: Path
) -> None:
    settings = Settings(capture=CaptureSettings(timeout_s=0.1))
    silent = Scenario(
        name="silent-at-keypad",
        caller=[
            SayTurn(say="Account 5 0 2 2 3 3 4 4."),
            KeysTurn(keys="04071990#"),
            SayTurn(say="The full balance."),
            SilenceTurn(silence=1.0),
        ],
    )
    gateway = SandboxGateway()
    run = await call(redis, silent, tmp_path, settings=settings, gateway=gateway)
    result = next(e for e in run.events if e.kind == "capture_result")
    assert result.data["status"] == "too-many-failed-attempts"
    assert result.data["errors"] == ["input-timeout"] * 3
    assert gateway.ledger == []
    assert run.summary["payment_reference"] is None


async def test_hanging_up_during_capture_ends_the_call_without_charge(
    redis: Redis, tmp_path: Path
) -> None:
    scenario = load_scenario(demo_scenarios()["happy-path"])
    cut = Scenario(
        name="hangs-up",
        caller=[*scenario.caller[:4], HangUpTurn(hangup=True)],
    )
    gateway = SandboxGateway()
    run = await call(redis, cut, tmp_path, gateway=gateway)
    assert run.summary["outcome"] == "caller_hung_up"
    assert gateway.ledger == []
