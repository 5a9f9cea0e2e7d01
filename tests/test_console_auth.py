from __future__ import annotations

import time

import pytest
from argon2 import PasswordHasher
from pydantic import SecretStr
from redis.asyncio import Redis

from voicepay.console.config import (
    ConsoleConfig,
    ConsoleConfigError,
    password_hasher,
    session_secret,
)
from voicepay.console.sessions import LoginLimiter, Session, SessionStore
from voicepay.console.users import Role, UserError, UserStore

PASSWORD = "correct horse battery"
SECRET = b"k" * 32


async def all_values(redis: Redis) -> str:
    parts = []
    async for key in redis.scan_iter():
        kind = await redis.type(key)
        parts.append(key)
        if kind == "string":
            parts.append(str(await redis.get(key)))
        elif kind == "hash":
            parts.append(str(await redis.hgetall(key)))
        elif kind == "set":
            parts.append(str(await redis.smembers(key)))
    return " ".join(parts)


def fast_store(redis: Redis) -> UserStore:
    return UserStore(redis, PasswordHasher(time_cost=1, memory_cost=8192))


async def test_users_are_stored_with_argon2id_hashes_only(redis: Redis) -> None:
    store = UserStore(redis, password_hasher(ConsoleConfig()))
    user = await store.create("alice", PASSWORD, Role.AGENT, ["payments", "payments"])
    assert user.password_hash.startswith("$argon2id$v=19$m=65536,t=3,")
    assert user.queues == ["payments"]
    assert PASSWORD not in await all_values(redis)
    assert await store.get("alice") == user
    assert [u.username for u in await store.all()] == ["alice"]


async def test_a_username_is_one_person(redis: Redis) -> None:
    store = fast_store(redis)
    await store.create("alice", PASSWORD, Role.AGENT, [])
    with pytest.raises(UserError, match="already exists"):
        await store.create("alice", "another long password", Role.SUPERVISOR, [])
    stored = await store.get("alice")
    assert stored is not None and stored.role is Role.AGENT


@pytest.mark.parametrize(
    ("username", "password", "queues", "message"),
    [
        ("Alice", PASSWORD, [], "usernames"),
        ("a", PASSWORD, [], "usernames"),
        ("al ice", PASSWORD, [], "usernames"),
        ("alice", "short", [], "12 to 256"),
        ("alice", "x" * 257, [], "12 to 256"),
        ("alice", PASSWORD, ["Pay Ments"], "queue"),
    ],
)
async def test_invalid_users_are_refused(
    redis: Redis, username: str, password: str, queues: list[str], message: str
) -> None:
    with pytest.raises(UserError, match=message):
        await fast_store(redis).create(username, password, Role.AGENT, queues)
    assert await redis.dbsize() == 0


async def test_authenticate(redis: Redis) -> None:
    store = fast_store(redis)
    await store.create("alice", PASSWORD, Role.AGENT, [])
    user = await store.authenticate("alice", PASSWORD)
    assert user is not None and user.username == "alice"
    assert await store.authenticate("alice", PASSWORD + "!") is None
    assert await store.authenticate("bob", PASSWORD) is None
    assert await store.authenticate("../etc", PASSWORD) is None
    assert await store.authenticate("alice", "x" * 10_000) is None


async def test_outdated_hashes_are_upgraded_on_login(redis: Redis) -> None:
    await fast_store(redis).create("alice", PASSWORD, Role.AGENT, [])
    stronger = UserStore(redis, PasswordHasher(time_cost=2, memory_cost=8192))
    assert await stronger.authenticate("alice", PASSWORD) is not None
    upgraded = await stronger.get("alice")
    assert upgraded is not None and ",t=2," in upgraded.password_hash
    assert await stronger.authenticate("alice", PASSWORD) is not None


async def test_a_disabled_user_cannot_log_in(redis: Redis) -> None:
    store = fast_store(redis)
    user = await store.create("alice", PASSWORD, Role.AGENT, [])
    await redis.set(
        "voicepay:console:user:alice", user.model_copy(update={"disabled": True}).model_dump_json()
    )
    assert await store.authenticate("alice", PASSWORD) is None


async def test_sessions_live_under_an_hmac_of_the_cookie_token(redis: Redis) -> None:
    store = SessionStore(redis, SECRET, idle_s=60, max_s=3600)
    token, session = await store.create("alice")
    assert session.username == "alice" and len(session.csrf_token) >= 40
    keys = [key async for key in redis.scan_iter("voicepay:console:session:*")]
    assert len(keys) == 1 and token not in keys[0]
    assert 0 < await redis.ttl(keys[0]) <= 60
    assert await store.load(token) == session
    assert await store.alive(token) and not await store.alive("forged")
    other = SessionStore(redis, b"o" * 32, idle_s=60, max_s=3600)
    assert await other.load(token) is None
    assert await store.load(None) is None and await store.load("forged") is None
    await store.end(token)
    assert await store.load(token) is None


async def test_sessions_end_after_their_maximum_age(redis: Redis) -> None:
    store = SessionStore(redis, SECRET, idle_s=60, max_s=60)
    token, session = await store.create("alice")
    old = Session(username="alice", csrf_token=session.csrf_token, created_at=time.time() - 61)
    (key,) = [key async for key in redis.scan_iter("voicepay:console:session:*")]
    await redis.set(key, old.model_dump_json(), ex=60)
    assert not await store.alive(token)
    assert await store.load(token) is None
    assert await redis.exists(key) == 0


async def test_login_csrf_token_is_bound_to_its_cookie(redis: Redis) -> None:
    store = SessionStore(redis, SECRET, idle_s=60, max_s=60)
    nonce, token = store.login_csrf_pair()
    other_nonce, _ = store.login_csrf_pair()
    assert store.login_csrf_valid(nonce, token)
    assert not store.login_csrf_valid(other_nonce, token)
    assert not store.login_csrf_valid(nonce, None)
    assert not store.login_csrf_valid(None, token)
    assert not store.login_csrf_valid(nonce, token[:-1] + ("A" if token[-1] != "A" else "B"))


async def test_login_limiter_locks_a_username_after_max_failures(redis: Redis) -> None:
    limiter = LoginLimiter(redis, max_failures=3, window_s=60)
    for _ in range(3):
        assert not await limiter.locked("alice")
        await limiter.failed("alice")
    assert await limiter.locked("alice")
    assert await limiter.locked(" ALICE ")
    assert not await limiter.locked("bob")
    (key,) = [key async for key in redis.scan_iter("voicepay:console:login-failures:*")]
    assert "alice" not in key and 0 < await redis.ttl(key) <= 60
    await limiter.succeeded("alice")
    assert not await limiter.locked("alice")


def test_a_secret_key_is_required_outside_dev() -> None:
    with pytest.raises(ConsoleConfigError, match="must be set"):
        session_secret(ConsoleConfig(secret_key=None), "prod")
    with pytest.raises(ConsoleConfigError, match="at least 32"):
        session_secret(ConsoleConfig(secret_key=SecretStr("short")), "prod")
    strong = ConsoleConfig(secret_key=SecretStr("s" * 32))
    assert session_secret(strong, "prod") == b"s" * 32
    dev_one = session_secret(ConsoleConfig(secret_key=None), "dev")
    assert len(dev_one) == 32 and dev_one != session_secret(ConsoleConfig(secret_key=None), "dev")


def test_secret_key_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VOICEPAY_CONSOLE__SECRET_KEY", "e" * 40)
    assert session_secret(ConsoleConfig(), "test") == b"e" * 40
