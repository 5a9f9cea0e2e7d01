"""Simulated callers for the load benchmark: happy-path calls with think time, every turn timed.

Each caller has its own account (a copy of the demo's Emily Carter under a new number), so that
concurrent calls never pay the same balance. A caller waits a jittered think time before each
turn, as a person does while listening and answering, and records each turn's overhead: the wall
time of ``TextCall.say``/``press`` minus the time inside the offline policy's ``_run`` (the
model), measured by :mod:`_voicepay_turns`' probe exactly as ``bench/turn_overhead.py`` does.
"""

from __future__ import annotations

import asyncio
import functools
import random
from dataclasses import dataclass, field

from _voicepay_turns import Probe, TimedPolicyLLM
from pydantic import SecretStr
from redis.asyncio import Redis

from agent.call_context import CallServices
from agent.runtime import open_call
from agent.text_call import TextCall
from evals.scenario import KeysTurn, SayTurn, Scenario, demo_scenarios, load_scenario
from voicepay.accounts import AccountFixture, AccountFixtureEntry, AccountRepository
from voicepay.fixtures import DEMO_ACCOUNTS

_TEMPLATE_NUMBER = "50223344"
_FIRST_NUMBER = 60_000_000


@dataclass
class LoadSample:
    """Every measured turn of one load level."""

    overhead_ms: list[float] = field(default_factory=list)
    calls: int = 0
    paid: int = 0


def account_number(caller: int) -> str:
    """The account number simulated caller ``caller`` pays."""
    return str(_FIRST_NUMBER + caller)


@functools.cache
def _template() -> AccountFixtureEntry:
    return next(
        entry
        for entry in AccountFixture.from_file(DEMO_ACCOUNTS).accounts
        if entry.number == _TEMPLATE_NUMBER
    )


@functools.cache
def _happy_path() -> Scenario:
    return load_scenario(demo_scenarios()["happy-path"])


async def reset_account(redis: Redis, pepper: SecretStr, caller: int) -> None:
    """(Re)create the caller's account owing the template's full balance, no payment applied."""
    repo = AccountRepository(redis, pepper)
    entry = _template().model_copy(update={"number": account_number(caller)})
    await repo.put(entry.to_account(pepper))
    await redis.delete(repo.payments_key(entry.number))


def caller_scenario(caller: int) -> Scenario:
    """The demo happy path, with the caller's own account number spoken digit by digit."""
    scenario = _happy_path()
    spoken = " ".join(account_number(caller))
    first = SayTurn(say=f"Hi, I'd like to pay my bill. My account number is {spoken}.")
    return scenario.model_copy(update={"caller": [first, *scenario.caller[1:]]})


async def play_call(
    services: CallServices, caller: int, think_s: float, rng: random.Random, sample: LoadSample
) -> None:
    """One happy-path call of ``caller``, each turn after a jittered think time."""
    call = await open_call(services, language="en")
    probe = Probe()
    text_call = TextCall(call, model=TimedPolicyLLM(call, probe))
    await text_call.start()
    for turn in caller_scenario(caller).caller:
        if text_call.over:
            break
        await asyncio.sleep(think_s * rng.uniform(0.5, 1.5))
        probe.reset()
        if isinstance(turn, SayTurn):
            await text_call.say(turn.say)
        elif isinstance(turn, KeysTurn):
            await text_call.press(turn.keys)
        sample.overhead_ms.append(probe.turn().overhead_ms)
    state = await text_call.close(outcome="caller_hung_up")
    sample.calls += 1
    sample.paid += state.outcome == "paid"


async def run_level(
    services: CallServices, redis: Redis, calls: int, *, rounds: int, think_s: float, seed: int
) -> LoadSample:
    """``calls`` callers at once, each making ``rounds`` calls back to back; starts staggered."""
    sample = LoadSample()

    async def caller(index: int) -> None:
        rng = random.Random(seed * 1_000_003 + index)
        await asyncio.sleep(rng.uniform(0, think_s))
        for _ in range(rounds):
            await reset_account(redis, services.settings.auth.pepper, index)
            await play_call(services, index, think_s, rng, sample)

    await asyncio.gather(*(caller(index) for index in range(calls)))
    return sample
