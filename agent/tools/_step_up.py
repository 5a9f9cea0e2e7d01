"""Keypad step-up factors: the account's knowledge factor and a one-time code sent by text.

Each factor is asked and checked in code; the LLM only learns whether the caller passed. A factor
that cannot be used on this call (no SMS service, too many codes sent) is reported as such, so
that the caller is offered a person instead of being told which check failed.
"""

from __future__ import annotations

from enum import StrEnum

from agent.call_context import CallContext
from agent.keypad_entry import read_keypad_entry
from agent.one_time_code import CODE_DIGITS, CodeSent
from voicepay.accounts import Account

_FACTOR_DIGITS = {"dob": 8, "postcode": 10}
CODE_FIRST_KEY_S = 45.0
"""Time to find the text message and start typing the code."""


class FactorResult(StrEnum):
    """How one keypad factor went."""

    PASSED = "passed"
    FAILED = "failed"
    NO_INPUT = "no_input"
    UNAVAILABLE = "unavailable"


async def ask_factor(call: CallContext, factor: str, account: Account) -> FactorResult:
    """Ask the caller for ``factor`` on the keypad and check it.

    Raises:
        CallerHungUp: The caller left during the entry.
        KeypadCancelled: The entry was called off (the caller asked for a person).
    """
    if factor == "sms_code":
        return await _one_time_code(call, account)
    return await _knowledge_factor(call, account)


async def _knowledge_factor(call: CallContext, account: Account) -> FactorResult:
    kind = account.knowledge_factor.kind
    async with call.keypad_only() as keys:
        await call.say(call.prompts.text(f"auth.ask.{kind}"), in_context=False)
        entry = await read_keypad_entry(
            keys, max_digits=_FACTOR_DIGITS[kind], timeout_s=call.settings.capture.timeout_s
        )
    call.events.emit("keypad_entry", purpose="knowledge_factor", keys=len(entry or ""))
    if entry is None:
        return FactorResult.NO_INPUT
    matched = await call.services.accounts.verify_knowledge_factor(account.number, entry)
    return FactorResult.PASSED if matched else FactorResult.FAILED


async def _one_time_code(call: CallContext, account: Account) -> FactorResult:
    codes = call.services.codes
    if codes is None:
        return FactorResult.UNAVAILABLE
    sent = await codes.send(
        call_id=call.call_id,
        account=account.number,
        phone=account.phone,
        language=call.language,
        merchant=call.settings.payments.merchant_name,
    )
    call.events.emit("one_time_code", sent=sent.value, phone_last2=account.phone[-2:])
    if sent is not CodeSent.SENT:
        return FactorResult.UNAVAILABLE
    async with call.keypad_only() as keys:
        await call.say(call.prompts.text("auth.ask.sms_code"), in_context=False)
        entry = await read_keypad_entry(
            keys,
            max_digits=CODE_DIGITS,
            timeout_s=call.settings.capture.timeout_s,
            first_key_s=CODE_FIRST_KEY_S,
        )
    call.events.emit("keypad_entry", purpose="one_time_code", keys=len(entry or ""))
    if entry is None:
        return FactorResult.NO_INPUT
    return FactorResult.PASSED if await codes.check(call.call_id, entry) else FactorResult.FAILED
