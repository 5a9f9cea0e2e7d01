"""Tools that find the caller's account and verify who they are."""

from __future__ import annotations

from livekit.agents import RunContext, function_tool

from agent.call_context import CallContext
from agent.keypad_entry import read_keypad_entry
from agent.nlu import parse_account_number
from agent.tool_reply import tool_reply
from agent.tools._voice_check import VoiceResult, check_voice
from agent.workflow import AuthStatus, CallState, Step
from payment_tools.capture import CallerHungUp, KeypadCancelled

_FACTOR_DIGITS = {"dob": 8, "postcode": 10}


@function_tool
async def identify_account(context: RunContext[CallContext], account_number: str) -> str:
    """Look up the caller's account by the account number they gave.

    Call this when the caller says their account number. Do not call it for anything else.

    Args:
        account_number: the account number exactly as the caller said it (digits or words).
    """
    call = context.userdata
    limit = call.settings.auth.identify_max_attempts
    state = await call.state()
    if not state.can_identify(limit):
        return tool_reply("not_expected", next_action=f"the call is at step {state.step.value}")
    number = parse_account_number(account_number, call.language)
    account = await call.services.accounts.get(number) if number else None
    if account is None:
        _, exhausted = await call.update(lambda s: s.identify_failed(limit))
        if exhausted:
            return tool_reply(
                "too_many_attempts",
                say=call.prompts.text("identify.too_many"),
                next_action="call transfer_to_human with reason identification_failed",
            )
        return tool_reply(
            "not_found",
            say=call.prompts.text("identify.not_found"),
            next_action="ask for the account number again",
        )
    await call.update(lambda s: s.identify(account.number, account.currency))
    call.events.emit("account_identified", account=account.number)
    return tool_reply(
        "found",
        say=call.prompts.text("auth.intro"),
        next_action="call verify_identity now",
    )


@function_tool
async def verify_identity(context: RunContext[CallContext]) -> str:
    """Verify the caller's identity: by their voice if enrolled, else a keypad security answer.

    Call this right after identify_account finds the account. It takes no arguments: the voice
    check and the keypad entry are done in code, and you never see them. Never ask for the
    answer aloud.
    """
    call = context.userdata
    if call.verifying.locked():
        return tool_reply("busy", next_action="the caller's identity check is already running")
    async with call.verifying:
        return await _verify(context, call)


async def _verify(context: RunContext[CallContext], call: CallContext) -> str:
    state = await call.state()
    number = state.account_number
    if state.step is not Step.AUTHENTICATE or number is None:
        return tool_reply("not_expected", next_action=f"the call is at step {state.step.value}")
    lockout = call.services.lockout
    if state.auth is AuthStatus.LOCKED:
        return _locked(call)
    if await lockout.is_locked(number):
        await call.update(lambda s: s.lock_out())
        return _locked(call)
    account = await call.services.accounts.get(number)
    if account is None:
        return tool_reply("not_expected", next_action="ask for the account number again")
    await context.wait_for_playout()
    voice = await check_voice(call, number)
    if voice is VoiceResult.VERIFIED_WITH_CHALLENGE:
        await call.update(lambda s: s.authenticated(voice.value))
        call.events.emit("auth", decision="accept", method=voice.value)
        return tool_reply(
            "verified", say=call.prompts.text("auth.ok"), next_action="call get_balance now"
        )
    if voice is VoiceResult.REJECTED:
        await call.update(lambda s: s.lock_out())
        call.events.emit("auth", decision="reject", method="voice")
        return _locked(call)
    kind = account.knowledge_factor.kind
    try:
        async with call.keypad_only() as keys:
            await call.say(call.prompts.text(f"auth.ask.{kind}"), in_context=False)
            entry = await read_keypad_entry(
                keys, max_digits=_FACTOR_DIGITS[kind], timeout_s=call.settings.capture.timeout_s
            )
    except CallerHungUp:
        await call.update(lambda s: s.end("caller_hung_up"))
        return tool_reply("caller_hung_up")
    except KeypadCancelled:
        return tool_reply("interrupted", transfer_reason=call.keypad_interrupt or "other")
    call.events.emit("keypad_entry", purpose="knowledge_factor", keys=len(entry or ""))
    if entry is None:
        # Nothing typed (silence, or a lone #): ask again; only a wrong answer counts as a failure.
        return tool_reply(
            "no_input",
            say=call.prompts.text("fallback.silence"),
            next_action="call verify_identity",
        )
    matched = await call.services.accounts.verify_knowledge_factor(number, entry)
    if matched:
        await lockout.clear(number)
        await call.update(lambda s: s.authenticated("knowledge_factor"))
        call.events.emit("auth", decision="accept", method="knowledge_factor")
        return tool_reply(
            "verified", say=call.prompts.text("auth.ok"), next_action="call get_balance now"
        )
    account_locked = await lockout.record_failure(number)
    limit = call.settings.auth.knowledge_max_attempts

    def fail(s: CallState) -> bool:
        if s.authentication_failed(limit):
            return True
        if account_locked:
            s.lock_out()
        return account_locked

    _, locked = await call.update(fail)
    call.events.emit("auth", decision="reject", method="knowledge_factor")
    if locked:
        return _locked(call)
    return tool_reply(
        "not_verified",
        say=call.prompts.text("auth.failed"),
        next_action="call verify_identity again",
    )


def _locked(call: CallContext) -> str:
    return tool_reply(
        "locked",
        say=call.prompts.text("auth.locked"),
        next_action="call transfer_to_human with reason authentication_failed",
    )
