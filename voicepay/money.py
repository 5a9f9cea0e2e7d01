"""Money as an integer count of minor units plus an ISO 4217 currency, never a float.

:class:`Money` also renders itself for the caller: :meth:`Money.format` for display and text
("€50.00", "50,00 €") and :meth:`Money.spoken` for speech synthesis ("fifty euros").
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from voicepay.spoken_numbers import number_to_words


@dataclass(frozen=True)
class CurrencyNames:
    """How a currency and its minor unit are named in one language."""

    one: str
    many: str
    minor_one: str
    minor_many: str
    feminine: bool = False


@dataclass(frozen=True)
class _Currency:
    exponent: int
    symbol_en: str
    symbol_fr: str
    names: dict[str, CurrencyNames]


_CURRENCIES: dict[str, _Currency] = {
    "EUR": _Currency(
        2,
        "€",
        "€",
        {
            "en": CurrencyNames("euro", "euros", "cent", "cents"),
            "fr": CurrencyNames("euro", "euros", "centime", "centimes"),
        },
    ),
    "USD": _Currency(
        2,
        "$",
        "$",
        {
            "en": CurrencyNames("dollar", "dollars", "cent", "cents"),
            "fr": CurrencyNames("dollar", "dollars", "centime", "centimes"),
        },
    ),
    "GBP": _Currency(
        2,
        "£",
        "£",
        {
            "en": CurrencyNames("pound", "pounds", "penny", "pence"),
            "fr": CurrencyNames("livre sterling", "livres sterling", "penny", "pence", True),
        },
    ),
    "CAD": _Currency(
        2,
        "CA$",
        "$ CA",
        {
            "en": CurrencyNames("Canadian dollar", "Canadian dollars", "cent", "cents"),
            "fr": CurrencyNames("dollar canadien", "dollars canadiens", "centime", "centimes"),
        },
    ),
    "CHF": _Currency(
        2,
        "CHF",
        "CHF",
        {
            "en": CurrencyNames("Swiss franc", "Swiss francs", "centime", "centimes"),
            "fr": CurrencyNames("franc suisse", "francs suisses", "centime", "centimes"),
        },
    ),
    "JPY": _Currency(
        0,
        "¥",
        "¥",
        {
            "en": CurrencyNames("yen", "yen", "", ""),
            "fr": CurrencyNames("yen", "yens", "", ""),
        },
    ),
}

SUPPORTED_CURRENCIES = frozenset(_CURRENCIES)
_DECIMAL = re.compile(r"(-?)(\d+)(?:\.(\d+))?")


class CurrencyMismatchError(ValueError):
    """Two amounts in different currencies were added, subtracted or compared."""


def _currency(code: str) -> _Currency:
    try:
        return _CURRENCIES[code]
    except KeyError:
        raise ValueError(
            f"unsupported currency {code!r}; expected one of {sorted(_CURRENCIES)}"
        ) from None


def currency_exponent(code: str) -> int:
    """Number of decimal places of the currency's minor unit: 2 for EUR, 0 for JPY."""
    return _currency(code).exponent


def currency_names(code: str, lang: str) -> CurrencyNames:
    """The spoken names of a currency in ``lang`` (``"en"`` or ``"fr"``)."""
    names = _currency(code).names
    if lang not in names:
        raise ValueError(f"unsupported language {lang!r}")
    return names[lang]


