from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Sequence
from datetime import date
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from payment_tools.capture import (
    CallerHungUp,
    CaptureErrorType,
    CaptureField,
    CaptureOptions,
    CaptureProgress,
    CaptureResult,
    CaptureStatus,
    PromptRequest,
    capture_card,
)
from payment_tools.cards import (
    CardBrand,
    max_number_length,
    rule_for,
    validate_card_number,
    validate_security_code,
)
from payment_tools.keypad import KeypadRouter
from payment_tools.secure_card import MaskedCard

TODAY = date(2025, 6, 15)
ALL_BRANDS = frozenset(CardBrand)
VISA = "4242424242424242"
AMEX = "378282246310005"
MASTERCARD = "5555555555554444"
HANG_UP = "<hang-up>"

NUMBER = CaptureField.CARD_NUMBER
EXPIRY = CaptureField.EXPIRATION_DATE
CVC = CaptureField.SECURITY_CODE
POSTAL = CaptureField.POSTAL_CODE

# Published test numbers of every brand (Stripe's, plus the usual JCB/Discover/Diners/Maestro ones).
TEST_CARDS = [
    VISA,
    "4000000000000002",
    AMEX,
    MASTERCARD,
    "2223003122003222",
    "6011111111111117",
    "3530111333300000",
    "36227206271667",
    "6759649826438453",
    "4000000000000000006",
]


class Caller:
    """A scripted caller: answers each prompt by typing its next answer on a real keypad router."""

    def __init__(self, router: KeypadRouter, answers: Sequence[str], fail_on: int = 0) -> None:
        self.router = router
        self.answers = list(answers)
        self.requests: list[PromptRequest] = []
        self.fail_on = fail_on

    async def prompt(self, request: PromptRequest) -> None:
        self.requests.append(request)
        if len(self.requests) == self.fail_on:
            raise RuntimeError("text to speech is down")
        answer = self.answers.pop(0) if self.answers else ""
        if answer == HANG_UP:
            self.router.hang_up()
            return
        for key in answer:
            self.router.press(key)

    @property
    def script(self) -> list[tuple[CaptureField, str, int, CaptureErrorType | None]]:
        return [(r.field, r.kind, r.attempt, r.error) for r in self.requests]


def options(**overrides: Any) -> CaptureOptions:
    settings: dict[str, Any] = {"accepted_brands": ALL_BRANDS, "today": TODAY, "timeout_s": 0.05}
    return CaptureOptions(**(settings | overrides))


def assert_masked_only(
    result: CaptureResult, requests: Sequence[PromptRequest], events: Sequence[CaptureProgress]
) -> None:
    """Nothing but the last four digits, in masked form, leaves the capture outside the card."""
    brands = {brand.value for brand in CardBrand}
    for request in requests:
        assert request.brand is None or request.brand in brands
    for event in events:
        assert event.brand is None or event.brand in brands
        assert event.masked_number is None or re.fullmatch(r"x{12}\d{4}", event.masked_number)
    text = repr(result).replace("last4=", "")
    if result.masked is not None:
        assert re.fullmatch(r"\d{4}", result.masked.last4)
        text = text.replace(result.masked.last4, "")
    assert not re.search(r"\d", text)


async def run_capture(
    answers: Sequence[str], *, fail_on: int = 0, **overrides: Any
) -> tuple[CaptureResult, Caller, list[CaptureProgress]]:
    router = KeypadRouter()
    caller = Caller(router, answers, fail_on)
    events: list[CaptureProgress] = []
    async with router.exclusive() as keys:
        result = await capture_card(keys, caller, options(**overrides), events.append)
    assert_masked_only(result, caller.requests, events)
    return result, caller, events


async def test_a_visa_is_captured_in_three_prompts() -> None:
    result, caller, _ = await run_capture([VISA + "#", "1230", "123"])
    assert result.status is CaptureStatus.SUCCESS
    assert result.card is not None
    assert result.card.reveal() == (VISA, "123", "")
    assert (result.card.exp_month, result.card.exp_year) == (12, 2030)
    assert result.masked == MaskedCard(brand="visa", last4="4242")
    assert (result.errors, result.failed_field) == ((), None)
    assert caller.script == [
        (NUMBER, "ask", 1, None),
        (EXPIRY, "ask", 1, None),
        (CVC, "ask", 1, None),
    ]
    assert [request.brand for request in caller.requests] == [None, "visa", "visa"]
    result.card.wipe()


