"""Shared fixtures: a real Redis for the whole session and a clean client per test."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator

import pytest
from redis.asyncio import Redis

from voicepay.redis_client import connect
from voicepay.redis_server import LocalRedisServer


@pytest.fixture(scope="session")
def redis_server() -> Iterator[str]:
    """URL of the test Redis: VOICEPAY_TEST_REDIS_URL, else a private redis-server."""
    url = os.environ.get("VOICEPAY_TEST_REDIS_URL")
    if url:
        yield url
        return
    with LocalRedisServer() as server:
        yield server.url


@pytest.fixture
async def redis(redis_server: str) -> AsyncIterator[Redis]:
    """An asyncio client on an empty database, emptied again afterwards."""
    client = connect(redis_server)
    await client.flushdb()
    try:
        yield client
    finally:
        await client.flushdb()
        await client.aclose()
