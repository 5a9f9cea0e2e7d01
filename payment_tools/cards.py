"""Card brands, their IIN ranges, the Luhn check and the validators for keypad entries.

Brand rules follow Twilio ``<Pay>``'s card-type rules. Every function here accepts the digits as
a ``str`` or an ASCII buffer (``bytes``, ``bytearray``, ``memoryview``), so the capture engine can
validate its wipeable buffers without making immutable copies of them. Validators raise
:class:`CaptureError` whose message is only the error type: a rejected value never appears in an
exception.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from payment_tools._capture_types import POSTAL_CODE_MAX_LENGTH, CaptureError, CaptureErrorType

Digits = str | bytes | bytearray | memoryview
"""Decimal digits as text or as an ASCII buffer."""

UNKNOWN_BRAND_MAX_LENGTH = 19
"""Longest card number of any brand; the cap while the brand is not yet known."""

_ZERO = ord("0")
_NINE = ord("9")


def _is_digits(digits: Digits) -> bool:
    """Non-empty and ASCII decimal digits only (``str.isdigit`` alone accepts ``"²"``)."""
    if isinstance(digits, str):
        return digits.isascii() and digits.isdigit()
    return len(digits) > 0 and all(_ZERO <= code <= _NINE for code in digits)


class CardBrand(StrEnum):
    """Card brands, named as Twilio ``<Pay>`` names them in ``validCardTypes``."""

    VISA = "visa"
    MASTERCARD = "mastercard"
    AMEX = "amex"
    DISCOVER = "discover"
    JCB = "jcb"
    DINERS_CLUB = "diners-club"
    MAESTRO = "maestro"


@dataclass(frozen=True, slots=True)
class IinRange:
    """An inclusive range of issuer identification number prefixes of one width, e.g. 51–55."""

    first: str
    last: str

    def __post_init__(self) -> None:
        if len(self.first) != len(self.last) or not _is_digits(self.first + self.last):
            raise ValueError("IIN range bounds must be digit strings of equal width")

    @property
    def width(self) -> int:
        """Number of leading digits the range looks at."""
        return len(self.first)

    def matches(self, digits: Digits) -> bool:
        """Whether ``digits`` (a card number or its start) begins inside this range."""
        if len(digits) < self.width or not _is_digits(digits):
            return False
        return int(self.first) <= int(digits[: self.width]) <= int(self.last)


@dataclass(frozen=True, slots=True)
class BrandRule:
    """What identifies a brand and what its numbers and security codes look like."""

    brand: CardBrand
    iin_ranges: tuple[IinRange, ...]
    lengths: frozenset[int]
    cvc_length: int = 3

    @property
    def max_length(self) -> int:
        """Longest card number of the brand."""
        return max(self.lengths)


def _ranges(*bounds: str) -> tuple[IinRange, ...]:
    """Build ranges from ``"51-55"`` or single-prefix ``"34"`` notation."""
    result = []
    for bound in bounds:
        first, _, last = bound.partition("-")
        result.append(IinRange(first, last or first))
    return tuple(result)


# Order matters only between equally specific prefixes: Maestro comes last because its ranges are
# "50 and 56-69 not otherwise claimed" (Discover's 65, for instance).
_RULES: tuple[BrandRule, ...] = (
    BrandRule(CardBrand.VISA, _ranges("4"), frozenset({13, 16, 19})),
    BrandRule(CardBrand.MASTERCARD, _ranges("51-55", "2221-2720"), frozenset({16})),
    BrandRule(CardBrand.AMEX, _ranges("34", "37"), frozenset({15}), cvc_length=4),
    BrandRule(CardBrand.DISCOVER, _ranges("6011", "644-649", "65"), frozenset(range(16, 20))),
    BrandRule(CardBrand.JCB, _ranges("3528-3589"), frozenset(range(16, 20))),
    BrandRule(CardBrand.DINERS_CLUB, _ranges("36", "38", "300-305"), frozenset({14, 16})),
    BrandRule(CardBrand.MAESTRO, _ranges("50", "56-69"), frozenset(range(12, 20))),
)
_RULE_BY_BRAND = {rule.brand: rule for rule in _RULES}


def rule_for(brand: CardBrand) -> BrandRule:
    """The rule of ``brand``."""
    return _RULE_BY_BRAND[brand]


def luhn_valid(digits: Digits) -> bool:
    """Whether ``digits`` is a non-empty digit string passing the Luhn (mod 10) check."""
    if not _is_digits(digits):
        return False
    codes = digits.encode("ascii") if isinstance(digits, str) else digits
    total = 0
    for position, code in enumerate(reversed(codes)):
        value = code - _ZERO
        if position % 2:
            value = value * 2 - 9 if value > 4 else value * 2
        total += value
    return total % 10 == 0


def detect_brand(digits: Digits) -> CardBrand | None:
    """The brand whose most specific IIN range matches the start of ``digits``, if any.

    Works on a partial number too, so the capture engine knows the brand's length early.
    """
    best: CardBrand | None = None
    best_width = 0
    for rule in _RULES:
        for iin_range in rule.iin_ranges:
            if iin_range.width > best_width and iin_range.matches(digits):
                best, best_width = rule.brand, iin_range.width
    return best


def max_number_length(prefix: Digits) -> int:
    """Longest card number that can start with ``prefix``: its brand's maximum, else 19."""
    brand = detect_brand(prefix)
    return rule_for(brand).max_length if brand else UNKNOWN_BRAND_MAX_LENGTH


