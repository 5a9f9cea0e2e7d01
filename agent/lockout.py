"""Per-account lockout after repeated failed identity checks, shared by every call and worker."""

from __future__ import annotations

from redis.asyncio import Redis

_KEY = "voicepay:auth-failures:{account}"


class AuthLockout:
    """Counts failed identity checks per account in Redis, with expiry.

    Args:
        redis: an asyncio Redis client.
        max_failures: failures within the window that lock the account.
        window_s: how long failures are remembered (and the lock lasts).
    """

    def __init__(self, redis: Redis, *, max_failures: int, window_s: int) -> None:
        self._redis = redis
        self._max = max_failures
        self._window_s = window_s

    async def is_locked(self, account: str) -> bool:
        """Whether the account is locked out now."""
        count = await self._redis.get(_KEY.format(account=account))
        return count is not None and int(count) >= self._max

    async def record_failure(self, account: str) -> bool:
        """Count one failure; returns whether the account is now locked."""
        key = _KEY.format(account=account)
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.incr(key)
            pipe.expire(key, self._window_s, nx=True)
            count, _ = await pipe.execute()
        return int(count) >= self._max

    async def clear(self, account: str) -> None:
        """Forget the failures after a successful check."""
        await self._redis.delete(_KEY.format(account=account))
