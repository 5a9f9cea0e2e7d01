"""Full calls for the fault tests: the agent in text mode paying through the real Stripe client.

The processor is :class:`fault_processor.FaultyProcessor` over HTTP, so a call's charge goes
through ``confirm_and_charge``, the ``StripeGateway``, the Stripe SDK and its retries.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from pathlib import Path

from redis.asyncio import Redis
from stripe_server import NoBackoffClient

from agent.call_context import CallContext
from agent.human_desk import SimulatedDesk
from agent.runtime import open_call, open_services
from agent.text_call import TextCall
from evals.scenario import CallerTurn, KeysTurn, SayTurn, demo_scenarios, load_scenario
from payment_tools.gateway import StripeGateway
from voicepay.accounts import AccountRepository
from voicepay.fixtures import DEMO_ACCOUNTS
from voicepay.settings import LLMSettings, Settings

ACCOUNT = "50223344"
BALANCE_MINOR = 25999
HAPPY_PATH: Sequence[CallerTurn] = load_scenario(demo_scenarios()["happy-path"]).caller
CONFIRM_TURN = 6
"""The caller's "yes" to the read-back: the turn that charges."""


def settings() -> Settings:
    """Offline policy; nothing taken from the environment."""
    return Settings(_env_file=None, llm=LLMSettings(provider="offline"))


def with_card(number: str) -> list[CallerTurn]:
    """The happy path, paying with card ``number``."""
    return [
        KeysTurn(keys=f"{number}#", card="number") if index == 3 else turn
        for index, turn in enumerate(HAPPY_PATH)
    ]


@asynccontextmanager
async def agent_call(
    redis: Redis, processor_url: str, outbox: Path, *, timeout_s: float
) -> AsyncIterator[TextCall]:
    """A started call whose processor is at ``processor_url``; its services close on exit."""
    await AccountRepository(redis, settings().auth.pepper).load_fixture(DEMO_ACCOUNTS)
    http = NoBackoffClient(timeout_s=timeout_s)
    gateway = StripeGateway(api_key="sk_test_faults", api_base=processor_url, http_client=http)
    try:
        async with open_services(
            settings(), redis, outbox_dir=outbox, gateway=gateway, humans=SimulatedDesk()
        ) as services:
            call = await open_call(services, language="en")
            text_call = TextCall(call)
            await text_call.start()
            yield text_call
    finally:
        await http.aclose()


async def play(text_call: TextCall, turns: Sequence[CallerTurn]) -> None:
    """The caller's turns, until they run out or the call is over."""
    for turn in turns:
        if text_call.over:
            return
        if isinstance(turn, SayTurn):
            await text_call.say(turn.say)
        elif isinstance(turn, KeysTurn):
            await text_call.press(turn.keys)


def handoffs(call: CallContext) -> list[str]:
    """The reasons of the hand-offs the call queued."""
    return [str(e.data["reason"]) for e in call.events.history if e.kind == "handoff"]


def receipts(outbox: Path) -> int:
    """How many receipts were texted."""
    return len(list(outbox.glob("*.json")))


async def balance(redis: Redis) -> int:
    """The paying account's balance now."""
    account = await AccountRepository(redis, settings().auth.pepper).get(ACCOUNT)
    assert account is not None
    return account.balance_minor
