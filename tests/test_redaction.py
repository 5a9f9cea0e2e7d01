from __future__ import annotations

import re

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from payment_tools.redaction import (
    CARD_DATA_TOKEN,
    LOG_MASK_TOKEN,
    contains_luhn_run,
    find_luhn_runs,
    mask_card_numbers,
    redact_card_data,
)
from voicepay.spoken_numbers import find_number_spans

T = CARD_DATA_TOKEN

EN_UNITS = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]
EN_TEENS = ["ten", "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen",
            "eighteen", "nineteen"]  # fmt: skip
EN_TENS = ["", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"]
FR_UNITS = ["zéro", "un", "deux", "trois", "quatre", "cinq", "six", "sept", "huit", "neuf"]
FR_TEENS = ["dix", "onze", "douze", "treize", "quatorze", "quinze", "seize", "dix-sept",
            "dix-huit", "dix-neuf"]  # fmt: skip
FR_TENS = ["", "", "vingt", "trente", "quarante", "cinquante", "soixante"]


def luhn_complete(body: str) -> str:
    total = 0
    for position, char in enumerate(reversed(body)):
        value = int(char) * (2 if position % 2 == 0 else 1)
        total += value - 9 if value > 9 else value
    return body + str((10 - total % 10) % 10)


pans = st.builds(
    lambda prefix, body: luhn_complete(prefix + body[: 15 - len(prefix)]),
    st.sampled_from(["4", "51", "2221", "37", "6011", "3530", "36", "50", "67"]),
    st.text("0123456789", min_size=15, max_size=15),
) | st.sampled_from(["4242424242424242", "378282246310005", "5555555555554444", "4000000000000002"])


def en_pair(number: int) -> str:
    if number < 20:
        return EN_TEENS[number - 10]
    tens, unit = divmod(number, 10)
    return EN_TENS[tens] + (f"-{EN_UNITS[unit]}" if unit else "")


def fr_pair(number: int) -> str:
    if number < 20:
        return FR_TEENS[number - 10]
    if number >= 80:
        rest = number - 80
        return "quatre-vingts" if not rest else "quatre-vingt-" + (FR_UNITS + FR_TEENS)[rest]
    tens, unit = divmod(number, 10)
    if tens == 7:
        tens, unit = 6, unit + 10
    head = FR_TENS[tens]
    if unit == 1:
        return head + " et un"
    if unit == 11:
        return head + " et onze"
    return head + ("-" + (FR_UNITS + FR_TEENS)[unit] if unit else "")


@st.composite
def spoken(draw: st.DrawFn, digits: str) -> str:
    """``digits`` read aloud in English or French: digit by digit, in pairs, "double four"..."""
    french = draw(st.booleans())
    chunks: list[str] = []
    rest = digits
    while rest:
        size = draw(st.sampled_from([1, 2]))
        chunks.append(rest[:size])
        rest = rest[size:]
    words: list[str] = []
    for index, chunk in enumerate(chunks):
        if len(chunk) == 1 or chunk[0] == "0":
            units = FR_UNITS if french else [draw(st.sampled_from(["zero", "oh"])), *EN_UNITS[1:]]
            word = " ".join(units[int(char)] for char in chunk)
        elif not french and chunk[0] == chunk[1] and draw(st.booleans()):
            word = "double " + EN_UNITS[int(chunk[0])]
        else:
            word = (fr_pair if french else en_pair)(int(chunk))
        if index:
            separator = draw(st.sampled_from([" ", ", ", " - ", ". ", " , "]))
            previous = int(chunks[index - 1])
            # "forty two" is 42 and "quatre vingt" is 80: a speaker pauses between such groups.
            if separator in (" ", " - ") and (previous % 10 == 0 or previous == 4):
                separator = ", "
            words.append(separator)
        words.append(word)
    return "".join(words)


# Consonant-only words: never a number word, a keyword or a month.
filler_words = st.text("bcdfghjklmnpqrstvwxz", min_size=1, max_size=8)
filler_text = st.lists(filler_words, max_size=6).map(" ".join)


def digits_only(text: str) -> str:
    return re.sub(r"\D", "", text)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("4242 4242 4242 4242", T),
        ("it's 4242-4242-4242-4242 okay", f"it's {T} okay"),
        ("number 4000.0000.0000.0002 thanks", f"number {T} thanks"),
        ("1234 5678 9012", T),
        ("four two four two four two four two four two four two four two four two", T),
        ("forty-two forty-two, forty-two forty-two, forty-two forty-two, forty-two forty-two", T),
        ("double four double four double four double four double four double four", T),
        ("quatre deux quatre deux quatre deux quatre deux quatre deux quatre deux", T),
        ("quarante-deux quarante-deux quarante-deux quarante-deux quarante-deux quarante-deux", T),
        ("4242 four two forty-two 4242 4242", T),
        ("my card is 4242 4242 4242 4242", f"my card is {T}"),
        ("expires 08/31", f"expires {T}"),
        ("expiry 0831 and cvc 123", f"expiry {T} and cvc {T}"),
        ("it expires August thirty-one", f"it expires {T}"),
        ("valid until oh eight thirty-one", f"valid until {T}"),
        ("date d'expiration zéro huit trente et un", f"date d'expiration {T}"),
        ("expire en août deux mille trente et un", f"expire en {T}"),
        ("the security code is one two three", f"the security code is {T}"),
        ("the three digits on the back are 737", f"the three digits on the back are {T}"),
        ("le cryptogramme c'est sept cent trente-sept", f"le cryptogramme c'est {T}"),
        ("code au dos: 123", f"code au dos: {T}"),
        ("card ending 4242", f"card ending {T}"),
        ("4242 4242 4242 4242, 12/30, 123", T),
        ("4242 4242 4242 4242 exp 12/30 code 123", f"{T} exp {T} code {T}"),
    ],
)
def test_card_data_is_removed(text: str, expected: str) -> None:
    result = redact_card_data(text)
    assert (result.text, result.redacted) == (expected, True)


