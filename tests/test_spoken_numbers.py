from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from voicepay.spoken_numbers import (
    NumberSpan,
    find_number_spans,
    number_to_words,
    parse_cardinal,
    words_to_digits,
)

DIGIT_WORDS = {
    "en": "zero one two three four five six seven eight nine".split(),
    "fr": "zéro un deux trois quatre cinq six sept huit neuf".split(),
}


def digits_of(text: str, lang: str | None) -> list[tuple[str, str]]:
    return [(span.digits, span.kind) for span in find_number_spans(text, lang)]


@pytest.mark.parametrize(
    ("text", "lang", "digits", "kind"),
    [
        ("4242", "en", "4242", "digits"),
        ("four two four two", "en", "4242", "digits"),
        ("double four", "en", "44", "digits"),
        ("triple zero", "en", "000", "digits"),
        ("oh eight", "en", "08", "digits"),
        ("four O eight", "en", "408", "digits"),
        ("forty-two", "en", "42", "cardinal"),
        ("forty two", "en", "42", "cardinal"),
        ("one hundred and five", "en", "105", "cardinal"),
        ("a hundred", "en", "100", "cardinal"),
        ("two thousand", "en", "2000", "cardinal"),
        ("five hundred thousand and twelve", "en", "500012", "cardinal"),
        ("5 hundred", "en", "500", "cardinal"),
        ("four two forty two", "en", "4242", "digits"),
        ("twenty twenty-four", "en", "2024", "digits"),
        ("quatre deux", "fr", "42", "digits"),
        ("soixante-dix-sept", "fr", "77", "cardinal"),
        ("quatre-vingt-dix-neuf", "fr", "99", "cardinal"),
        ("quatre-vingts", "fr", "80", "cardinal"),
        ("quatre vingt un", "fr", "81", "cardinal"),
        ("vingt et un", "fr", "21", "cardinal"),
        ("soixante et onze", "fr", "71", "cardinal"),
        ("septante-cinq", "fr", "75", "cardinal"),
        ("deux cents", "fr", "200", "cardinal"),
        ("mille deux cent trente-quatre", "fr", "1234", "cardinal"),
        ("zéro", "fr", "0", "cardinal"),
        ("ZÉRO", "fr", "0", "cardinal"),
    ],
)
def test_finds_numerals_and_spoken_numbers(text: str, lang: str, digits: str, kind: str) -> None:
    assert digits_of(text, lang) == [(digits, kind)]


def test_span_positions_cover_the_number_only() -> None:
    text = "my card is four two, four two thanks"
    [span] = find_number_spans(text, "en")
    assert text[span.start : span.end] == "four two, four two"
    assert span.parts == ("4", "2", "4", "2")


def test_card_number_groups_become_one_span() -> None:
    assert digits_of("4242 4242-4242, 4242", "en") == [("4242424242424242", "digits")]


def test_hesitations_do_not_split_a_number() -> None:
    assert digits_of("four two, uh, four two um 42", "en") == [("424242", "digits")]
    assert digits_of("quatre deux euh quatre deux", "fr") == [("4242", "digits")]


def test_any_unicode_digits_read_as_ascii() -> None:
    assert digits_of("٤٢ ４２", "en") == [("4242", "digits")]


def test_separate_numbers_stay_separate() -> None:
    assert digits_of("one thing, then two more things", "en") == [
        ("1", "cardinal"),
        ("2", "cardinal"),
    ]


@pytest.mark.parametrize("text", ["oh I see", "oh, right", "Oh! okay"])
def test_a_lone_oh_is_not_zero(text: str) -> None:
    assert find_number_spans(text, "en") == []


def test_oh_separated_by_a_comma_is_an_interjection() -> None:
    assert digits_of("oh, one two", "en") == [("12", "digits")]


def test_french_cents_after_fifty_is_not_a_multiplier() -> None:
    assert digits_of("cinquante cents", "fr") == [("50", "cardinal")]


def test_no_language_reads_both() -> None:
    assert digits_of("quatre deux", None) == [("42", "digits")]
    assert digits_of("four two", None) == [("42", "digits")]


def test_spans_compare_by_position_and_digits() -> None:
    assert find_number_spans("42", "en") == [NumberSpan(0, 2, "42", "digits")]


def test_words_to_digits_replaces_each_number() -> None:
    assert words_to_digits("account one two three, ref forty-two", "en") == "account 123, ref 42"
    assert words_to_digits("j'ai vingt et un ans", "fr") == "j'ai 21 ans"


@pytest.mark.parametrize(
    ("text", "lang", "value"),
    [
        ("fifty", "en", 50),
        ("  Forty-Two! ", "en", 42),
        ("4242", "en", 4242),
        ("vingt et un", "fr", 21),
        ("deux mille vingt-quatre", "fr", 2024),
        ("four two", "en", None),
        ("fifty dollars", "en", None),
        ("hello", "en", None),
        ("", "fr", None),
        ("oh", "en", None),
    ],
)
def test_parse_cardinal_reads_one_whole_number(text: str, lang: str, value: int | None) -> None:
    assert parse_cardinal(text, lang) == value


