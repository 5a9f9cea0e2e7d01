from __future__ import annotations

from collections.abc import Callable
from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from payment_tools.capture import CaptureError, CaptureErrorType
from payment_tools.cards import (
    CardBrand,
    IinRange,
    detect_brand,
    luhn_valid,
    max_number_length,
    rule_for,
    validate_card_number,
    validate_expiry,
    validate_postal_code,
    validate_security_code,
)

ALL_BRANDS = frozenset(CardBrand)
TODAY = date(2025, 6, 15)

STRIPE_TEST_CARDS = [
    ("4242424242424242", CardBrand.VISA),
    ("4000000000000002", CardBrand.VISA),
    ("4000000000009995", CardBrand.VISA),
    ("4000000000000069", CardBrand.VISA),
    ("4000000000000127", CardBrand.VISA),
    ("378282246310005", CardBrand.AMEX),
    ("5555555555554444", CardBrand.MASTERCARD),
]

# Maestro's ranges are "50 and 56-69 not otherwise claimed"; Discover claims 6011, 644-649, 65.
MAESTRO_ONLY_PREFIXES = ["50", "56", "57", "58", "59", "61", "62", "63", "66", "67", "68", "69"]


def luhn_complete(body: str) -> str:
    """Append the check digit that makes ``body`` Luhn-valid (computed independently here)."""
    total = 0
    for position, char in enumerate(reversed(body)):
        value = int(char)
        if position % 2 == 0:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return body + str((10 - total % 10) % 10)


@st.composite
def valid_pans(draw: st.DrawFn) -> tuple[str, CardBrand]:
    brand = draw(st.sampled_from(list(CardBrand)))
    rule = rule_for(brand)
    iin = draw(st.sampled_from(rule.iin_ranges))
    prefix = str(draw(st.integers(int(iin.first), int(iin.last)))).zfill(iin.width)
    if brand is CardBrand.MAESTRO:
        prefix = draw(st.sampled_from(MAESTRO_ONLY_PREFIXES))
    length = draw(st.sampled_from(sorted(rule.lengths)))
    filler = length - len(prefix) - 1
    body = prefix + draw(st.text("0123456789", min_size=filler, max_size=filler))
    return luhn_complete(body), brand


@pytest.mark.parametrize(("pan", "brand"), STRIPE_TEST_CARDS)
def test_stripe_test_cards_are_valid_and_branded(pan: str, brand: CardBrand) -> None:
    assert luhn_valid(pan)
    assert detect_brand(pan) is brand
    assert validate_card_number(pan, ALL_BRANDS) is brand


@pytest.mark.parametrize(
    ("prefix", "brand"),
    [
        ("4", CardBrand.VISA),
        ("51", CardBrand.MASTERCARD),
        ("55", CardBrand.MASTERCARD),
        ("2221", CardBrand.MASTERCARD),
        ("2720", CardBrand.MASTERCARD),
        ("2220", None),
        ("2721", None),
        ("34", CardBrand.AMEX),
        ("37", CardBrand.AMEX),
        ("35", None),
        ("6011", CardBrand.DISCOVER),
        ("644", CardBrand.DISCOVER),
        ("649", CardBrand.DISCOVER),
        ("65", CardBrand.DISCOVER),
        ("3528", CardBrand.JCB),
        ("3589", CardBrand.JCB),
        ("3527", None),
        ("3590", None),
        ("36", CardBrand.DINERS_CLUB),
        ("38", CardBrand.DINERS_CLUB),
        ("300", CardBrand.DINERS_CLUB),
        ("305", CardBrand.DINERS_CLUB),
        ("306", None),
        ("50", CardBrand.MAESTRO),
        ("56", CardBrand.MAESTRO),
        ("6012", CardBrand.MAESTRO),
        ("643", CardBrand.MAESTRO),
        ("69", CardBrand.MAESTRO),
        ("1", None),
        ("", None),
    ],
)
def test_brand_is_the_most_specific_iin_match(prefix: str, brand: CardBrand | None) -> None:
    assert detect_brand(prefix + "0000") is brand


def test_brand_names_are_twilios() -> None:
    assert {brand.value for brand in CardBrand} == {
        "visa", "mastercard", "amex", "discover", "jcb", "diners-club", "maestro"
    }  # fmt: skip


