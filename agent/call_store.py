"""Redis persistence of :class:`~agent.workflow.CallState`, one JSON value per call with a TTL.

Updates are optimistic: a compare-and-set on the state's version, so two writers touching the same
call cannot lose each other's transition, and a transition that raises leaves Redis untouched.
Each write carries an id, so a write the client re-sends after a dropped connection (the server
applied it, then restarted before replying) is recognised as done rather than as a conflict.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TypeVar

from redis.asyncio import Redis

from agent.workflow import CallState
from payment_tools.ids import random_hex

T = TypeVar("T")
logger = logging.getLogger(__name__)

_KEY = "voicepay:call:{call_id}"
_WRITES_KEY = "voicepay:call:{call_id}:writes"
_MAX_RETRIES = 200
_RECENT_WRITES = 16
# Writes ARGV[2] with TTL ARGV[3] only if the stored state's version is still ARGV[1], and notes
# the write's id ARGV[4] (32 hex digits) among the call's latest ids in KEYS[2], comma-separated
# (a space or a dash would join two ids' digits into one run, which card screens would flag).
# Returns 1 when written (or already written under this id), 0 when another writer changed the
# state, -1 when it is gone.
_COMPARE_AND_SET = """
local recent = redis.call('GET', KEYS[2]) or ''
if string.find(recent, ',' .. ARGV[4], 1, true) then return 1 end
local current = redis.call('GET', KEYS[1])
if not current then return -1 end
if cjson.decode(current)['version'] ~= tonumber(ARGV[1]) then return 0 end
redis.call('SET', KEYS[1], ARGV[2], 'EX', ARGV[3])
recent = string.sub(recent .. ',' .. ARGV[4], -33 * tonumber(ARGV[5]))
redis.call('SET', KEYS[2], recent, 'EX', ARGV[3])
return 1
"""


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
        self._compare_and_set = redis.register_script(_COMPARE_AND_SET)

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
        return CallState.model_validate_json(await self._get(call_id))

    async def raw(self, call_id: str) -> str:
        """The stored state of a call as JSON."""
        return await self._get(call_id)

    async def update(
        self,
        call_id: str,
        change: Callable[[CallState], T],
        *,
        known: str | None = None,
    ) -> tuple[CallState, T, str]:
        """Apply ``change`` to the stored state atomically and return the new state and its result.

        ``change`` mutates the state it is given (a workflow transition); if it raises, nothing is
        written. The write is a compare-and-set on the state's version in one round trip; when
        another writer got there first, the state is reloaded and ``change`` runs again, so it must
        be pure apart from mutating the state.

        Args:
            call_id: the call.
            change: the transition to apply.
            known: the JSON of the latest state the caller has, if any (saves a read). Passing
                it claims ownership of the call: should Redis have lost the call, it is restored.

        Returns:
            The new state, the transition's result, and the state's JSON as stored.
        """
        key = self.key(call_id)
        keys = [key, _WRITES_KEY.format(call_id=call_id)]
        raw = known if known is not None else await self._get(call_id)
        for _ in range(_MAX_RETRIES):
            state = CallState.model_validate_json(raw)
            expected = state.version
            result = change(state)
            state.version = expected + 1
            stored = state.model_dump_json()
            # The client re-sends a script whose reply a restart cut off; had it been applied, a
            # bare version check would take our own write for a rival's and run ``change`` again.
            write_id = random_hex(16)
            args: list[str | int] = [expected, stored, self._ttl_s, write_id, _RECENT_WRITES]
            written = await self._compare_and_set(keys=keys, args=args)
            if written == 1:
                return state, result, stored
            if written == -1:
                if known is None:
                    raise CallNotFound(call_id)
                # Redis lost the call (restarted without its data). The process owning the call
                # holds its latest state: put that back, so the call and its pending charge's
                # idempotency key survive, and apply the change to it.
                logger.warning("call state missing from Redis; restored", extra={"call": call_id})
                await self._redis.set(key, raw, ex=self._ttl_s, nx=True)
            raw = await self._get(call_id)
        raise RuntimeError("call state update kept conflicting")

    async def _get(self, call_id: str) -> str:
        raw = await self._redis.get(self.key(call_id))
        if raw is None:
            raise CallNotFound(call_id)
        return str(raw)
