from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from voicepay.money import (
    SUPPORTED_CURRENCIES,
    CurrencyMismatchError,
    Money,
    currency_exponent,
)

currencies = st.sampled_from(sorted(SUPPORTED_CURRENCIES))
moneys = st.builds(Money, minor=st.integers(-(10**12), 10**12), currency=currencies)


@pytest.mark.parametrize(
    ("text", "currency", "minor"),
    [
        ("42.50", "EUR", 4250),
        ("42.5", "EUR", 4250),
        ("42", "USD", 4200),
        ("0.01", "GBP", 1),
        ("-3", "EUR", -300),
        ("1235", "JPY", 1235),
    ],
)
def test_from_decimal_str_reads_plain_decimals(text: str, currency: str, minor: int) -> None:
    assert Money.from_decimal_str(text, currency) == Money(minor, currency)


@pytest.mark.parametrize(
    ("text", "currency"),
    [
        ("42.505", "EUR"),
        ("1.5", "JPY"),
        ("1,50", "EUR"),
        ("1e3", "EUR"),
        ("", "EUR"),
        ("€5", "EUR"),
    ],
)
def test_from_decimal_str_rejects_anything_else(text: str, currency: str) -> None:
    with pytest.raises(ValueError):
        Money.from_decimal_str(text, currency)


@given(moneys)
def test_decimal_string_round_trips(money: Money) -> None:
    assert Money.from_decimal_str(money.to_decimal_str(), money.currency) == money


def test_exponents_follow_iso_4217() -> None:
    assert [currency_exponent(c) for c in ("EUR", "USD", "GBP", "JPY")] == [2, 2, 2, 0]


@pytest.mark.parametrize("currency", ["eur", "XXX", ""])
def test_unknown_or_lower_case_currency_is_refused(currency: str) -> None:
    with pytest.raises(ValueError):
        Money(100, currency)


def test_minor_units_must_be_an_integer() -> None:
    with pytest.raises(TypeError):
        Money(42.5, "EUR")  # type: ignore[arg-type]  # the refusal of a float is under test


@pytest.mark.parametrize(
    ("money", "en", "fr"),
    [
        (Money(5000, "EUR"), "€50.00", "50,00 €"),
        (Money(123456, "USD"), "$1,234.56", "1 234,56 $"),
        (Money(50, "GBP"), "£0.50", "0,50 £"),
        (Money(123456, "CAD"), "CA$1,234.56", "1 234,56 $ CA"),
        (Money(5000, "CHF"), "CHF 50.00", "50,00 CHF"),
        (Money(1235, "JPY"), "¥1,235", "1 235 ¥"),
        (Money(-500, "EUR"), "-€5.00", "-5,00 €"),
    ],
)
def test_format_for_display(money: Money, en: str, fr: str) -> None:
    assert money.format("en") == en
    assert money.format("fr") == fr


@pytest.mark.parametrize(
    ("money", "en", "fr"),
    [
        (Money(5000, "EUR"), "fifty euros", "cinquante euros"),
        (
            Money(4250, "USD"),
            "forty-two dollars and fifty cents",
            "quarante-deux dollars cinquante",
        ),
        (Money(4250, "EUR"), "forty-two euros and fifty cents", "quarante-deux euros cinquante"),
        (Money(100, "EUR"), "one euro", "un euro"),
        (Money(1, "GBP"), "one penny", "un penny"),
        (Money(50, "EUR"), "fifty cents", "cinquante centimes"),
        (
            Money(2150, "GBP"),
            "twenty-one pounds and fifty pence",
            "vingt et une livres sterling cinquante",
        ),
        (Money(100_000_000, "EUR"), "one million euros", "un million d'euros"),
        (Money(8000, "EUR"), "eighty euros", "quatre-vingts euros"),
        (Money(500, "JPY"), "five hundred yen", "cinq cents yens"),
        (Money(-500, "EUR"), "minus five euros", "moins cinq euros"),
    ],
)
def test_spoken_for_speech(money: Money, en: str, fr: str) -> None:
    assert money.spoken("en") == en
    assert money.spoken("fr") == fr


def test_unknown_language_is_refused() -> None:
    with pytest.raises(ValueError):
        Money(100, "EUR").format("de")
    with pytest.raises(ValueError):
        Money(100, "EUR").spoken("de")


@given(st.integers(-(10**9), 10**9), st.integers(-(10**9), 10**9), currencies)
def test_arithmetic_and_order_follow_minor_units(a: int, b: int, currency: str) -> None:
    x, y = Money(a, currency), Money(b, currency)
    assert (x + y).minor == a + b
    assert (x - y) + y == x
    assert (x < y, x <= y, x > y, x >= y) == (a < b, a <= b, a > b, a >= b)


@pytest.mark.parametrize(
    "operation",
    [
        lambda x, y: x + y,
        lambda x, y: x - y,
        lambda x, y: x < y,
        lambda x, y: x <= y,
        lambda x, y: x > y,
        lambda x, y: x >= y,
    ],
)
def test_mixing_currencies_raises(operation: object) -> None:
    assert callable(operation)
    with pytest.raises(CurrencyMismatchError):
        operation(Money(100, "EUR"), Money(100, "USD"))


def test_different_currencies_are_never_equal() -> None:
    assert Money(100, "EUR") != Money(100, "USD")
