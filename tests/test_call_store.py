"""Call states persist in the real Redis server with a TTL and atomic updates."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from redis.asyncio import Redis
from redis.typing import EncodableT, KeyT

from agent import call_store
from agent.call_store import CallNotFound, CallStateStore
from agent.workflow import CallState, Step, WorkflowViolation
from payment_tools.redaction import mask_card_numbers


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


class ResendingRedis(Redis):
    """Sends every script twice: Redis applied it, restarted before replying, and the client's
    retry sent it again."""

    async def evalsha(self, sha: str, numkeys: int, *keys_and_args: KeyT | EncodableT) -> Any:
        await super().evalsha(sha, numkeys, *keys_and_args)
        return await super().evalsha(sha, numkeys, *keys_and_args)


async def test_an_update_sent_again_after_its_reply_was_lost_applies_once(
    redis: Redis, redis_server: str
) -> None:
    resending = ResendingRedis.from_url(redis_server, decode_responses=True)
    store = CallStateStore(resending, ttl_s=120)
    try:
        await store.create(CallState(call_id="a4"))
        await store.update("a4", lambda s: s.start())
        state, _, stored = await store.update("a4", lambda s: s.identify_failed(1000))
        assert (state.identify_failures, state.version) == (1, 2)
        assert await store.raw("a4") == stored
    finally:
        await resending.aclose()


async def test_missing_call(redis: Redis) -> None:
    with pytest.raises(CallNotFound):
        await CallStateStore(redis, ttl_s=60).load("nope")


async def test_the_write_ids_kept_in_redis_never_join_into_a_card_like_number(
    redis: Redis, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Distinct ids whose digits would meet across a separator: ...424242|424242...
    ends = iter(
        f"{letter * 26}424242" if n % 2 else f"424242{letter * 26}"
        for n, letter in enumerate("abcdefghij")
    )
    monkeypatch.setattr(call_store, "random_hex", lambda n_bytes: next(ends))
    store = CallStateStore(redis, ttl_s=120)
    await store.create(CallState(call_id="ids"))
    for _ in range(6):
        await store.update("ids", lambda state: state.set_language("fr"))
    writes = str(await redis.get("voicepay:call:ids:writes"))
    assert writes.count("424242") == 6 and mask_card_numbers(writes) == writes