@pytest.mark.parametrize(
    "text",
    [
        "I want to pay fifty dollars",
        "the balance is 42.50",
        "my account number is 12345678",
        "I was born on 12/05/1980",
        "my date of birth is August thirty-first nineteen eighty",
        "call me back at 06 12 34 56 78",
        "zéro six, douze, trente-quatre, cinquante-six, soixante-dix-huit",
        "je voudrais payer cent euros",
        "Oh, two of them.",
        "I'd like to pay fifty dollars by card",
        "ma carte bleue, s'il vous plaît",
        "charge $42.50 to my credit card",
        "can I pay 30 euros with my card?",
        "",
    ],
)
def test_text_without_card_data_is_unchanged(text: str) -> None:
    assert redact_card_data(text) == type(redact_card_data(text))(text, False)


def test_only_the_card_data_goes_when_amounts_share_the_utterance() -> None:
    result = redact_card_data("pay fifty dollars with card 4242 4242 4242 4242 expiring 12/30")
    assert result.text == f"pay fifty dollars with card {T} expiring {T}"


@pytest.mark.parametrize(
    "text",
    [
        "4242... 4242... 4242... 4242",
        "4242, , 4242, , 4242, , 4242",
        "four two… four two… four two… four two… four two… four two… four two… four two",
    ],
)
def test_a_card_number_read_with_long_pauses_is_removed(text: str) -> None:
    result = redact_card_data(text)
    assert (result.text, result.redacted) == (CARD_DATA_TOKEN, True)


def test_fullwidth_digits_are_card_data_too() -> None:
    assert redact_card_data("４２４２ ４２４２ ４２４２ ４２４２").text == T


@settings(max_examples=200)
@given(pans, filler_text, filler_text, st.lists(st.sampled_from([" ", "-", ".", " - ", ""]),
                                                 min_size=18, max_size=18))  # fmt: skip
def test_a_typed_card_number_in_any_text_is_removed(
    pan: str, before: str, after: str, separators: list[str]
) -> None:
    written = "".join(digit + separators[index] for index, digit in enumerate(pan[:-1])) + pan[-1]
    result = redact_card_data(f"{before} {written} {after}")
    assert result.redacted
    assert pan not in digits_only(result.text)
    assert not contains_luhn_run(result.text)
    assert result.text == f"{before} {T} {after}"


@settings(max_examples=300)
@given(st.data(), pans, filler_text, filler_text)
def test_a_spoken_card_number_in_english_or_french_is_removed(
    data: st.DataObject, pan: str, before: str, after: str
) -> None:
    said = data.draw(spoken(pan))
    result = redact_card_data(f"{before} {said} {after}")
    assert result.redacted
    assert T in result.text
    assert not [
        span
        for span in find_number_spans(result.text, grouping="listener")
        if len(span.digits) >= 2
    ]


