"""One-time security codes sent by text message to the account's phone, as a step-up factor.

A code is six random digits, valid for one call and a few minutes. Only a keyed hash of it is kept
in Redis (the code itself exists in the text message and nowhere else), it is single use, and an
account gets a limited number of codes per hour so that a caller cannot make its holder's phone
ring all day.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from enum import StrEnum

from redis.asyncio import Redis

from voicepay.sms import SmsError, SmsMessage, SmsSender

CODE_DIGITS = 6
_CODE_KEY = "voicepay:otp:{call_id}"
_RATE_KEY = "voicepay:otp-sent:{account}"
_TEXT = {
    "en": (
        "{merchant}: your security code is {code}. It expires in {minutes} minutes. "
        "Type it on your phone keypad during the call; never tell it to anyone."
    ),
    "fr": (
        "{merchant} : votre code de sécurité est {code}. Il expire dans {minutes} minutes. "
        "Tapez-le sur le clavier pendant l'appel ; ne le communiquez à personne."
    ),
}


class CodeSent(StrEnum):
    """Whether a code reached the caller's phone."""

    SENT = "sent"
    RATE_LIMITED = "rate_limited"
    SEND_FAILED = "send_failed"


class OneTimeCodes:
    """Issues and checks one-time codes.

    Args:
        redis: where hashed codes and send counters live.
        sender: delivers the text message.
        pepper: the secret keying the stored hashes.
        ttl_s: how long a code is valid.
        per_hour: codes an account may be sent per hour.
    """

    def __init__(
        self, redis: Redis, sender: SmsSender, pepper: bytes, *, ttl_s: int, per_hour: int
    ) -> None:
        self._redis = redis
        self.sender = sender
        self._pepper = pepper
        self._ttl_s = ttl_s
        self._per_hour = per_hour

    def _digest(self, call_id: str, code: str) -> str:
        return hmac.new(self._pepper, f"{call_id}:{code}".encode(), hashlib.sha256).hexdigest()

    async def send(
        self, *, call_id: str, account: str, phone: str, language: str, merchant: str
    ) -> CodeSent:
        """Send a fresh code for this call to ``phone``, replacing any earlier one."""
        rate_key = _RATE_KEY.format(account=account)
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.incr(rate_key)
            pipe.expire(rate_key, 3600, nx=True)
            sent, _ = await pipe.execute()
        if int(sent) > self._per_hour:
            return CodeSent.RATE_LIMITED
        code = f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"
        await self._redis.set(
            _CODE_KEY.format(call_id=call_id), self._digest(call_id, code), ex=self._ttl_s
        )
        body = _TEXT.get(language, _TEXT["en"]).format(
            merchant=merchant, code=code, minutes=max(1, self._ttl_s // 60)
        )
        try:
            await self.sender.send(SmsMessage(to=phone, body=body, purpose="one_time_code"))
        except SmsError:
            await self._redis.delete(_CODE_KEY.format(call_id=call_id))
            return CodeSent.SEND_FAILED
        return CodeSent.SENT

    async def check(self, call_id: str, entry: str) -> bool:
        """Whether ``entry`` is this call's live code; a matching code is used up."""
        key = _CODE_KEY.format(call_id=call_id)
        stored = await self._redis.get(key)
        if stored is None:
            return False
        expected = stored.decode() if isinstance(stored, bytes) else str(stored)
        if not hmac.compare_digest(expected, self._digest(call_id, entry)):
            return False
        return bool(await self._redis.delete(key))