def validate_card_number(digits: Digits, accepted: Collection[CardBrand]) -> CardBrand:
    """Check a complete card number and return its brand.

    Raises:
        CaptureError: ``invalid-card-number`` when it is not digits only, has no known brand, has a
            length its brand does not use, or fails the Luhn check; ``invalid-card-type`` when it is
            valid but its brand is not in ``accepted``.
    """
    brand = detect_brand(digits)
    if brand is None or len(digits) not in rule_for(brand).lengths or not luhn_valid(digits):
        raise CaptureError(CaptureErrorType.INVALID_CARD_NUMBER)
    if brand not in accepted:
        raise CaptureError(CaptureErrorType.INVALID_CARD_TYPE)
    return brand


def validate_expiry(mmyy: Digits, *, today: date) -> tuple[int, int]:
    """Check an ``MMYY`` expiry and return ``(month, four-digit year)``.

    A card is valid until the end of its expiry month, so the current month passes. The century is
    the one that puts the year less than 50 years before ``today`` or at most 50 years after.

    Raises:
        CaptureError: ``invalid-date`` when it is not four digits or the month is not 1-12;
            ``date-validation-failed`` when the month is before ``today``'s.
    """
    if len(mmyy) != 4 or not _is_digits(mmyy):
        raise CaptureError(CaptureErrorType.INVALID_DATE)
    month, short_year = int(mmyy[:2]), int(mmyy[2:])
    if not 1 <= month <= 12:
        raise CaptureError(CaptureErrorType.INVALID_DATE)
    year = today.year - today.year % 100 + short_year
    if year <= today.year - 50:
        year += 100
    elif year > today.year + 50:
        year -= 100
    if (year, month) < (today.year, today.month):
        raise CaptureError(CaptureErrorType.DATE_VALIDATION_FAILED)
    return month, year


def validate_security_code(code: Digits, brand: CardBrand) -> None:
    """Check a security code: digits only, exactly as long as ``brand`` uses.

    Raises:
        CaptureError: ``invalid-security-code``.
    """
    if len(code) != rule_for(brand).cvc_length or not _is_digits(code):
        raise CaptureError(CaptureErrorType.INVALID_SECURITY_CODE)


def validate_postal_code(code: Digits, *, min_length: int) -> None:
    """Check a postal code: digits only, ``min_length`` to 10 digits long.

    Raises:
        CaptureError: ``invalid-postal-code``.
    """
    if not min_length <= len(code) <= POSTAL_CODE_MAX_LENGTH or not _is_digits(code):
        raise CaptureError(CaptureErrorType.INVALID_POSTAL_CODE)
