"""Server-side sessions, CSRF tokens and the per-username log-in limit, all in Redis.

The browser holds only a random session token. Redis holds the session under an HMAC of that
token, so someone who can read Redis still cannot present a valid cookie. Each session has its own
CSRF token (synchronizer pattern); the log-in form, which has no session yet, uses a signed
double-submit token instead.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time

from pydantic import BaseModel, ConfigDict
from redis.asyncio import Redis

from voicepay.redis_client import make_key


class Session(BaseModel):
    """A logged-in user's session."""

    model_config = ConfigDict(frozen=True)

    username: str
    csrf_token: str
    created_at: float


def tokens_match(expected: str, given: str | None) -> bool:
    """Constant-time comparison of a CSRF token with what the request sent."""
    return given is not None and hmac.compare_digest(expected.encode(), given.encode())


class SessionStore:
    """Creates, finds and ends sessions.

    Args:
        redis: an asyncio Redis client with decoded replies.
        secret: the key for session-token HMACs.
        idle_s: a session unused this long ends.
        max_s: a session ends this long after log-in, used or not.
    """

    def __init__(self, redis: Redis, secret: bytes, *, idle_s: int, max_s: int) -> None:
        self._redis = redis
        self._secret = secret
        self._idle_s = idle_s
        self._max_s = max_s

    async def create(self, username: str) -> tuple[str, Session]:
        """Start a session; returns the token for the cookie and the session."""
        token = secrets.token_urlsafe(32)
        session = Session(
            username=username, csrf_token=secrets.token_urlsafe(32), created_at=time.time()
        )
        await self._redis.set(self._key(token), session.model_dump_json(), ex=self._idle_s)
        return token, session

    async def load(self, token: str | None) -> Session | None:
        """The live session for a cookie token, its idle timer restarted; None if there is none."""
        if not token:
            return None
        key = self._key(token)
        raw = await self._redis.get(key)
        if raw is None:
            return None
        session = Session.model_validate_json(raw)
        if time.time() - session.created_at > self._max_s:
            await self._redis.delete(key)
            return None
        await self._redis.expire(key, self._idle_s)
        return session

    async def alive(self, token: str) -> bool:
        """Whether the session is still valid, without restarting its idle timer."""
        raw = await self._redis.get(self._key(token))
        if raw is None:
            return False
        return time.time() - Session.model_validate_json(raw).created_at <= self._max_s

    async def end(self, token: str | None) -> None:
        """End the session for a cookie token, if any."""
        if token:
            await self._redis.delete(self._key(token))

    def login_csrf_pair(self) -> tuple[str, str]:
        """A fresh (cookie nonce, form token) pair for the log-in form."""
        nonce = secrets.token_urlsafe(32)
        return nonce, self._sign("login-csrf", nonce)

    def login_csrf_valid(self, nonce: str | None, form_token: str | None) -> bool:
        """Whether the log-in form's token matches the nonce cookie."""
        return bool(nonce) and tokens_match(self._sign("login-csrf", nonce or ""), form_token)

    def _sign(self, purpose: str, value: str) -> str:
        message = f"{purpose}:{value}".encode()
        return _text(hmac.new(self._secret, message, hashlib.sha256).digest())

    def _key(self, token: str) -> str:
        return make_key("console", "session", self._sign("session", token))


class LoginLimiter:
    """Counts failed log-ins per username in a fixed window; too many locks the name out.

    Args:
        redis: an asyncio Redis client with decoded replies.
        max_failures: failures allowed per window.
        window_s: window length, from the first failure.
    """

    def __init__(self, redis: Redis, *, max_failures: int, window_s: int) -> None:
        self._redis = redis
        self._max_failures = max_failures
        self._window_s = window_s

    async def locked(self, username: str) -> bool:
        """Whether ``username`` has used up its attempts for now."""
        count = await self._redis.get(self._key(username))
        return count is not None and int(count) >= self._max_failures

    async def failed(self, username: str) -> None:
        """Count a failed attempt."""
        key = self._key(username)
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.incr(key)
            pipe.expire(key, self._window_s, nx=True)
            await pipe.execute()

    async def succeeded(self, username: str) -> None:
        """Forget the failures after a successful log-in."""
        await self._redis.delete(self._key(username))

    @staticmethod
    def _key(username: str) -> str:
        # Hashed: attempted names may be anything, including things that are not usernames.
        digest = hashlib.sha256(username.strip().lower().encode()).digest()
        return make_key("console", "login-failures", _text(digest))


def _text(digest: bytes) -> str:
    # Base64 rather than hex: hex can show long decimal runs that card-data scanners flag.
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")
