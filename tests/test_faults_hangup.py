"""The caller hangs up during the card capture or while the charge is at the processor.

The hang-up is what the worker does when the caller leaves: the keypad hears it, the session
closes (LiveKit lets a tool already running finish), then the call record is closed. What a
payments team expects: a charge the processor made is recorded as paid, posted to the account and
its receipt texted, exactly once; a decline is recorded as a decline; an outcome that still cannot
be learnt is queued for a person; and a capture cut short leaves no charge.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from fault_calls import (
    BALANCE_MINOR,
    CONFIRM_TURN,
    HAPPY_PATH,
    agent_call,
    balance,
    handoffs,
    play,
    receipts,
    with_card,
)
from fault_processor import DECLINING_PAN, Fault, FaultyProcessor
from redis.asyncio import Redis

from agent.call_end import close_call_record
from agent.text_call import TextCall
from agent.workflow import CallState, ChargeState, Step

TIMEOUT_S = 2.0


async def hang_up_as_the_worker_does(text_call: TextCall) -> CallState:
    """The caller leaves the room, as ``agent.worker`` sees it.

    The keypad hears it first (its room listener), then the session closes, then the call record
    is closed.
    """
    text_call.call.keypad.hang_up()
    await text_call.session.aclose()
    state = await close_call_record(text_call.call, "caller_hung_up")
    text_call.call.keypad.detach()
    return state


async def hang_up_while_charging(text_call: TextCall, processor: FaultyProcessor) -> CallState:
    """Say yes to the read-back and hang up once the charge request is at the processor."""
    processor.hold = True
    saying = asyncio.ensure_future(play(text_call, [HAPPY_PATH[CONFIRM_TURN]]))
    await asyncio.wait_for(processor.in_flight.wait(), 5)
    closing = asyncio.ensure_future(hang_up_as_the_worker_does(text_call))
    await asyncio.sleep(0.2)  # the caller is gone; the charge is still at the processor
    assert not closing.done()
    processor.hold = False
    processor.release.set()
    state = await closing
    saying.cancel()
    await asyncio.gather(saying, return_exceptions=True)
    return state


@pytest.mark.parametrize("when", ["number", "expiry", "security_code"])
async def test_hanging_up_during_capture_leaves_no_charge(
    redis: Redis, tmp_path: Path, when: str
) -> None:
    keys_typed = {"number": 3, "expiry": 4, "security_code": 5}[when]
    async with FaultyProcessor() as processor:
        async with agent_call(redis, processor.url, tmp_path, timeout_s=TIMEOUT_S) as text_call:
            await play(text_call, HAPPY_PATH[:keys_typed])
            assert text_call.call.keypad.waiting_for_key
            state = await hang_up_as_the_worker_does(text_call)
    assert (state.step, state.outcome) == (Step.END, "caller_hung_up")
    assert (state.charge_state, state.card, state.idempotency_key) == (ChargeState.NONE, None, None)
    assert processor.ledger == [] and processor.intent_requests == 0
    assert await balance(redis) == BALANCE_MINOR
    assert (handoffs(text_call.call), receipts(tmp_path)) == ([], 0)


async def test_a_charge_made_after_the_hang_up_is_recorded_posted_and_receipted(
    redis: Redis, tmp_path: Path
) -> None:
    async with FaultyProcessor() as processor:
        async with agent_call(redis, processor.url, tmp_path, timeout_s=TIMEOUT_S) as text_call:
            await play(text_call, HAPPY_PATH[:CONFIRM_TURN])
            state = await hang_up_while_charging(text_call, processor)
    (charge,) = processor.ledger
    assert (state.outcome, state.charge_state) == ("paid", ChargeState.SUCCEEDED)
    assert state.payment_reference == charge.intent_id
    assert charge.amount_minor == BALANCE_MINOR
    assert await balance(redis) == 0
    assert (handoffs(text_call.call), receipts(tmp_path)) == ([], 1)


async def test_a_decline_answered_after_the_hang_up_is_recorded_as_declined(
    redis: Redis, tmp_path: Path
) -> None:
    async with FaultyProcessor() as processor:
        async with agent_call(redis, processor.url, tmp_path, timeout_s=TIMEOUT_S) as text_call:
            await play(text_call, with_card(DECLINING_PAN)[:CONFIRM_TURN])
            state = await hang_up_while_charging(text_call, processor)
    assert processor.ledger == []
    assert (state.outcome, state.charge_state) == ("caller_hung_up", ChargeState.DECLINED)
    assert [d.reason for d in state.declines] == ["generic"]
    assert await balance(redis) == BALANCE_MINOR
    assert (handoffs(text_call.call), receipts(tmp_path)) == ([], 0)


async def test_a_charge_whose_outcome_stays_unknown_goes_to_a_person(
    redis: Redis, tmp_path: Path
) -> None:
    """The money moved, and every later answer is lost: only a person can reconcile it."""
    async with FaultyProcessor(lambda: Fault.ERROR_AFTER) as processor:
        async with agent_call(redis, processor.url, tmp_path, timeout_s=TIMEOUT_S) as text_call:
            await play(text_call, HAPPY_PATH[:CONFIRM_TURN])
            state = await hang_up_while_charging(text_call, processor)
    assert len(processor.ledger) == 1
    assert (state.step, state.charge_state) == (Step.END, ChargeState.PENDING)
    assert state.idempotency_key == processor.ledger[0].idempotency_key
    assert handoffs(text_call.call) == ["payment_unconfirmed"]
    assert await balance(redis) == BALANCE_MINOR
    assert receipts(tmp_path) == 0


async def test_hanging_up_after_paying_records_the_payment_and_texts_the_receipt(
    redis: Redis, tmp_path: Path
) -> None:
    """The caller heard the confirmation and left before answering the receipt offer."""
    async with FaultyProcessor() as processor:
        async with agent_call(redis, processor.url, tmp_path, timeout_s=TIMEOUT_S) as text_call:
            await play(text_call, HAPPY_PATH[: CONFIRM_TURN + 1])
            assert (await text_call.call.state()).step is Step.RECEIPT
            state = await hang_up_as_the_worker_does(text_call)
    assert len(processor.ledger) == 1
    assert (state.outcome, state.receipt_delivered) == ("paid", True)
    assert await balance(redis) == 0
    assert receipts(tmp_path) == 1
