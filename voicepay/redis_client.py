"""Redis connections for VoicePay: one configured client factory and the offline fallback.

Every key VoicePay writes starts with :data:`KEY_PREFIX`, so a shared Redis can be inspected or
cleaned per application.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

from redis.asyncio import Redis
from redis.asyncio.client import Pipeline
from redis.asyncio.retry import Retry
from redis.backoff import EqualJitterBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import WatchError

from voicepay.redis_server import LocalRedisServer
from voicepay.settings import Settings

KEY_PREFIX = "voicepay:"
# Reconnect back-off: 0.1, 0.2, 0.4, then 0.5 s (each between half and all of it), 8 tries.
_RETRIES = 8
_RETRY_BASE_S = 0.05
_RETRY_CAP_S = 0.5


def make_key(*parts: str) -> str:
    """A VoicePay key: ``make_key("account", "40112233")`` is ``voicepay:account:40112233``."""
    if not parts or not all(parts):
        raise ValueError("a key needs at least one non-empty part")
    return KEY_PREFIX + ":".join(parts)


async def store_once(
    redis: Redis, key: str, write: Callable[[Pipeline], object], *, tries: int = 5
) -> bool:
    """Run ``write`` in one transaction unless ``key`` exists; returns whether it wrote.

    ``key`` is watched, so two writers racing to create it store it once.

    Raises:
        RuntimeError: ``key`` kept changing for ``tries`` attempts.
    """
    for _ in range(tries):
        async with redis.pipeline(transaction=True) as pipe:
            try:
                await pipe.watch(key)
                if await pipe.exists(key):
                    return False
                pipe.multi()  # type: ignore[no-untyped-call]  # redis-py leaves it unannotated
                write(pipe)
                await pipe.execute()
                return True
            except WatchError:
                continue
    raise RuntimeError(f"{key} kept changing while being created")


def connect(url: str) -> Redis:
    """An asyncio Redis client for ``url`` (``redis://``, ``rediss://`` or ``unix://``).

    Replies are decoded to ``str``; connects and commands time out instead of hanging a call, and
    a command that meets a dropped connection or a server that is down reconnects and is retried
    for 1.6 to 3.2 seconds, so a restarting server is ridden out. Timeouts are
    not retried: a hung server would hold the call for several timeouts.
    """
    return Redis.from_url(
        url,
        decode_responses=True,
        socket_connect_timeout=5.0,
        socket_timeout=5.0,
        health_check_interval=30,
        retry=Retry(
            EqualJitterBackoff(cap=_RETRY_CAP_S, base=_RETRY_BASE_S),
            _RETRIES,
            supported_errors=(RedisConnectionError,),
        ),
    )


@asynccontextmanager
async def redis_for(settings: Settings) -> AsyncIterator[Redis]:
    """A client for ``settings.redis_url``, or for a private server living as long as the context.

    The private server (``redis_url`` unset or empty, the offline default) starts empty and is
    removed on exit, data included.
    """
    if settings.redis_url:
        client = connect(settings.redis_url)
        try:
            yield client
        finally:
            await client.aclose()
        return
    server = LocalRedisServer()
    await asyncio.to_thread(server.start)
    try:
        client = connect(server.url)
        try:
            yield client
        finally:
            await client.aclose()
    finally:
        await asyncio.to_thread(server.stop)
