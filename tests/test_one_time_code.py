"""One-time codes by text message: single use, per call, short-lived, rate-limited, hashed."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

from redis.asyncio import Redis

from agent.one_time_code import CodeSent, OneTimeCodes
from voicepay.sms import OutboxSmsSender, SmsError, SmsMessage

PHONE = "+12025550142"


def _codes(redis: Redis, outbox: Path, *, ttl_s: int = 300, per_hour: int = 3) -> OneTimeCodes:
    return OneTimeCodes(redis, OutboxSmsSender(outbox), b"pepper", ttl_s=ttl_s, per_hour=per_hour)


async def _send(codes: OneTimeCodes, call_id: str = "call_1", account: str = "50223344") -> str:
    sent = await codes.send(
        call_id=call_id, account=account, phone=PHONE, language="en", merchant="VoicePay"
    )
    assert sent is CodeSent.SENT
    assert isinstance(codes.sender, OutboxSmsSender)
    body = codes.sender.messages(to=PHONE)[-1]["body"]
    found = re.search(r"\b\d{6}\b", body)
    assert found is not None
    return found.group()


async def test_the_code_texted_to_the_phone_passes_once(redis: Redis, tmp_path: Path) -> None:
    codes = _codes(redis, tmp_path)
    code = await _send(codes)
    assert await codes.check("call_1", code)
    assert not await codes.check("call_1", code), "a code is single use"


async def test_a_code_is_only_good_on_its_own_call(redis: Redis, tmp_path: Path) -> None:
    codes = _codes(redis, tmp_path)
    code = await _send(codes, call_id="call_1")
    assert not await codes.check("call_2", code)
    assert await codes.check("call_1", code)


async def test_a_new_code_replaces_the_old_one(redis: Redis, tmp_path: Path) -> None:
    codes = _codes(redis, tmp_path)
    first = await _send(codes)
    second = await _send(codes)
    if first != second:
        assert not await codes.check("call_1", first)
    assert await codes.check("call_1", second)


async def test_a_code_expires(redis: Redis, tmp_path: Path) -> None:
    codes = _codes(redis, tmp_path, ttl_s=1)
    code = await _send(codes)
    await asyncio.sleep(1.2)
    assert not await codes.check("call_1", code)


async def test_redis_keeps_only_a_keyed_hash(redis: Redis, tmp_path: Path) -> None:
    code = await _send(_codes(redis, tmp_path))
    stored = [await redis.get(key) for key in await redis.keys("voicepay:otp:*")]
    assert stored and all(code not in str(value) for value in stored)


async def test_an_account_gets_a_limited_number_of_codes_per_hour(
    redis: Redis, tmp_path: Path
) -> None:
    codes = _codes(redis, tmp_path, per_hour=2)
    await _send(codes, call_id="a")
    await _send(codes, call_id="b")
    limited = await codes.send(
        call_id="c", account="50223344", phone=PHONE, language="en", merchant="VoicePay"
    )
    assert limited is CodeSent.RATE_LIMITED
    assert isinstance(codes.sender, OutboxSmsSender) and len(codes.sender.messages()) == 2
    other = await codes.send(
        call_id="d", account="50229911", phone=PHONE, language="fr", merchant="VoicePay"
    )
    assert other is CodeSent.SENT
    assert "code de sécurité" in codes.sender.messages()[-1]["body"]


class _BrokenSender:
    async def send(self, message: SmsMessage) -> None:
        raise SmsError("Twilio unreachable")


async def test_a_code_that_could_not_be_sent_cannot_be_used(redis: Redis) -> None:
    codes = OneTimeCodes(redis, _BrokenSender(), b"pepper", ttl_s=300, per_hour=3)
    sent = await codes.send(
        call_id="call_1", account="50223344", phone=PHONE, language="en", merchant="VoicePay"
    )
    assert sent is CodeSent.SEND_FAILED
    assert not await redis.keys("voicepay:otp:call_1")


async def test_any_other_entry_fails_and_leaves_the_code_usable(
    redis: Redis, tmp_path: Path
) -> None:
    codes = _codes(redis, tmp_path)
    code = await _send(codes)
    near_misses = {
        code[:i] + digit + code[i + 1 :] for i in range(len(code)) for digit in "0123456789"
    } - {code}
    near_misses |= {code[:-1], code + "0", "0" + code, code[::-1] if code[::-1] != code else "", ""}
    for entry in sorted(near_misses):
        assert not await codes.check("call_1", entry), entry
    assert await codes.check("call_1", code)
