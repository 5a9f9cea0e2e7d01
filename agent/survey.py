"""The post-call survey: after a payment, the caller may rate the call from 1 to 5.

Asked in code at the end of a paid call, once, and never in the way: the caller presses a key or
says the number; anything else, silence or a hang-up simply ends the call. The caller's speech is
not shut out (no card data can be asked for here), so a caller who talks instead of rating is
answered at once rather than left waiting. The score is reported as a ``survey`` event, from which
the call record (and so the KPIs' CSAT) takes it.
"""

from __future__ import annotations

import asyncio
import contextlib
import re

from agent.call_context import CallContext
from agent.workflow import CallState
from payment_tools.capture import CallerHungUp, KeySource
from voicepay.spoken_numbers import words_to_digits

SCORES = range(1, 6)
_NUMBER = re.compile(r"\d+")


async def run_survey(call: CallContext, state: CallState) -> int | None:
    """Ask a paid caller for a 1-5 rating; returns the score, if one was given."""
    settings = call.settings.survey
    if not settings.enabled or not state.paid or call.caller_gone:
        return None
    async with call.keypad.exclusive() as keys:
        await call.say(call.prompts.text("survey.ask"), in_context=False)
        answer = await _first_answer(call, keys, settings.wait_s)
    if answer is None and call.caller_gone:
        return None
    score = _score(answer, call.language)
    call.events.emit("survey", score=score)
    if score is not None and not call.caller_gone:
        await call.say(call.prompts.text("survey.thanks"), in_context=False)
    return score


async def _first_answer(call: CallContext, keys: KeySource, wait_s: float) -> str | None:
    """The first key pressed or utterance heard within ``wait_s``, whichever comes first."""
    key = asyncio.ensure_future(_next_key(call, keys, wait_s))
    spoken = asyncio.ensure_future(call.next_utterance(wait_s))
    try:
        done, _ = await asyncio.wait({key, spoken}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in (key, spoken):
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, CallerHungUp):
                await task
    # Both may be done when the caller answered and then hung up: the answer counts.
    answers = [t.result() for t in (key, spoken) if t in done and not t.exception()]
    return next((answer for answer in answers if answer is not None), None)


async def _next_key(call: CallContext, keys: KeySource, wait_s: float) -> str | None:
    key = await keys.next_key(wait_s)
    if key is not None:
        # In the same step as the key is taken: the survey no longer waits for speech either.
        call.listening.clear()
    return key


def _score(answer: str | None, language: str) -> int | None:
    """The rating in a key or an utterance: its first number ("four out of five" is 4)."""
    found = _NUMBER.search(words_to_digits(answer, language)) if answer else None
    value = int(found.group()) if found else None
    return value if value in SCORES else None