def test_only_amex_has_a_four_digit_security_code() -> None:
    assert {brand: rule_for(brand).cvc_length for brand in CardBrand} == {
        brand: 4 if brand is CardBrand.AMEX else 3 for brand in CardBrand
    }


@pytest.mark.parametrize(
    ("prefix", "expected"), [("", 19), ("3", 19), ("37", 15), ("51", 16), ("4", 19), ("36", 16)]
)
def test_max_number_length_follows_the_brand_of_the_prefix(prefix: str, expected: int) -> None:
    assert max_number_length(prefix) == expected


@given(valid_pans())
def test_generated_pans_are_branded_and_luhn_valid(pan_and_brand: tuple[str, CardBrand]) -> None:
    pan, brand = pan_and_brand
    assert luhn_valid(pan)
    assert detect_brand(pan) is brand
    assert validate_card_number(pan, {brand}) is brand
    assert detect_brand(bytearray(pan, "ascii")) is brand
    assert luhn_valid(memoryview(pan.encode()))


@given(valid_pans(), st.data())
def test_any_single_digit_change_breaks_luhn(
    pan_and_brand: tuple[str, CardBrand], data: st.DataObject
) -> None:
    pan, _ = pan_and_brand
    position = data.draw(st.integers(0, len(pan) - 1))
    digit = data.draw(st.sampled_from([d for d in "0123456789" if d != pan[position]]))
    changed = pan[:position] + digit + pan[position + 1 :]
    assert not luhn_valid(changed)
    with pytest.raises(CaptureError) as raised:
        validate_card_number(changed, ALL_BRANDS)
    assert raised.value.error_type is CaptureErrorType.INVALID_CARD_NUMBER


@given(st.text(max_size=25))
def test_luhn_text_and_bytes_agree_and_non_digits_fail(text: str) -> None:
    result = luhn_valid(text)
    if not (text.isascii() and text.isdigit()):
        assert not result
    else:
        assert luhn_valid(text.encode()) is result
        assert luhn_valid(bytearray(text.encode())) is result


@pytest.mark.parametrize(
    "text", ["", "4242 4242 4242 4242", "４２４２４２４２４２４２４２４２", "²", "-0"]
)
def test_luhn_rejects_anything_but_ascii_digits(text: str) -> None:
    assert not luhn_valid(text)


@pytest.mark.parametrize(
    ("number", "accepted", "error"),
    [
        ("4242424242424241", ALL_BRANDS, CaptureErrorType.INVALID_CARD_NUMBER),
        ("424242424242424", ALL_BRANDS, CaptureErrorType.INVALID_CARD_NUMBER),
        ("1234567812345670", ALL_BRANDS, CaptureErrorType.INVALID_CARD_NUMBER),
        ("4242-4242-4242-4242", ALL_BRANDS, CaptureErrorType.INVALID_CARD_NUMBER),
        ("", ALL_BRANDS, CaptureErrorType.INVALID_CARD_NUMBER),
        ("5555555555554444", {CardBrand.VISA}, CaptureErrorType.INVALID_CARD_TYPE),
        (
            "378282246310005",
            {CardBrand.VISA, CardBrand.MASTERCARD},
            CaptureErrorType.INVALID_CARD_TYPE,
        ),
    ],
)
def test_invalid_card_numbers_raise_typed_errors_without_the_value(
    number: str, accepted: frozenset[CardBrand], error: CaptureErrorType
) -> None:
    with pytest.raises(CaptureError) as raised:
        validate_card_number(number, accepted)
    assert raised.value.error_type is error
    assert str(raised.value) == error.value


def test_a_luhn_valid_number_of_a_wrong_length_for_its_brand_is_invalid() -> None:
    fifteen_digit_visa = luhn_complete("42424242424242")
    assert luhn_valid(fifteen_digit_visa)
    with pytest.raises(CaptureError) as raised:
        validate_card_number(fifteen_digit_visa, ALL_BRANDS)
    assert raised.value.error_type is CaptureErrorType.INVALID_CARD_NUMBER


@pytest.mark.parametrize(
    ("mmyy", "expected"),
    [("0625", (6, 2025)), ("1225", (12, 2025)), ("0130", (1, 2030)), ("0175", (1, 2075))],
)
def test_valid_expiry_dates_include_the_current_month(mmyy: str, expected: tuple[int, int]) -> None:
    assert validate_expiry(mmyy, today=TODAY) == expected


