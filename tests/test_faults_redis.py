"""Redis restarts in the middle of a call: the call goes on, money and state stay exact.

Each call is the full agent in text mode (offline policy, the sandbox processor, whose ledger is
the money that moved) on a real ``redis-server`` that the test kills and starts again, keeping its
data (append-only file) or losing it. A short restart is ridden out by the client's reconnects;
a longer outage fails the turn, and the call picks up where it was once Redis is back.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from fault_calls import HAPPY_PATH, balance, play, receipts, settings
from fault_redis import RestartableRedis
from redis.asyncio import Redis

from agent.call_store import CallStateStore
from agent.human_desk import SimulatedDesk
from agent.runtime import open_call, open_services
from agent.text_call import TextCall
from agent.workflow import CallState, ChargeState, Step
from payment_tools.gateway import ChargeRequest, ChargeResult, SandboxGateway
from voicepay.accounts import AccountRepository
from voicepay.fixtures import DEMO_ACCOUNTS
from voicepay.redis_client import connect

CARD_NUMBER_TURN, CONFIRM_TURN = 3, 6
SHORT_OUTAGE_S = 0.5  # under the client's reconnect budget (1.6 s at least)
LONG_OUTAGE_S = 4.0  # over it (3.2 s at most)
STEPS = [
    Step.GREET, Step.IDENTIFY, Step.AUTHENTICATE, Step.BALANCE, Step.AMOUNT, Step.CAPTURE,
    Step.CONFIRM, Step.CHARGE, Step.RECEIPT, Step.END,
]  # fmt: skip


@pytest.fixture
def persistent() -> Iterator[RestartableRedis]:
    with RestartableRedis(persistent=True) as server:
        yield server


@pytest.fixture
def volatile() -> Iterator[RestartableRedis]:
    with RestartableRedis(persistent=False) as server:
        yield server


class Outage:
    """Kills Redis now and starts it again ``seconds`` later, in the background."""

    def __init__(self, server: RestartableRedis, seconds: float) -> None:
        self.server = server
        self.task = asyncio.ensure_future(self._run(seconds))

    async def _run(self, seconds: float) -> None:
        await asyncio.to_thread(self.server.stop)
        await asyncio.sleep(seconds)
        await asyncio.to_thread(self.server.start)

    async def over(self) -> None:
        """Wait until Redis answers again."""
        await self.task


class OutageDuringCharge(SandboxGateway):
    """The sandbox processor; Redis goes down while its first charge is in flight."""

    def __init__(self, server: RestartableRedis, seconds: float) -> None:
        super().__init__()
        self.server = server
        self.seconds = seconds
        self.outage: Outage | None = None

    async def charge(self, request: ChargeRequest) -> ChargeResult:
        if self.outage is None:
            self.outage = Outage(self.server, self.seconds)
            await asyncio.sleep(0.1)  # the charge is made while Redis is down
        return await super().charge(request)


@pytest.fixture
async def client(request: pytest.FixtureRequest) -> AsyncIterator[Redis]:
    server: RestartableRedis = request.getfixturevalue(request.param)
    redis = connect(server.url)
    await AccountRepository(redis, settings().auth.pepper).load_fixture(DEMO_ACCOUNTS)
    try:
        yield redis
    finally:
        await redis.aclose()


async def turn(text_call: TextCall, index: int) -> None:
    await play(text_call, [HAPPY_PATH[index]])


async def assert_paid_once(
    redis: Redis, gateway: SandboxGateway, outbox: Path, state: CallState
) -> None:
    """One charge, recorded as paid in the call, posted once to the account, one receipt."""
    assert [(e.amount_minor, e.currency) for e in gateway.ledger] == [(25999, "USD")]
    assert (state.outcome, state.charge_state) == ("paid", ChargeState.SUCCEEDED)
    assert state.payment_reference == gateway.ledger[0].reference
    assert (await balance(redis), receipts(outbox)) == (0, 1)
    stored = await CallStateStore(redis, ttl_s=60).load(state.call_id)
    assert stored == state
    # Every step was passed once, in order: no transition was lost or applied twice.
    steps = [t.source for t in state.transitions] + [state.step]
    assert len(steps) == len(set(steps))
    assert [step for step in steps if step in STEPS] == STEPS
    assert state.readback == 1 and state.declines == []


@pytest.mark.parametrize("client", ["persistent"], indirect=True)
@pytest.mark.parametrize(
    "at_turn",
    [1, CARD_NUMBER_TURN, CONFIRM_TURN, 7],
)
async def test_a_quick_restart_during_any_turn_goes_unnoticed(
    client: Redis, persistent: RestartableRedis, tmp_path: Path, at_turn: int
) -> None:
    gateway = SandboxGateway()
    async with open_services(
        settings(), client, outbox_dir=tmp_path, gateway=gateway, humans=SimulatedDesk()
    ) as services:
        call = await open_call(services, language="en")
        text_call = TextCall(call)
        await text_call.start()
        for index in range(len(HAPPY_PATH)):
            outage = Outage(persistent, SHORT_OUTAGE_S) if index == at_turn else None
            await turn(text_call, index)
            if outage is not None:
                await outage.over()
        state = await text_call.close(outcome="caller_hung_up")
    assert not [e for e in call.events.history if e.kind == "tool_call" and e.data["is_error"]]
    await assert_paid_once(client, gateway, tmp_path, state)


@pytest.mark.parametrize("client", ["persistent"], indirect=True)
@pytest.mark.parametrize("caller", ["repeats_yes", "hangs_up"])
async def test_a_long_outage_while_charging_loses_no_payment(
    client: Redis, persistent: RestartableRedis, tmp_path: Path, caller: str
) -> None:
    """The charge is made while Redis is down; the call can only record it once Redis is back.

    The caller either says yes again (the charge is retried with its key, in the call) or hangs
    up (the record is settled at hang-up: retried with its key, posted, receipt texted).
    """
    gateway = OutageDuringCharge(persistent, LONG_OUTAGE_S)
    async with open_services(
        settings(), client, outbox_dir=tmp_path, gateway=gateway, humans=SimulatedDesk()
    ) as services:
        call = await open_call(services, language="en")
        text_call = TextCall(call)
        await text_call.start()
        for index in range(CONFIRM_TURN + 1):
            await turn(text_call, index)
        assert gateway.outage is not None
        await gateway.outage.over()
        if caller == "repeats_yes":
            await turn(text_call, CONFIRM_TURN)
            await turn(text_call, CONFIRM_TURN + 1)
        state = await text_call.close(outcome="caller_hung_up")
    assert not [e for e in call.events.history if e.kind == "handoff"]
    await assert_paid_once(client, gateway, tmp_path, state)


@pytest.mark.parametrize("client", ["volatile"], indirect=True)
@pytest.mark.parametrize("before_turn", [CARD_NUMBER_TURN, CONFIRM_TURN])
async def test_a_restart_that_loses_the_call_state_restores_it_from_the_call(
    client: Redis,
    volatile: RestartableRedis,
    tmp_path: Path,
    before_turn: int,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Redis comes back empty between two turns; the process owning the call puts it back.

    The accounts are reloaded as operations would (they are the billing system's data); the call
    state (verification, amount, card token, read-back) exists only in the call's process.
    """
    gateway = SandboxGateway()
    async with open_services(
        settings(), client, outbox_dir=tmp_path, gateway=gateway, humans=SimulatedDesk()
    ) as services:
        call = await open_call(services, language="en")
        text_call = TextCall(call)
        await text_call.start()
        for index in range(len(HAPPY_PATH)):
            if index == before_turn:
                await asyncio.to_thread(volatile.restart)
                assert await client.dbsize() == 0
                await AccountRepository(client, settings().auth.pepper).load_fixture(DEMO_ACCOUNTS)
            with caplog.at_level(logging.WARNING, logger="agent.call_store"):
                await turn(text_call, index)
        state = await text_call.close(outcome="caller_hung_up")
    assert "call state missing from Redis; restored" in caplog.messages
    await assert_paid_once(client, gateway, tmp_path, state)
