"""Caller words and keys on their way in: redacted, screened, confirmations noted by code."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from redis.asyncio import Redis

from agent.call_context import CallContext
from agent.ingress import CallerIngress
from agent.runtime import open_call, open_services
from agent.workflow import AmountKind, CallState, CardOnCall
from voicepay.accounts import AccountRepository
from voicepay.fixtures import DEMO_ACCOUNTS
from voicepay.settings import Settings


@pytest.fixture
async def call(redis: Redis, tmp_path: Path) -> AsyncIterator[CallContext]:
    settings = Settings()
    await AccountRepository(redis, settings.auth.pepper).load_fixture(DEMO_ACCOUNTS)
    async with open_services(settings, redis, outbox_dir=tmp_path) as services:
        yield await open_call(services, language="en")


def to_readback(state: CallState) -> None:
    state.start()
    state.identify("50223344", "USD")
    state.authenticated("knowledge_factor")
    state.balance_told()
    state.set_amount(5000, AmountKind.FULL)
    state.card_captured(CardOnCall(brand="visa", last4="4242", token="pm"))
    state.read_back()


async def test_an_account_number_typed_at_the_start_reaches_the_model(call: CallContext) -> None:
    await call.update(lambda s: s.start())
    assert await CallerIngress(call).keypad_line("50223344") == "[keypad] 50223344"


async def test_digits_typed_out_of_turn_are_dropped_unseen(call: CallContext) -> None:
    def to_amount(state: CallState) -> None:
        state.start()
        state.identify("50223344", "USD")
        state.authenticated("knowledge_factor")
        state.balance_told()

    await call.update(to_amount)
    ingress = CallerIngress(call)
    assert await ingress.keypad_line("0931") is None
    assert await ingress.keypad_line("739") is None
    dropped = [e.data for e in call.events.history if e.kind == "keypad_line"]
    assert dropped == [{"keys": 4, "accepted": False}, {"keys": 3, "accepted": False}]


async def test_keypad_1_after_the_read_back_is_the_callers_yes(call: CallContext) -> None:
    await call.update(to_readback)
    assert await CallerIngress(call).keypad_line("1") == "[keypad] 1"
    state = await call.state()
    assert state.confirmed_readback == state.readback == 1


async def test_a_spoken_no_is_recorded_and_a_spoken_card_is_redacted(call: CallContext) -> None:
    await call.update(to_readback)
    ingress = CallerIngress(call)
    assert await ingress.accept("No, wait, use 4242 4242 4242 4242") == (
        "No, wait, use [card data removed]"
    )
    assert (await call.state()).confirmed_readback is None
    assert [e.data["answer"] for e in call.events.history if e.kind == "caller_confirmation"] == [
        "no"
    ]


async def test_asking_for_a_person_during_keypad_entry_calls_the_entry_off(
    call: CallContext,
) -> None:
    ingress = CallerIngress(call)
    async with call.keypad_only():
        assert await ingress.accept("what's the weather?") is None
        assert await ingress.accept("let me speak to an agent") is None
        assert call.keypad_interrupt == "caller_request"
    said = [e.data["text"] for e in call.events.history if e.kind == "agent_said"]
    assert said == [call.prompts.text("capture.speech_ignored")]