@pytest.mark.parametrize(
    ("mmyy", "error"),
    [
        ("0525", CaptureErrorType.DATE_VALIDATION_FAILED),
        ("1224", CaptureErrorType.DATE_VALIDATION_FAILED),
        ("1325", CaptureErrorType.INVALID_DATE),
        ("0026", CaptureErrorType.INVALID_DATE),
        ("126", CaptureErrorType.INVALID_DATE),
        ("12026", CaptureErrorType.INVALID_DATE),
        ("1a26", CaptureErrorType.INVALID_DATE),
        ("", CaptureErrorType.INVALID_DATE),
    ],
)
def test_invalid_expiry_dates_raise_typed_errors(mmyy: str, error: CaptureErrorType) -> None:
    with pytest.raises(CaptureError) as raised:
        validate_expiry(mmyy, today=TODAY)
    assert raised.value.error_type is error
    assert str(raised.value) == error.value


def test_expiry_century_follows_today() -> None:
    assert validate_expiry("0100", today=date(2099, 12, 1)) == (1, 2100)
    with pytest.raises(CaptureError):
        validate_expiry("1199", today=date(2099, 12, 1))


@given(
    st.dates(min_value=date(2000, 1, 1), max_value=date(2200, 12, 31)),
    st.integers(1, 12),
    st.integers(0, 99),
)
def test_expiry_is_accepted_exactly_when_not_in_the_past(today: date, month: int, yy: int) -> None:
    mmyy = f"{month:02d}{yy:02d}"
    try:
        got_month, year = validate_expiry(mmyy, today=today)
    except CaptureError as error:
        assert error.error_type is CaptureErrorType.DATE_VALIDATION_FAILED
        year = next(y for y in range(today.year - 49, today.year + 51) if y % 100 == yy)
        assert (year, month) < (today.year, today.month)
    else:
        assert got_month == month
        assert year % 100 == yy
        assert (today.year, today.month) <= (year, month) <= (today.year + 50, 12)


def test_expiry_fifty_years_either_way_reads_as_the_future() -> None:
    assert validate_expiry("0120", today=date(2070, 1, 1)) == (1, 2120)


@pytest.mark.parametrize(
    ("code", "brand", "valid"),
    [
        ("123", CardBrand.VISA, True),
        ("1234", CardBrand.AMEX, True),
        ("123", CardBrand.AMEX, False),
        ("1234", CardBrand.VISA, False),
        ("12", CardBrand.MASTERCARD, False),
        ("12a", CardBrand.VISA, False),
        ("", CardBrand.VISA, False),
    ],
)
def test_security_code_length_is_the_brands(code: str, brand: CardBrand, valid: bool) -> None:
    if valid:
        validate_security_code(code, brand)
        return
    with pytest.raises(CaptureError) as raised:
        validate_security_code(code, brand)
    assert raised.value.error_type is CaptureErrorType.INVALID_SECURITY_CODE
    assert str(raised.value) == "invalid-security-code"


@pytest.mark.parametrize(
    ("code", "min_length", "valid"),
    [
        ("94107", 5, True),
        ("9410712345", 5, True),
        ("941", 3, True),
        ("9410", 5, False),
        ("94107123456", 5, False),
        ("9410a", 5, False),
        ("", 3, False),
    ],
)
def test_postal_code_is_digits_between_min_length_and_ten(
    code: str, min_length: int, valid: bool
) -> None:
    if valid:
        validate_postal_code(code, min_length=min_length)
        return
    with pytest.raises(CaptureError) as raised:
        validate_postal_code(code, min_length=min_length)
    assert raised.value.error_type is CaptureErrorType.INVALID_POSTAL_CODE


@given(st.text(max_size=20))
def test_validator_errors_never_contain_the_input(text: str) -> None:
    checks: list[Callable[[], object]] = [
        lambda: validate_card_number(text, ALL_BRANDS),
        lambda: validate_expiry(text, today=TODAY),
        lambda: validate_security_code(text, CardBrand.VISA),
        lambda: validate_postal_code(text, min_length=5),
    ]
    for check in checks:
        try:
            check()
        except CaptureError as error:
            assert str(error) in {error_type.value for error_type in CaptureErrorType}
            assert error.args == (error.error_type.value,)


@pytest.mark.parametrize(("first", "last"), [("5", "55"), ("a", "b"), ("", "")])
def test_iin_range_bounds_must_be_digits_of_one_width(first: str, last: str) -> None:
    with pytest.raises(ValueError):
        IinRange(first, last)
