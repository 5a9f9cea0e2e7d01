"""Where a transferred caller waits for a person, and how the bot learns that one took the call."""

from __future__ import annotations

import asyncio
from typing import Protocol

from redis.asyncio import Redis

from voicepay.console.transfers import ref_of, state_key

_POLL_S = 0.25
CALLBACK_CLAIMANT = "voicepay:callback"
"""Who holds a transfer nobody accepted in time: the call-back queue."""


class HumanDesk(Protocol):
    """The people who take transferred calls."""

    async def wait_for_agent(self, queue: str, entry_id: str, timeout_s: float) -> str | None:
        """The name of the person who accepted the hand-off, or ``None`` when nobody did."""


class ConsoleDesk:
    """Human agents working in the VoicePay console: acceptance is recorded in Redis.

    Args:
        redis: the Redis the console uses.
    """

    def __init__(self, redis: Redis) -> None:
        self._redis = redis

    async def wait_for_agent(self, queue: str, entry_id: str, timeout_s: float) -> str | None:
        """Poll the transfer's console state until someone accepts it or time runs out.

        On time-out the bot claims the transfer itself (the same write a person's accept makes),
        so that nobody can accept a call whose caller was already promised a call-back; if a
        person's accept landed first, they have the call.
        """
        key = state_key(queue, ref_of(entry_id))
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout_s
        while True:
            agent = await self._redis.hget(key, "agent")
            if agent:
                return str(agent)
            if loop.time() >= deadline:
                if await self._redis.hsetnx(key, "agent", CALLBACK_CLAIMANT):
                    return None
                return str(await self._redis.hget(key, "agent"))
            await asyncio.sleep(min(_POLL_S, max(0.0, deadline - loop.time())))


class SimulatedDesk:
    """A desk for simulated calls: a person accepts after a delay, or nobody ever does.

    Args:
        accepts: whether anybody takes the call.
        after_s: how long the person takes to accept.
    """

    def __init__(self, *, accepts: bool = True, after_s: float = 0.1) -> None:
        self._accepts = accepts
        self._after_s = after_s

    async def wait_for_agent(self, queue: str, entry_id: str, timeout_s: float) -> str | None:
        """Wait like the caller would, then answer as configured."""
        if not self._accepts or self._after_s > timeout_s:
            await asyncio.sleep(timeout_s)
            return None
        await asyncio.sleep(self._after_s)
        return "simulated-agent"
