"""Console user accounts in Redis: one per person, argon2id password hashes, no defaults."""

from __future__ import annotations

import asyncio
import re
from datetime import UTC, datetime
from enum import StrEnum

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from pydantic import BaseModel, ConfigDict, Field
from redis.asyncio import Redis

from voicepay.redis_client import make_key

USERS_SET = make_key("console", "users")
MIN_PASSWORD_LENGTH = 12
MAX_PASSWORD_LENGTH = 256
_USERNAME = re.compile(r"^[a-z][a-z0-9._-]{1,31}$")
_QUEUE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")


class Role(StrEnum):
    """What a console user may see and do."""

    AGENT = "agent"
    SUPERVISOR = "supervisor"


class UserError(ValueError):
    """A user cannot be created as asked (bad name, weak password, already exists)."""


class User(BaseModel):
    """A console account as stored; ``password_hash`` never leaves this module's callers."""

    model_config = ConfigDict(frozen=True)

    username: str
    role: Role
    queues: list[str] = Field(default_factory=list)
    password_hash: str
    created_at: datetime
    disabled: bool = False

    def sees_queue(self, queue: str) -> bool:
        """Whether this user may see transfers waiting in ``queue``."""
        return self.role is Role.SUPERVISOR or queue in self.queues


def validate_username(username: str) -> str:
    """``username`` if it is 2-32 lowercase letters, digits, ``.``, ``_`` or ``-``.

    Raises:
        UserError: it is not.
    """
    if not _USERNAME.fullmatch(username):
        raise UserError(
            "usernames are 2-32 characters: lowercase letters, digits, '.', '_' or '-', "
            "starting with a letter"
        )
    return username


def validate_password(password: str) -> str:
    """``password`` if it is 12 to 256 characters long.

    Raises:
        UserError: it is not.
    """
    if not MIN_PASSWORD_LENGTH <= len(password) <= MAX_PASSWORD_LENGTH:
        raise UserError(
            f"passwords are {MIN_PASSWORD_LENGTH} to {MAX_PASSWORD_LENGTH} characters long"
        )
    return password


class UserStore:
    """Reads and writes console users.

    Args:
        redis: an asyncio Redis client with decoded replies.
        hasher: the argon2 hasher (argon2id with the library's defaults when omitted).
    """

    def __init__(self, redis: Redis, hasher: PasswordHasher | None = None) -> None:
        self._redis = redis
        self._hasher = hasher or PasswordHasher()
        self._dummy_hash: str | None = None

    async def create(self, username: str, password: str, role: Role, queues: list[str]) -> User:
        """Create a user; the username must be new.

        Raises:
            UserError: invalid username, password or queue name, or the username is taken.
        """
        validate_username(username)
        validate_password(password)
        for queue in queues:
            if not _QUEUE.fullmatch(queue):
                raise UserError(f"invalid queue name {queue!r}")
        password_hash = await asyncio.to_thread(self._hasher.hash, password)
        user = User(
            username=username,
            role=role,
            queues=sorted(set(queues)),
            password_hash=password_hash,
            created_at=datetime.now(UTC),
        )
        if not await self._redis.set(_key(username), user.model_dump_json(), nx=True):
            raise UserError(f"user {username!r} already exists")
        await self._redis.sadd(USERS_SET, username)
        return user

    async def get(self, username: str) -> User | None:
        """The user called ``username``, or None."""
        if not _USERNAME.fullmatch(username):
            return None
        raw = await self._redis.get(_key(username))
        return None if raw is None else User.model_validate_json(raw)

    async def all(self) -> list[User]:
        """Every user, by username."""
        names = sorted(str(name) for name in await self._redis.smembers(USERS_SET))
        users = [await self.get(name) for name in names]
        return [user for user in users if user is not None]

    async def authenticate(self, username: str, password: str) -> User | None:
        """The enabled user whose password this is, or None; rehashes outdated hashes."""
        user = await self.get(username) if len(password) <= MAX_PASSWORD_LENGTH else None
        stored = user.password_hash if user is not None else await self._dummy()
        try:
            await asyncio.to_thread(self._hasher.verify, stored, password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return None
        if user is None or user.disabled:
            return None
        if self._hasher.check_needs_rehash(user.password_hash):
            new_hash = await asyncio.to_thread(self._hasher.hash, password)
            user = user.model_copy(update={"password_hash": new_hash})
            await self._redis.set(_key(username), user.model_dump_json())
        return user

    async def _dummy(self) -> str:
        """A hash to verify unknown usernames against, so they take as long as known ones."""
        if self._dummy_hash is None:
            self._dummy_hash = await asyncio.to_thread(self._hasher.hash, "timing-equaliser")
        return self._dummy_hash


def _key(username: str) -> str:
    return make_key("console", "user", username)