@pytest.mark.parametrize(
    ("n", "en", "fr"),
    [
        (0, "zero", "zéro"),
        (17, "seventeen", "dix-sept"),
        (21, "twenty-one", "vingt et un"),
        (71, "seventy-one", "soixante et onze"),
        (80, "eighty", "quatre-vingts"),
        (81, "eighty-one", "quatre-vingt-un"),
        (91, "ninety-one", "quatre-vingt-onze"),
        (200, "two hundred", "deux cents"),
        (280, "two hundred eighty", "deux cent quatre-vingts"),
        (1000, "one thousand", "mille"),
        (80_000, "eighty thousand", "quatre-vingt mille"),
        (200_000, "two hundred thousand", "deux cent mille"),
        (2_000_000, "two million", "deux millions"),
        (1_001_000, "one million one thousand", "un million mille"),
    ],
)
def test_number_to_words(n: int, en: str, fr: str) -> None:
    assert number_to_words(n, "en") == en
    assert number_to_words(n, "fr") == fr


def test_feminine_agrees_a_final_un_only() -> None:
    assert number_to_words(21, "fr", feminine=True) == "vingt et une"
    assert number_to_words(1_000_000, "fr", feminine=True) == "un million"


@pytest.mark.parametrize(
    "call", [lambda: number_to_words(-1, "en"), lambda: parse_cardinal("1", "de")]
)
def test_bad_arguments_raise(call: object) -> None:
    assert callable(call)
    with pytest.raises(ValueError):
        call()


@given(st.integers(0, 10**12 - 1), st.sampled_from(["en", "fr"]))
@settings(max_examples=300)
def test_any_number_said_in_words_reads_back(n: int, lang: str) -> None:
    assert parse_cardinal(number_to_words(n, lang), lang) == n


@given(st.integers(0, 10**12 - 1), st.integers(0, 10**12 - 1), st.sampled_from(["en", "fr"]))
def test_numbers_split_by_a_comma_stay_apart(a: int, b: int, lang: str) -> None:
    text = f"{number_to_words(a, lang)}, {number_to_words(b, lang)}"
    [span] = find_number_spans(text, lang)
    assert span.parts == (str(a), str(b))


@given(
    st.text("0123456789", min_size=2, max_size=19),
    st.sampled_from(["en", "fr"]),
    st.sampled_from([" ", ", ", " - ", "-"]),
)
def test_any_digit_string_said_digit_by_digit_reads_back(
    digits: str, lang: str, separator: str
) -> None:
    spoken = separator.join(DIGIT_WORDS[lang][int(d)] for d in digits)
    text = f"ok {spoken} merci"
    [span] = find_number_spans(text, lang)
    assert (span.digits, span.kind) == (digits, "digits")
    assert text[span.start : span.end] == spoken


@given(st.text("0123456789", min_size=2, max_size=12))
def test_oh_reads_as_zero_between_digits(digits: str) -> None:
    words = ["oh" if d == "0" else DIGIT_WORDS["en"][int(d)] for d in digits]
    assert digits_of(" ".join(words), "en") in ([(digits, "digits")], [])
    if any(d != "0" for d in digits):
        assert digits_of(" ".join(words), "en") == [(digits, "digits")]


@given(st.lists(st.text("0123456789", min_size=1, max_size=6), min_size=1, max_size=5))
def test_numeral_groups_join_into_one_span(groups: list[str]) -> None:
    [span] = find_number_spans("card " + " ".join(groups) + " ok", None)
    assert span.digits == "".join(groups)


@pytest.mark.parametrize(
    ("text", "precise", "listener"),
    [
        ("4242, oh", ["4242"], ["42420"]),
        ("Oh, two of them", ["2"], ["2"]),
        ("quatre, une carte", ["41"], ["4"]),
        ("quatre une carte", ["41"], ["41"]),
        ("ref4242x4242", ["4242", "4242"], ["42424242"]),
        ("the 31st", ["31"], ["31"]),
    ],
)
def test_listener_grouping_hears_what_a_listener_would(
    text: str, precise: list[str], listener: list[str]
) -> None:
    assert [span.digits for span in find_number_spans(text)] == precise
    assert [span.digits for span in find_number_spans(text, grouping="listener")] == listener


def test_listener_spans_cover_glued_letters() -> None:
    [span] = find_number_spans("on the 31st", grouping="listener")
    assert (span.start, span.end) == (7, 11)


@given(
    st.text("0123456789", min_size=4, max_size=19),
    st.sampled_from(["en", "fr"]),
    st.sampled_from([" ", ", ", " - ", "-", ". "]),
)
def test_both_groupings_read_a_long_number_said_digit_by_digit(
    digits: str, lang: str, separator: str
) -> None:
    spoken = separator.join(DIGIT_WORDS[lang][int(d)] for d in digits)
    for grouping in ("precise", "listener"):
        [span] = find_number_spans(f"ok {spoken} merci", lang, grouping=grouping)
        assert span.digits == digits
