"""The console's /metrics: Prometheus or a supervisor reads it, no one else."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
import redis
from argon2 import PasswordHasher
from pydantic import SecretStr
from starlette.testclient import TestClient

from voicepay.console import ConsoleConfig, create_app
from voicepay.console.transfers import handoff_stream
from voicepay.console.users import Role, UserStore
from voicepay.redis_client import connect

SECRET = b"s" * 32
TOKEN = "scrape-token-for-tests-only"
PASSWORD = "correct horse battery"
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def add_user(url: str, name: str, role: Role) -> None:
    async def create() -> None:
        client = connect(url)
        try:
            hasher = PasswordHasher(time_cost=1, memory_cost=8192)
            await UserStore(client, hasher).create(name, PASSWORD, role, ["payments"])
        finally:
            await client.aclose()

    asyncio.run(create())


@pytest.fixture
def db(redis_server: str) -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(redis_server, decode_responses=True)
    client.flushdb()
    yield client
    client.flushdb()
    client.close()


@pytest.fixture
def client(redis_server: str, db: redis.Redis) -> Iterator[TestClient]:
    config = ConsoleConfig(
        secure_cookies=False,
        password_time_cost=1,
        password_memory_kib=8192,
        metrics_token=SecretStr(TOKEN),
    )
    with TestClient(create_app(config, redis_server, SECRET), follow_redirects=False) as test:
        yield test


def queue_transfer(db: redis.Redis, queue: str) -> None:
    db.xadd(
        handoff_stream(queue),
        {
            "call_id": "call_1",
            "reason": "caller_request",
            "account": "40112233",
            "verified": "yes",
            "summary": "wants a person",
            "created_at": datetime.now(UTC).isoformat(),
        },
    )


def test_prometheus_with_the_token_sees_waiting_transfers_per_queue(
    client: TestClient, db: redis.Redis
) -> None:
    queue_transfer(db, "payments")
    queue_transfer(db, "payments")
    queue_transfer(db, "billing")
    response = client.get("/metrics", headers={"authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    text = response.text
    assert 'voicepay_handoff_waiting{queue="payments"} 2.0' in text
    assert 'voicepay_handoff_waiting{queue="billing"} 1.0' in text
    assert "voicepay_handoff_oldest_wait_seconds" in text
    assert "voicepay_calls_started_total" in text
    assert "40112233" not in text


def test_without_the_token_the_endpoint_is_a_login_page(client: TestClient) -> None:
    for headers in ({}, {"authorization": "Bearer wrong"}, {"authorization": TOKEN + "x"}):
        response = client.get("/metrics", headers=headers)
        assert response.status_code == 303
        assert response.headers["location"].startswith("/login")


def test_a_logged_in_supervisor_may_read_it_but_an_agent_may_not(
    client: TestClient, redis_server: str
) -> None:
    add_user(redis_server, "sam", Role.SUPERVISOR)
    add_user(redis_server, "alice", Role.AGENT)

    def login(name: str) -> None:
        page = client.get("/login")
        match = CSRF.search(page.text)
        assert match is not None
        form = {"csrf_token": match.group(1), "username": name, "password": PASSWORD}
        assert client.post("/login", data={**form, "next": ""}).status_code == 303

    login("alice")
    assert client.get("/metrics").status_code == 403
    client.cookies.clear()
    login("sam")
    assert client.get("/metrics").status_code == 200
