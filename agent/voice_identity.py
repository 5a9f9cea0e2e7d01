"""The caller's voice on a call: their speech so far, and voice authentication loaded on demand.

:class:`CallerAudio` keeps what the caller said outside keypad entry (never card digits typed or
spoken while the keypad is in use), so that verification can run passively on their first
seconds of speech and a liveness answer can be cut out of it. :class:`VoiceAuth` loads the speaker
model only when an account with a voiceprint calls, so calls without one never pay for it.
"""

from __future__ import annotations

import asyncio
import functools
import random
from typing import TYPE_CHECKING, Literal

import numpy as np
import numpy.typing as npt
from redis.asyncio import Redis

from agent.lockout import AuthLockout
from voice_auth.config import VoiceAuthSettings, voiceprint_redis_key

if TYPE_CHECKING:
    from voice_auth.service import VoiceAuthenticator

Samples = npt.NDArray[np.float32]
_DECLINED_KEY = "voicepay:voice-enrolment-declined:{account}"
DECLINE_MEMORY_S = 90 * 24 * 3600
"""A holder who turns voice ID down is not asked again for this long."""


class CallerAudio:
    """The caller's speech, as mono float32 at one sample rate.

    Args:
        sample_rate: the rate every clip is converted to.
    """

    def __init__(self, sample_rate: int = 16000) -> None:
        self.sample_rate = sample_rate
        self._chunks: list[Samples] = []
        self._length = 0

    def add(self, samples: Samples, sample_rate: int) -> None:
        """Append speech heard from the caller."""
        if sample_rate != self.sample_rate:
            from voice_auth.audio import resample

            samples = resample(samples, sample_rate, self.sample_rate)
        self._chunks.append(np.asarray(samples, dtype=np.float32))
        self._length += len(samples)

    @property
    def mark(self) -> int:
        """A position in the speech, to take only what comes after it."""
        return self._length

    @property
    def seconds(self) -> float:
        """How much speech there is."""
        return self._length / self.sample_rate

    def since(self, mark: int = 0) -> Samples:
        """The speech after ``mark``."""
        if not self._chunks:
            return np.zeros(0, dtype=np.float32)
        return np.concatenate(self._chunks)[mark:]


class VoiceAuth:
    """Voice authentication for the calls of one process, with the model loaded on first use.

    Args:
        settings: voice authentication settings.
        environment: the deployment environment (the voiceprint key is required outside dev).
        redis: where voiceprints live.
        lockout: the per-account failure counter shared with the knowledge factor.
        rng: the source of liveness challenges (seeded only in simulations).
    """

    def __init__(
        self,
        settings: VoiceAuthSettings,
        environment: Literal["dev", "test", "prod"],
        redis: Redis,
        lockout: AuthLockout,
        *,
        rng: random.Random | None = None,
    ) -> None:
        self._rng = rng
        self._settings = settings
        self._environment = environment
        self._redis = redis
        self._lockout = lockout
        self._service: VoiceAuthenticator | None = None
        self._loading = asyncio.Lock()

    async def enrolled(self, account: str) -> bool:
        """Whether the account has a voiceprint (checked without loading the model)."""
        return bool(await self._redis.exists(voiceprint_redis_key(account)))

    async def enrolment_declined(self, account: str) -> bool:
        """Whether the holder turned voice ID down recently (they are not asked again)."""
        return bool(await self._redis.exists(_DECLINED_KEY.format(account=account)))

    async def remember_declined(self, account: str) -> None:
        """Note that the holder turned voice ID down, for :data:`DECLINE_MEMORY_S`."""
        await self._redis.set(_DECLINED_KEY.format(account=account), "1", ex=DECLINE_MEMORY_S)

    async def service(self) -> VoiceAuthenticator:
        """The authenticator, loading the speaker model in a thread the first time."""
        async with self._loading:
            if self._service is None:
                from voice_auth.service import VoiceAuthenticator

                self._service = await asyncio.to_thread(
                    functools.partial(
                        VoiceAuthenticator.from_settings,
                        self._settings,
                        self._environment,
                        self._redis,
                        self._lockout,
                        rng=self._rng,
                    )
                )
        return self._service