async def test_amex_submits_itself_at_fifteen_digits_and_takes_a_four_digit_code() -> None:
    result, _, _ = await run_capture([AMEX, "0630", "1234"])
    assert result.status is CaptureStatus.SUCCESS
    assert result.card is not None
    assert result.card.reveal() == (AMEX, "1234", "")


async def test_a_habitual_hash_after_a_full_length_field_is_not_an_empty_entry() -> None:
    result, _, _ = await run_capture([MASTERCARD + "#", "1230#", "123#"])
    assert result.status is CaptureStatus.SUCCESS
    assert result.errors == ()


async def test_a_hash_alone_is_still_an_empty_entry() -> None:
    result, _, _ = await run_capture(["#", VISA + "#", "1230", "123"])
    assert result.errors == (CaptureErrorType.INVALID_CARD_NUMBER,)
    assert result.status is CaptureStatus.SUCCESS


async def test_postal_code_is_captured_when_on_and_security_code_skipped_when_off() -> None:
    result, caller, _ = await run_capture(
        [MASTERCARD, "0130", "94107#"], security_code=False, postal_code=True
    )
    assert result.status is CaptureStatus.SUCCESS
    assert result.card is not None
    assert result.card.reveal() == (MASTERCARD, "", "94107")
    assert [request.field for request in caller.requests] == [NUMBER, EXPIRY, POSTAL]


async def test_an_inter_digit_timeout_submits_what_was_typed() -> None:
    result, _, _ = await run_capture([VISA, "1230", "123"])
    assert result.status is CaptureStatus.SUCCESS


async def test_keys_typed_ahead_of_the_prompts_are_kept() -> None:
    router = KeypadRouter()
    caller = Caller(router, [])
    async with router.exclusive() as keys:
        for key in VISA + "#1230123":
            router.press(key)
        result = await capture_card(keys, caller, options())
    assert result.status is CaptureStatus.SUCCESS
    assert [request.kind for request in caller.requests] == ["ask", "ask", "ask"]


async def test_letter_keys_are_ignored() -> None:
    result, _, _ = await run_capture(["4242A4242B4242C4242D#", "12A30", "1D23"])
    assert result.status is CaptureStatus.SUCCESS
    assert result.card is not None
    assert result.card.reveal()[:2] == (VISA, "123")


NUMBER_OK, EXPIRY_OK, CVC_OK = VISA + "#", "1230", "123"
E = CaptureErrorType


@pytest.mark.parametrize(
    ("answers", "overrides", "error", "field"),
    [
        (["", NUMBER_OK, EXPIRY_OK, CVC_OK], {}, E.INPUT_TIMEOUT, NUMBER),
        (["4242424242424241#", NUMBER_OK, EXPIRY_OK, CVC_OK], {}, E.INVALID_CARD_NUMBER, NUMBER),
        (
            [MASTERCARD, NUMBER_OK, EXPIRY_OK, CVC_OK],
            {"accepted_brands": {CardBrand.VISA}},
            E.INVALID_CARD_TYPE,
            NUMBER,
        ),
        ([NUMBER_OK, "1330", EXPIRY_OK, CVC_OK], {}, E.INVALID_DATE, EXPIRY),
        ([NUMBER_OK, "0525", "0625", CVC_OK], {}, E.DATE_VALIDATION_FAILED, EXPIRY),
        ([NUMBER_OK, EXPIRY_OK, "12#", CVC_OK], {}, E.INVALID_SECURITY_CODE, CVC),
        ([AMEX, EXPIRY_OK, "123#", "1234"], {}, E.INVALID_SECURITY_CODE, CVC),
        (
            [NUMBER_OK, EXPIRY_OK, CVC_OK, "941#", "94107#"],
            {"postal_code": True},
            E.INVALID_POSTAL_CODE,
            POSTAL,
        ),
        (
            [NUMBER_OK, EXPIRY_OK, CVC_OK + "#", "#", "94107#"],
            {"postal_code": True},
            E.INVALID_POSTAL_CODE,
            POSTAL,
        ),
        (
            [NUMBER_OK, "4000000000000002#", NUMBER_OK, NUMBER_OK, *[EXPIRY_OK] * 2, *[CVC_OK] * 2],
            {"require_matching_inputs": True},
            E.INPUT_MATCHING_FAILED,
            NUMBER,
        ),
    ],
)
async def test_each_error_costs_an_attempt_and_is_announced(
    answers: list[str], overrides: dict[str, Any], error: CaptureErrorType, field: CaptureField
) -> None:
    result, caller, events = await run_capture(answers, **overrides)
    assert result.status is CaptureStatus.SUCCESS
    assert result.errors == (error,)
    error_prompts = [step for step in caller.script if step[1] == "error"]
    assert error_prompts == [(field, "error", 2, error)]
    error_events = [e for e in events if e.error is error and e.attempt == 1]
    assert [(e.field, e.status) for e in error_events] == [(field, None)]


