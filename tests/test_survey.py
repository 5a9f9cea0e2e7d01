"""The post-call survey: a paid caller may rate the call 1-5 on the keypad, or just hang up."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from redis.asyncio import Redis

from agent.human_desk import SimulatedDesk
from agent.runtime import open_services
from evals.scenario import DEMO_DIR, Scenario, load_scenario
from evals.simulated_call import CallRun, run_scenario
from voicepay.accounts import AccountRepository
from voicepay.fixtures import DEMO_ACCOUNTS
from voicepay.settings import Settings, SurveySettings

SURVEY = "how would you rate this call"


def _paid_call_then(*turns: dict[str, Any]) -> Scenario:
    happy = load_scenario(DEMO_DIR / "happy-path.yaml").model_dump(exclude_defaults=True)
    scripted = [turn for turn in happy["caller"] if turn != {"keys": "5"}]
    return Scenario.model_validate({**happy, "caller": [*scripted, *turns]})


async def _run(redis: Redis, scenario: Scenario, tmp_path: Path, **settings: Any) -> CallRun:
    config = Settings(**settings)
    await AccountRepository(redis, config.auth.pepper).load_fixture(DEMO_ACCOUNTS)
    desk = SimulatedDesk(accepts=True, after_s=0.1)
    async with open_services(
        config, redis, outbox_dir=tmp_path / "outbox", humans=desk
    ) as services:
        return await run_scenario(services, scenario, out_dir=tmp_path)


def _said(run: CallRun) -> str:
    return " ".join(str(e.data.get("text", "")) for e in run.events if e.kind == "agent_said")


def _scores(run: CallRun) -> list[Any]:
    return [e.data["score"] for e in run.events if e.kind == "survey"]


@pytest.mark.parametrize("key", ["1", "3", "5"])
async def test_the_rating_key_is_kept_with_the_call_record(
    redis: Redis, tmp_path: Path, key: str
) -> None:
    run = await _run(redis, _paid_call_then({"keys": key}), tmp_path)
    assert run.state.outcome == "paid"
    assert _scores(run) == [int(key)]
    (record,) = [e.data for e in run.events if e.kind == "call_record"]
    assert record["survey_score"] == int(key)
    said = _said(run)
    assert SURVEY in said and "Thank you for your feedback" in said
    assert said.index(SURVEY) < said.index("Goodbye")


@pytest.mark.parametrize(
    ("said", "score"), [("Five.", 5), ("I'd say four out of five", 4), ("Sorry, what?", None)]
)
async def test_the_caller_may_say_the_rating_and_talking_ends_the_wait(
    redis: Redis, tmp_path: Path, said: str, score: int | None
) -> None:
    run = await _run(redis, _paid_call_then({"say": said}), tmp_path)
    assert run.state.outcome == "paid" and _scores(run) == [score]
    survey_at = next(e.at_ms for e in run.events if e.kind == "survey")
    asked_at = next(e.at_ms for e in run.events if SURVEY in str(e.data.get("text", "")))
    assert survey_at - asked_at < 2000, "an answer that is not a rating must not be waited out"


async def test_another_key_is_no_rating_and_the_call_ends_normally(
    redis: Redis, tmp_path: Path
) -> None:
    run = await _run(redis, _paid_call_then({"keys": "9"}), tmp_path)
    assert run.state.outcome == "paid" and _scores(run) == [None]
    (record,) = [e.data for e in run.events if e.kind == "call_record"]
    assert record["survey_score"] is None
    assert "Goodbye" in _said(run) and "feedback" not in _said(run)


async def test_hanging_up_at_the_survey_keeps_the_payment(redis: Redis, tmp_path: Path) -> None:
    run = await _run(redis, _paid_call_then({"hangup": True}), tmp_path)
    assert run.state.outcome == "paid" and run.state.paid
    assert SURVEY in _said(run)
    assert "Goodbye" not in _said(run), "nobody is left to hear it"
    assert not _scores(run)


async def test_silence_at_the_survey_ends_the_call_after_the_wait(
    redis: Redis, tmp_path: Path
) -> None:
    scenario = _paid_call_then({"silence": 1.0})
    run = await _run(redis, scenario, tmp_path, survey=SurveySettings(wait_s=0.5))
    assert run.state.outcome == "paid" and _scores(run) == [None]
    assert "Goodbye" in _said(run)


async def test_no_survey_when_it_is_switched_off_or_nothing_was_paid(
    redis: Redis, tmp_path: Path
) -> None:
    off = await _run(
        redis, _paid_call_then(), tmp_path / "off", survey=SurveySettings(enabled=False)
    )
    assert off.state.outcome == "paid" and SURVEY not in _said(off)
    unpaid = load_scenario(DEMO_DIR / "asks-for-human.yaml")
    transferred = await _run(redis, unpaid, tmp_path / "unpaid")
    assert not transferred.state.paid and SURVEY not in _said(transferred)
