from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
import redis

from voicepay import redis_server
from voicepay.redis_client import connect, make_key, redis_for
from voicepay.redis_server import LocalRedisServer, RedisServerError, RedisServerNotFoundError
from voicepay.settings import Settings


def _client(server: LocalRedisServer) -> redis.Redis:
    return redis.Redis.from_url(server.url, decode_responses=True)


def test_serves_on_a_private_socket_and_cleans_up() -> None:
    with LocalRedisServer() as server:
        assert server.url == f"unix://{server.socket_path}"
        directory = server.socket_path.parent
        client = _client(server)
        client.set("k", "v")
        assert client.get("k") == "v"
        assert client.config_get("port") == {"port": "0"}
        assert client.config_get("save") == {"save": ""}
        assert client.config_get("appendonly") == {"appendonly": "no"}
        client.close()
    assert not server.running
    assert not directory.exists()


def test_two_servers_are_independent() -> None:
    with LocalRedisServer() as first, LocalRedisServer() as second:
        assert first.url != second.url
        _client(first).set("k", "first")
        assert _client(second).get("k") is None


def test_restart_keeps_the_socket_path() -> None:
    with LocalRedisServer() as server:
        url = server.url
        client = _client(server)
        client.set("k", "v")
        server.restart()
        assert server.running
        assert server.url == url
        assert client.ping()
        assert client.get("k") is None  # no persistence: the data went with the old process
        client.close()


def test_stop_is_idempotent_and_url_is_gone() -> None:
    server = LocalRedisServer().start()
    server.stop()
    server.stop()
    with pytest.raises(RedisServerError):
        _ = server.url


def test_missing_binary_tells_how_to_fix(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("shutil.which", lambda name: None)
    monkeypatch.setattr(redis_server, "_SEARCH_DIRS", ())
    with pytest.raises(RedisServerNotFoundError) as info:
        LocalRedisServer().start()
    assert "apt-get install redis-server" in str(info.value)
    assert "VOICEPAY_REDIS_URL" in str(info.value)


def test_a_server_that_exits_is_reported(tmp_path: Path) -> None:
    fake = tmp_path / "redis-server"
    fake.write_text("#!/bin/sh\necho 'FATAL: bad config' >&2\nexit 1\n")
    fake.chmod(0o755)
    server = LocalRedisServer(executable=str(fake))
    with pytest.raises(RedisServerError, match="bad config"):
        server.start()
    assert not server.running


async def test_redis_for_without_url_runs_a_private_server_for_the_context() -> None:
    async with redis_for(Settings(redis_url=None)) as client:
        await client.set(make_key("probe"), "1")
        assert await client.get("voicepay:probe") == "1"  # replies are decoded to str
        socket_dir = Path(client.connection_pool.connection_kwargs["path"]).parent
    assert not await asyncio.to_thread(socket_dir.exists)


async def test_redis_for_uses_the_configured_url(redis_server: str) -> None:
    async with redis_for(Settings(redis_url=redis_server)) as client:
        assert await client.ping()
    assert redis.Redis.from_url(redis_server).ping()  # the shared server is left running


def test_make_key_refuses_empty_parts() -> None:
    assert make_key("account", "40112233") == "voicepay:account:40112233"
    with pytest.raises(ValueError):
        make_key("account", "")


async def test_connect_survives_a_server_restart() -> None:
    server = await asyncio.to_thread(LocalRedisServer().start)
    try:
        client = connect(server.url)
        await client.set("k", "v")
        await asyncio.to_thread(server.restart)
        assert await client.get("k") is None  # reconnected; the data went with the old process
        await client.aclose()
    finally:
        await asyncio.to_thread(server.stop)