async def test_the_last_failed_attempt_ends_the_capture() -> None:
    result, caller, events = await run_capture(["1#", "2#", "3#", VISA + "#"])
    assert result.status is CaptureStatus.TOO_MANY_FAILED_ATTEMPTS
    assert result.failed_field is NUMBER
    assert result.errors == (CaptureErrorType.INVALID_CARD_NUMBER,) * 3
    assert (result.card, result.masked) == (None, None)
    assert caller.script == [
        (NUMBER, "ask", 1, None),
        (NUMBER, "error", 2, CaptureErrorType.INVALID_CARD_NUMBER),
        (NUMBER, "error", 3, CaptureErrorType.INVALID_CARD_NUMBER),
    ]
    final = events[-1]
    assert final.status is CaptureStatus.TOO_MANY_FAILED_ATTEMPTS
    assert (final.field, final.attempt, final.error) == (
        NUMBER,
        3,
        CaptureErrorType.INVALID_CARD_NUMBER,
    )
    assert final.required_fields == (NUMBER, EXPIRY, CVC)


async def test_one_attempt_means_one_try_and_the_masked_number_survives_a_later_failure() -> None:
    result, caller, _ = await run_capture([VISA + "#", ""], max_attempts=1)
    assert result.status is CaptureStatus.TOO_MANY_FAILED_ATTEMPTS
    assert (result.failed_field, result.errors) == (EXPIRY, (CaptureErrorType.INPUT_TIMEOUT,))
    assert result.masked == MaskedCard(brand="visa", last4="4242")
    assert len(caller.requests) == 2


@pytest.mark.parametrize("answers", [["*"], [VISA + "#", "*"], [VISA + "#", "12*", "*"]])
async def test_star_on_an_empty_field_interrupts(answers: list[str]) -> None:
    result, _, events = await run_capture(answers)
    assert result.status is CaptureStatus.CALLER_INTERRUPTED_WITH_STAR
    assert (result.card, result.errors, result.failed_field) == (None, (), None)
    assert events[-1].status is CaptureStatus.CALLER_INTERRUPTED_WITH_STAR


async def test_star_with_digits_restarts_the_field_without_using_an_attempt() -> None:
    result, caller, _ = await run_capture(["4111*", VISA + "#", "1230", "123"])
    assert result.status is CaptureStatus.SUCCESS
    assert result.card is not None
    assert result.card.reveal()[0] == VISA
    assert caller.script[:2] == [(NUMBER, "ask", 1, None), (NUMBER, "restart", 1, None)]
    assert result.errors == ()


async def test_hanging_up_ends_the_capture() -> None:
    result, _, events = await run_capture([VISA + "#", "1230", HANG_UP])
    assert result.status is CaptureStatus.CALLER_HUNG_UP
    assert result.card is None
    assert result.masked == MaskedCard(brand="visa", last4="4242")
    assert (events[-1].field, events[-1].status) == (CVC, CaptureStatus.CALLER_HUNG_UP)


async def test_a_failing_prompter_is_an_internal_error_logged_without_data(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.DEBUG):
        result, _, events = await run_capture([VISA + "#", "1230"], fail_on=3)
    assert result.status is CaptureStatus.INTERNAL_ERROR
    assert (result.card, result.errors) == (None, (CaptureErrorType.INTERNAL_ERROR,))
    assert events[-1].status is CaptureStatus.INTERNAL_ERROR
    records = [r for r in caplog.records if r.name == "payment_tools.capture"]
    assert [(r.getMessage(), getattr(r, "error_type", None)) for r in records] == [
        ("card capture failed", "RuntimeError")
    ]
    assert records[0].exc_info is None


async def test_a_failing_progress_callback_is_an_internal_error() -> None:
    def explode(event: CaptureProgress) -> None:
        raise ValueError("dashboard offline")

    router = KeypadRouter()
    caller = Caller(router, [VISA + "#"])
    async with router.exclusive() as keys:
        result = await capture_card(keys, caller, options(), explode)
    assert result.status is CaptureStatus.INTERNAL_ERROR