@given(st.data(), st.text("0123456789", min_size=12, max_size=19), filler_text)
def test_twelve_or_more_digits_are_removed_luhn_or_not(
    data: st.DataObject, digits: str, before: str
) -> None:
    said = data.draw(st.one_of(st.just(digits), spoken(digits)))
    assert redact_card_data(f"{before} {said}").text == f"{before} {T}"


# Words that are neither numbers, card keywords nor months, and amounts/short numbers between them.
plain_words = st.sampled_from(
    ["I", "would", "like", "to", "pay", "my", "bill", "please", "account", "number", "is",
     "born", "on", "je", "voudrais", "payer", "ma", "facture", "merci", "the", "balance",
     "dollars", "euros", "and", "thanks"]
)  # fmt: skip
short_numbers = st.one_of(
    st.text("0123456789", min_size=1, max_size=11),
    st.integers(10, 99).map(en_pair),
    st.integers(10, 99).map(fr_pair),
    st.builds(lambda a, b: f"{a}.{b}", st.integers(0, 9999), st.integers(0, 99)),
    st.sampled_from(["12/05/1980", "fifty", "cent", "nineteen eighty"]),
)


@given(st.lists(st.tuples(plain_words, st.one_of(st.none(), short_numbers)), max_size=12))
def test_text_without_long_numbers_or_card_words_is_unchanged(
    items: list[tuple[str, str | None]],
) -> None:
    text = " ".join(word if number is None else f"{word} {number}" for word, number in items)
    assert redact_card_data(text).text == text
    assert not redact_card_data(text).redacted


@given(st.text(st.characters(blacklist_categories=["Nd", "No"])))
def test_text_without_digits_is_unchanged(text: str) -> None:
    assume(not find_number_spans(text, grouping="listener"))
    assert redact_card_data(text).text == text


@given(st.one_of(st.text(), st.builds(lambda a, p, b: f"{a} {p} {b}", st.text(), pans, st.text())))
def test_redaction_is_idempotent(text: str) -> None:
    once = redact_card_data(text).text
    assert redact_card_data(once).text == once


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("pan=4242424242424242 ok", f"pan={LOG_MASK_TOKEN} ok"),
        ("pan=4242 4242 4242 4242", f"pan={LOG_MASK_TOKEN}"),
        ("a 4242-4242-4242-4242-4000-0000-0000-0002 b", f"a {LOG_MASK_TOKEN} b"),
        ("1234.5678.9012", LOG_MASK_TOKEN),
        ("order 12345678901 placed", "order 12345678901 placed"),
        ("at 2024-05-01 12:30:45.123", "at 2024-05-01 12:30:45.123"),
        ("call 42 for 4242", "call 42 for 4242"),
        ("４２４２４２４２４２４２４２４２", LOG_MASK_TOKEN),
    ],
)
def test_log_masking_removes_long_digit_runs(line: str, expected: str) -> None:
    assert mask_card_numbers(line) == expected


@given(pans, filler_text, st.sampled_from([" ", "-", ".", ""]))
def test_log_masking_removes_any_card_number(pan: str, text: str, separator: str) -> None:
    grouped = separator.join(pan[i : i + 4] for i in range(0, len(pan), 4))
    masked = mask_card_numbers(f"{text} {grouped} {text}")
    assert digits_only(masked) == ""


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("card 4242 4242 4242 4242", ["4242424242424242"]),
        ("ref 1 4242 4242 4242 4242", ["4242424242424242"]),
        ("4242 4242 4242 4242 4000 0000 0000 0002", ["4242424242424242", "4000000000000002"]),
        (
            "amex 3782-822463-10005 and mc 5555.5555.5555.4444",
            ["378282246310005", "5555555555554444"],
        ),
        ("4242 4242 4242 4241", []),
        ("order 123456789012", []),
        ("", []),
    ],
)
def test_find_luhn_runs(text: str, expected: list[str]) -> None:
    assert find_luhn_runs(text) == expected
    assert contains_luhn_run(text) is bool(expected)


@given(pans, filler_text, filler_text, st.sampled_from([" ", "-", ".", " - "]))
def test_any_card_number_in_text_is_found_once(
    pan: str, before: str, after: str, separator: str
) -> None:
    grouped = separator.join(pan[i : i + 4] for i in range(0, len(pan), 4))
    assert find_luhn_runs(f"{before} {grouped} {after}") == [pan]
