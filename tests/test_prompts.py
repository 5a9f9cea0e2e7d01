from __future__ import annotations

import re

import pytest

from payment_tools.capture import CaptureErrorType, CaptureField, CaptureStatus
from payment_tools.cards import CardBrand
from payment_tools.gateway import DeclineReason
from prompts import LANGUAGES, PromptBook, PromptError

TOOLS = (
    "identify_account",
    "verify_identity",
    "get_balance",
    "set_amount",
    "capture_card",
    "confirm_and_charge",
    "send_receipt",
    "end_call",
    "transfer_to_human",
)
REQUIRED = {
    "greeting": set(),
    "identify.ask": set(),
    "identify.not_found": set(),
    "identify.too_many": set(),
    "auth.intro": set(),
    "auth.ask.dob": set(),
    "auth.ask.postcode": set(),
    "auth.failed": set(),
    "auth.locked": set(),
    "auth.ok": set(),
    "balance.tell": {"holder", "balance", "due_date", "minimum"},
    "amount.ask": set(),
    "amount.set": {"amount"},
    "amount.error.below_minimum": {"minimum"},
    "amount.error.above_balance": {"balance"},
    "amount.error.above_maximum": {"maximum"},
    "amount.error.unclear": set(),
    "capture.intro": set(),
    "capture.error.invalid-card-type": {"accepted"},
    "capture.result.success": {"brand", "last4"},
    "capture.busy": set(),
    "capture.speech_ignored": set(),
    "confirm.readback": {"amount", "brand", "last4"},
    "confirm.unclear": set(),
    "confirm.cancelled": set(),
    "charge.processing": set(),
    "charge.success": {"amount", "reference_spoken"},
    "charge.retry_offer": set(),
    "charge.too_many_declines": set(),
    "charge.unknown": set(),
    "receipt.offer": set(),
    "receipt.sent": set(),
    "receipt.declined": set(),
    "end.goodbye": set(),
    "transfer.announce": set(),
    "transfer.queued": set(),
    "refuse.card_readback": set(),
    "refuse.injection": set(),
    "refuse.card_by_voice": set(),
    "fallback.not_understood": set(),
    "fallback.silence": set(),
}
REQUIRED |= {
    f"capture.{kind}.{field}": set()
    for kind in ("ask", "ask_again", "restart")
    for field in CaptureField
}
REQUIRED |= {f"capture.result.{s}": set() for s in CaptureStatus if s is not CaptureStatus.SUCCESS}
REQUIRED |= {f"charge.declined.{reason}": set() for reason in DeclineReason}
REQUIRED |= {f"brand.{brand}": set() for brand in CardBrand}
REQUIRED |= {
    f"capture.error.{error}": set()
    for error in CaptureErrorType
    if error is not CaptureErrorType.INVALID_CARD_TYPE
}
# Five or more digits in a row, even split by spaces or dashes, could be card data.
CARD_LIKE = re.compile(r"\d(?:[\s-]*\d){4,}")


@pytest.fixture(params=LANGUAGES)
def book(request: pytest.FixtureRequest) -> PromptBook:
    return PromptBook.load(request.param)


def sample_values(book: PromptBook, key: str) -> dict[str, str]:
    return {name: f"<{name}>" for name in book.placeholders(key)}


def test_both_languages_have_the_same_keys_and_placeholders() -> None:
    en, fr = PromptBook.load("en"), PromptBook.load("fr")
    assert en.keys() == fr.keys()
    assert {k: en.placeholders(k) for k in en.keys()} == {k: fr.placeholders(k) for k in fr.keys()}


@pytest.mark.parametrize(("key", "placeholders"), sorted(REQUIRED.items()))
def test_every_prompt_the_call_needs_exists(key: str, placeholders: set[str]) -> None:
    for lang in LANGUAGES:
        assert PromptBook.load(lang).placeholders(key) == placeholders, (lang, key)


def test_every_prompt_renders(book: PromptBook) -> None:
    for key in book.keys():
        text = book.text(key, **sample_values(book, key))
        assert text.strip() and "{" not in text and "}" not in text, key


def test_values_are_filled_in(book: PromptBook) -> None:
    text = book.text("confirm.readback", amount="€5.00", brand="Visa", last4="4 2 4 2")
    assert "€5.00" in text and "Visa" in text and "4 2 4 2" in text


def test_missing_value_and_unknown_key_raise_clear_errors(book: PromptBook) -> None:
    with pytest.raises(PromptError, match="amount"):
        book.text("amount.set")
    with pytest.raises(PromptError, match="no.such"):
        book.text("no.such")
    assert not book.has("no.such") and book.has("greeting")


def test_unknown_language_is_refused() -> None:
    with pytest.raises(PromptError):
        PromptBook.load("de")


def test_books_are_loaded_once() -> None:
    assert PromptBook.load("fr") is PromptBook.load("fr")
    assert PromptBook.load("fr").language == "fr"


def test_no_prompt_or_instruction_holds_card_like_digits(book: PromptBook) -> None:
    for key in book.keys():
        assert not CARD_LIKE.search(book.text(key, **sample_values(book, key))), key
    assert not CARD_LIKE.search(book.instructions())


def test_readback_ends_with_a_yes_no_or_keypad_question(book: PromptBook) -> None:
    text = book.text("confirm.readback", amount="A", brand="B", last4="C")
    assert "?" in text and "1" in text and "2" in text


def test_authentication_failures_never_name_the_factor(book: PromptBook) -> None:
    for key in ("auth.failed", "auth.locked"):
        text = book.text(key).lower()
        assert not re.search(r"birth|naissance|postal|postcode|date", text), key


def test_lost_or_stolen_wording_does_not_accuse(book: PromptBook) -> None:
    text = book.text("charge.declined.lost_or_stolen").lower()
    assert not re.search(r"lost|stolen|perdue|volée|fraud", text)


def test_french_uses_french_typography() -> None:
    fr = PromptBook.load("fr")
    for key in fr.keys():
        text = fr.text(key, **sample_values(fr, key))
        assert "'" not in text and '"' not in text, key


def test_instructions_load_and_name_every_tool(book: PromptBook) -> None:
    instructions = book.instructions()
    for tool in TOOLS:
        assert f"`{tool}(" in instructions, tool
    assert "caller_request" in instructions