async def test_matching_inputs_ask_every_field_twice() -> None:
    result, caller, _ = await run_capture(
        [VISA + "#", VISA + "#", "1230", "1230", "123", "123"], require_matching_inputs=True
    )
    assert result.status is CaptureStatus.SUCCESS
    assert [(step[0], step[1]) for step in caller.script] == [
        (NUMBER, "ask"),
        (NUMBER, "ask-again"),
        (EXPIRY, "ask"),
        (EXPIRY, "ask-again"),
        (CVC, "ask"),
        (CVC, "ask-again"),
    ]


async def test_star_in_the_second_entry_restarts_the_field_from_its_first_entry() -> None:
    answers = [VISA + "#", "4242*", AMEX, AMEX, "1230", "1230", "1234", "1234"]
    result, caller, _ = await run_capture(answers, require_matching_inputs=True)
    assert result.status is CaptureStatus.SUCCESS
    assert result.card is not None
    assert result.card.reveal()[0] == AMEX
    assert [step[1] for step in caller.script[:4]] == ["ask", "ask-again", "restart", "ask-again"]
    assert result.errors == ()


async def test_a_silent_second_entry_is_a_timeout() -> None:
    answers = [VISA + "#", "", VISA + "#", VISA + "#", "1230", "1230", "123", "123"]
    result, caller, _ = await run_capture(answers, require_matching_inputs=True)
    assert result.status is CaptureStatus.SUCCESS
    assert result.errors == (CaptureErrorType.INPUT_TIMEOUT,)
    assert caller.script[2] == (NUMBER, "error", 2, CaptureErrorType.INPUT_TIMEOUT)


async def test_progress_reports_each_step_with_the_masked_number_once_valid() -> None:
    result, _, events = await run_capture(["1#", VISA + "#", "1230", "123"])
    assert result.status is CaptureStatus.SUCCESS
    masked = "xxxxxxxxxxxx4242"
    bad = CaptureErrorType.INVALID_CARD_NUMBER
    assert [
        (e.field, e.attempt, e.error, e.masked_number, e.brand, e.required_fields, e.status)
        for e in events
    ] == [
        (NUMBER, 1, None, None, None, (NUMBER, EXPIRY, CVC), None),
        (NUMBER, 1, bad, None, None, (NUMBER, EXPIRY, CVC), None),
        (NUMBER, 2, bad, None, None, (NUMBER, EXPIRY, CVC), None),
        (EXPIRY, 1, None, masked, "visa", (EXPIRY, CVC), None),
        (CVC, 1, None, masked, "visa", (CVC,), None),
        (CVC, 1, None, masked, "visa", (), CaptureStatus.SUCCESS),
    ]