@dataclass(frozen=True)
class Money:
    """An amount in minor units (cents) of an ISO currency.

    Adding, subtracting or comparing amounts of different currencies raises
    :class:`CurrencyMismatchError`.
    """

    minor: int
    currency: str

    def __post_init__(self) -> None:
        if not isinstance(self.minor, int) or isinstance(self.minor, bool):
            raise TypeError("Money.minor must be an int count of minor units")
        _currency(self.currency)

    @classmethod
    def from_decimal_str(cls, value: str, currency: str) -> Money:
        """Parse a plain decimal string such as ``"42.50"`` or ``"-3"``.

        Raises:
            ValueError: not a plain decimal, or more decimal places than the currency has.
        """
        exponent = currency_exponent(currency)
        match = _DECIMAL.fullmatch(value.strip())
        if match is None or len(match.group(3) or "") > exponent:
            raise ValueError(f"not a {currency} amount: {value!r}")
        sign, whole, fraction = match.groups()
        minor = int(whole) * 10**exponent + int((fraction or "").ljust(exponent, "0") or "0")
        return cls(-minor if sign else minor, currency)

    @property
    def exponent(self) -> int:
        """Decimal places of the currency's minor unit."""
        return currency_exponent(self.currency)

    def _split(self) -> tuple[str, int, int]:
        major, minor = divmod(abs(self.minor), 10**self.exponent)
        return ("-" if self.minor < 0 else ""), major, minor

    def to_decimal_str(self) -> str:
        """The amount as a plain decimal string: ``"42.50"``, ``"1234"`` for JPY."""
        sign, major, minor = self._split()
        return f"{sign}{major}.{minor:0{self.exponent}d}" if self.exponent else f"{sign}{major}"

    def format(self, lang: str) -> str:
        """Display form: ``"€1,234.56"`` in English, ``"1 234,56 €"`` in French."""
        sign, major, minor = self._split()
        info = _currency(self.currency)
        if lang == "en":
            number = f"{major:,}" + (f".{minor:0{self.exponent}d}" if self.exponent else "")
            symbol = info.symbol_en + (" " if info.symbol_en.isalpha() else "")
            return f"{sign}{symbol}{number}"
        if lang == "fr":
            number = f"{major:,}".replace(",", " ")
            number += f",{minor:0{self.exponent}d}" if self.exponent else ""
            return f"{sign}{number} {info.symbol_fr}"
        raise ValueError(f"unsupported language {lang!r}")

    def spoken(self, lang: str) -> str:
        """Words for speech synthesis: "forty-two dollars and fifty cents", "cinquante euros"."""
        names = currency_names(self.currency, lang)
        sign, major, minor = self._split()
        prefix = {"en": "minus ", "fr": "moins "}[lang] if sign else ""
        if major == 0 and minor:
            return prefix + _count(minor, names.minor_one, names.minor_many, lang)
        main = _count(major, names.one, names.many, lang, feminine=names.feminine)
        if not minor:
            return prefix + main
        if lang == "en":
            return f"{prefix}{main} and {_count(minor, names.minor_one, names.minor_many, lang)}"
        return f"{prefix}{main} {number_to_words(minor, lang)}"

    def _same(self, other: Money) -> None:
        if self.currency != other.currency:
            raise CurrencyMismatchError(f"{self.currency} and {other.currency} do not mix")

    def __add__(self, other: Money) -> Money:
        self._same(other)
        return Money(self.minor + other.minor, self.currency)

    def __sub__(self, other: Money) -> Money:
        self._same(other)
        return Money(self.minor - other.minor, self.currency)

    def __lt__(self, other: Money) -> bool:
        self._same(other)
        return self.minor < other.minor

    def __le__(self, other: Money) -> bool:
        self._same(other)
        return self.minor <= other.minor

    def __gt__(self, other: Money) -> bool:
        self._same(other)
        return self.minor > other.minor

    def __ge__(self, other: Money) -> bool:
        self._same(other)
        return self.minor >= other.minor


def _count(n: int, one: str, many: str, lang: str, *, feminine: bool = False) -> str:
    words = number_to_words(n, lang, feminine=feminine)
    if lang == "en":
        return f"{words} {one if n == 1 else many}"
    noun = one if n < 2 else many
    if re.search(r"(million|milliard)s?$", words):
        # "un million d'euros": a round million takes "de" before the noun.
        return f"{words} d'{noun}" if noun[0] in "aeiou" else f"{words} de {noun}"
    return f"{words} {noun}"
