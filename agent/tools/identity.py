"""Tools that find the caller's account and verify who they are."""

from __future__ import annotations

from collections.abc import Sequence

from livekit.agents import RunContext, function_tool

from agent.call_context import CallContext
from agent.nlu import parse_account_number
from agent.tool_reply import tool_reply
from agent.tools._step_up import FactorResult, ask_factor
from agent.tools._voice_check import VoiceResult, check_voice
from agent.workflow import AuthStatus, CallState, Step
from payment_tools.capture import CallerHungUp, KeypadCancelled


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
    if call.voice_checked is None:
        call.voice_checked = (await check_voice(call, number)).value
    voice = VoiceResult(call.voice_checked)
    if voice is VoiceResult.VERIFIED_WITH_CHALLENGE:
        return await _verified(call, number, voice.value)
    if voice is VoiceResult.REJECTED:
        await call.update(lambda s: s.lock_out())
        call.events.emit("auth", decision="reject", method="voice")
        return _locked(call)
    auth = call.settings.auth
    factors = auth.doubtful_voice_factors if voice is VoiceResult.DOUBTFUL else auth.step_up_factors
    for factor in factors:
        if factor in call.factors_passed:
            continue
        try:
            result = await ask_factor(call, factor, account)
        except CallerHungUp:
            await call.update(lambda s: s.end("caller_hung_up"))
            return tool_reply("caller_hung_up")
        except KeypadCancelled:
            return tool_reply("interrupted", transfer_reason=call.keypad_interrupt or "other")
        if result is FactorResult.NO_INPUT:
            # Nothing typed (silence, or a lone #): ask again; only a wrong answer is a failure.
            return tool_reply(
                "no_input",
                say=call.prompts.text("fallback.silence"),
                next_action="call verify_identity",
            )
        if result is FactorResult.UNAVAILABLE:
            # The caller is not told which check could not run: a person takes it from here.
            call.events.emit("auth", decision="step_up_unavailable", method=factor)
            return tool_reply(
                "cannot_verify",
                say=call.prompts.text("auth.cannot_verify"),
                next_action="call transfer_to_human with reason authentication_failed",
            )
        if result is FactorResult.FAILED:
            return await _factor_failed(call, number, factor)
        call.factors_passed.add(factor)
    return await _verified(call, number, "+".join(_methods(voice, factors)))


def _methods(voice: VoiceResult, factors: Sequence[str]) -> list[str]:
    return ["voice_doubtful", *factors] if voice is VoiceResult.DOUBTFUL else list(factors)


async def _verified(call: CallContext, number: str, method: str) -> str:
    await call.services.lockout.clear(number)
    await call.update(lambda s: s.authenticated(method))
    call.events.emit("auth", decision="accept", method=method)
    return tool_reply(
        "verified", say=call.prompts.text("auth.ok"), next_action="call get_balance now"
    )


async def _factor_failed(call: CallContext, number: str, factor: str) -> str:
    account_locked = await call.services.lockout.record_failure(number)
    limit = call.settings.auth.knowledge_max_attempts

    def fail(s: CallState) -> bool:
        if s.authentication_failed(limit):
            return True
        if account_locked:
            s.lock_out()
        return account_locked

    _, locked = await call.update(fail)
    call.events.emit("auth", decision="reject", method=factor)
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