@pytest.mark.parametrize(
    "overrides",
    [
        {"accepted_brands": frozenset()},
        {"timeout_s": 0},
        {"max_attempts": 0},
        {"min_postal_code_length": 11},
        {"min_postal_code_length": 0},
    ],
)
def test_options_are_validated(overrides: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        options(**overrides)


class ScriptedKeys:
    """Keys from a list; None is a timeout, HANG_UP the caller leaving; then silence for ever."""

    def __init__(self, script: Sequence[str | None]) -> None:
        self._script = list(script)

    async def next_key(self, timeout: float) -> str | None:  # noqa: ASYNC109 - KeySource contract
        if not self._script:
            return None
        key = self._script.pop(0)
        if key == HANG_UP:
            raise CallerHungUp
        return key


class SilentPrompter:
    def __init__(self) -> None:
        self.requests: list[PromptRequest] = []

    async def prompt(self, request: PromptRequest) -> None:
        self.requests.append(request)


def run_scripted(
    script: Sequence[str | None], capture_options: CaptureOptions
) -> tuple[CaptureResult, SilentPrompter, list[CaptureProgress]]:
    prompter = SilentPrompter()
    events: list[CaptureProgress] = []
    result = asyncio.run(
        capture_card(ScriptedKeys(script), prompter, capture_options, events.append)
    )
    return result, prompter, events


capture_options = st.builds(
    options,
    max_attempts=st.integers(1, 3),
    security_code=st.booleans(),
    postal_code=st.booleans(),
    require_matching_inputs=st.booleans(),
    accepted_brands=st.frozensets(st.sampled_from(list(CardBrand)), min_size=1),
)
ANY_KEY = st.sampled_from([*"0123456789*#ABCD", None, HANG_UP])


def card_flow(pan: str, opts: CaptureOptions) -> list[str | None]:
    """The keys of a correct capture of ``pan`` under ``opts``."""
    brand = validate_card_number(pan, ALL_BRANDS)
    entries = [pan + ("#" if len(pan) < max_number_length(pan) else ""), "0731"]
    if opts.security_code:
        entries.append("1234"[: rule_for(brand).cvc_length])
    if opts.postal_code:
        entries.append("94107#")
    keys: list[str | None] = []
    for entry in entries:
        keys += list(entry) * (2 if opts.require_matching_inputs else 1)
    return keys


@st.composite
def key_scripts(draw: st.DrawFn, opts: CaptureOptions) -> list[str | None]:
    """Random keys, or a correct capture with a few keys inserted, deleted or replaced."""
    if draw(st.booleans()):
        return draw(st.lists(ANY_KEY, max_size=60))
    keys = card_flow(draw(st.sampled_from(TEST_CARDS)), opts)
    for _ in range(draw(st.integers(0, 3))):
        position = draw(st.integers(0, len(keys) - 1))
        edit = draw(st.sampled_from(["insert", "delete", "replace"]))
        key = draw(ANY_KEY)
        keys[position : position + (edit != "insert")] = [] if edit == "delete" else [key]
    return keys


@settings(max_examples=300, deadline=None)
@given(st.data(), capture_options)
def test_random_keys_never_raise_and_never_yield_an_invalid_card(
    data: st.DataObject, opts: CaptureOptions
) -> None:
    result, prompter, events = run_scripted(data.draw(key_scripts(opts)), opts)
    assert_masked_only(result, prompter.requests, events)
    assert result.status is not CaptureStatus.PAYMENT_CONNECTOR_ERROR
    assert events[-1].status is result.status
    assert (result.card is not None) == (result.status is CaptureStatus.SUCCESS)
    assert max(event.attempt for event in events) <= opts.max_attempts
    assert len(result.errors) <= opts.max_attempts * len(events[0].required_fields)
    if result.status is CaptureStatus.TOO_MANY_FAILED_ATTEMPTS:
        assert (events[-1].field, events[-1].attempt) == (result.failed_field, opts.max_attempts)
    if result.card is not None:
        number, code, postal = result.card.reveal()
        brand = validate_card_number(number, opts.accepted_brands)
        assert result.card.brand == brand.value
        if opts.security_code:
            validate_security_code(code, brand)
        assert (code == "") is not opts.security_code
        assert (postal == "") is not opts.postal_code
        assert (result.card.exp_year, result.card.exp_month) >= (TODAY.year, TODAY.month)
        result.card.wipe()


def with_noise(entry: str, noise: list[str]) -> list[str | None]:
    keys: list[str | None] = []
    for digit, extra in zip(entry, noise + [""] * len(entry), strict=False):
        keys += [digit, *extra]
    return keys


@settings(max_examples=200, deadline=None)
@given(
    st.sampled_from(TEST_CARDS),
    st.lists(st.sampled_from(["", "A", "B", "CD"]), max_size=19),
    st.text("0123456789", min_size=1, max_size=5),
    st.booleans(),
)
def test_a_valid_card_typed_with_noise_and_restarts_is_captured_exactly(
    pan: str, noise: list[str], junk: str, submit_by_timeout: bool
) -> None:
    brand = validate_card_number(pan, ALL_BRANDS)
    cvc = "1234"[: rule_for(brand).cvc_length]
    script: list[str | None] = [*junk, "*", *with_noise(pan, noise)]
    if len(pan) < max_number_length(pan):
        script.append(None if submit_by_timeout else "#")
    script += [*"0731", *junk[:1], "*", *cvc, *"75001", "#"]
    result, _, _ = run_scripted(script, options(postal_code=True))
    assert result.status is CaptureStatus.SUCCESS
    assert result.card is not None
    assert result.card.reveal() == (pan, cvc, "75001")
    assert (result.card.exp_month, result.card.exp_year, result.card.brand) == (
        7,
        2031,
        brand.value,
    )
    assert result.errors == ()


async def test_a_cancelled_entry_ends_the_capture_as_interrupted() -> None:
    router = KeypadRouter()
    async with router.exclusive() as keys:
        caller = Caller(router, [], 0)
        task = asyncio.ensure_future(capture_card(keys, caller, options(timeout_s=1.0)))
        await asyncio.sleep(0.01)
        router.press("4")
        router.press("2")
        await asyncio.sleep(0.01)
        router.cancel_session()
        result = await task
    assert result.status is CaptureStatus.CALLER_INTERRUPTED_WITH_STAR
    assert result.card is None
