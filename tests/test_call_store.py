"""Call states persist in the real Redis server with a TTL and atomic updates."""

from __future__ import annotations

import asyncio

import pytest
from redis.asyncio import Redis

from agent.call_store import CallNotFound, CallStateStore
from agent.workflow import CallState, Step, WorkflowViolation


async def test_create_load_and_ttl(redis: Redis) -> None:
    store = CallStateStore(redis, ttl_s=120)
    await store.create(CallState(call_id="a1", language="fr"))
    loaded = await store.load("a1")
    assert loaded.language == "fr"
    assert 0 < await redis.ttl(CallStateStore.key("a1")) <= 120
    with pytest.raises(ValueError):
        await store.create(CallState(call_id="a1"))


async def test_refused_transition_writes_nothing(redis: Redis) -> None:
    store = CallStateStore(redis, ttl_s=120)
    await store.create(CallState(call_id="a2"))
    with pytest.raises(WorkflowViolation):
        await store.update("a2", lambda s: s.begin_charge())
    assert (await store.load("a2")).version == 0


async def test_concurrent_updates_are_not_lost(redis: Redis) -> None:
    store = CallStateStore(redis, ttl_s=120)
    await store.create(CallState(call_id="a3"))
    await store.update("a3", lambda s: s.start())

    def fail_identify(state: CallState) -> bool:
        return state.identify_failed(1000)

    await asyncio.gather(*(store.update("a3", fail_identify) for _ in range(25)))
    state = await store.load("a3")
    assert state.identify_failures == 25
    assert state.step is Step.IDENTIFY
    assert state.version == 26


async def test_missing_call(redis: Redis) -> None:
    with pytest.raises(CallNotFound):
        await CallStateStore(redis, ttl_s=60).load("nope")
