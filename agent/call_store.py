"""Redis persistence of :class:`~agent.workflow.CallState`, one JSON value per call with a TTL.

Updates are optimistic transactions (``WATCH``/``MULTI``): two workers touching the same call cannot
lose each other's transition, and a transition that raises leaves Redis untouched.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from redis.asyncio import Redis
from redis.exceptions import WatchError

from agent.workflow import CallState

T = TypeVar("T")

_KEY = "voicepay:call:{call_id}"
_MAX_RETRIES = 200


class CallNotFound(LookupError):
    """No state is stored for this call (never created, or expired)."""


class CallStateStore:
    """Loads and saves call states in Redis.

    Args:
        redis: an asyncio Redis client.
        ttl_s: how long a call's state is kept after its last change.
    """

    def __init__(self, redis: Redis, *, ttl_s: int) -> None:
        self._redis = redis
        self._ttl_s = ttl_s

    @staticmethod
    def key(call_id: str) -> str:
        """The Redis key of a call's state."""
        return _KEY.format(call_id=call_id)

    async def create(self, state: CallState) -> None:
        """Store a new call; refuses to overwrite an existing one."""
        created = await self._redis.set(
            self.key(state.call_id), state.model_dump_json(), ex=self._ttl_s, nx=True
        )
        if not created:
            raise ValueError("call already exists")

    async def load(self, call_id: str) -> CallState:
        """The stored state of a call."""
        raw = await self._redis.get(self.key(call_id))
        if raw is None:
            raise CallNotFound(call_id)
        return CallState.model_validate_json(raw)

    async def update(self, call_id: str, change: Callable[[CallState], T]) -> tuple[CallState, T]:
        """Apply ``change`` to the stored state atomically and return the new state and its result.

        ``change`` mutates the state it is given (a workflow transition); if it raises, nothing is
        written. It may run more than once when another writer races us, so it must be pure apart
        from mutating the state.
        """
        key = self.key(call_id)
        for _ in range(_MAX_RETRIES):
            async with self._redis.pipeline(transaction=True) as pipe:
                try:
                    await pipe.watch(key)
                    raw = await pipe.get(key)
                    if raw is None:
                        raise CallNotFound(call_id)
                    state = CallState.model_validate_json(raw)
                    result = change(state)
                    state.version += 1
                    pipe.multi()  # type: ignore[no-untyped-call]  # redis-py leaves it unannotated
                    pipe.set(key, state.model_dump_json(), ex=self._ttl_s)
                    await pipe.execute()
                    return state, result
                except WatchError:
                    continue
        raise RuntimeError("call state update kept conflicting")
