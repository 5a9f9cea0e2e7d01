"""Reading the amount a caller wants to pay: a stated amount, the full balance, or the minimum."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from agent._nlu_text import matches, normalise, rx
from voicepay.money import SUPPORTED_CURRENCIES, Money, currency_exponent, currency_names
from voicepay.spoken_numbers import LANGUAGES, NumberSpan, check_language, find_number_spans, fold


@dataclass(frozen=True)
class AmountIntent:
    """The amount a caller chose: the full balance, the minimum, or a stated ``money`` amount."""

    kind: Literal["full", "minimum", "partial"]
    money: Money | None = None


_FULL = {
    "en": rx(
        r"(?:full|whole|entire|total|complete)(?: outstanding)? (?:balance|amount|bill|thing|lot"
        r"|sum)",
        r"in full|all of it|everything|the (?:outstanding )?balance|pay (?:it )?off|^all$",
        r"pay (?:it )?all|all the balance|the amount (?:owed|due)",
    ),
    "fr": rx(
        r"(?:la )?totalite|integralite|le solde|solde (?:complet|total|entier)|le total",
        r"montant (?:total|complet|entier|integral)|en entier|tout payer",
        r"(?<!du )(?<!ce est )tout(?! de suite| a fait| a le heure| le monde| compte fait)",
    ),
}
_MINIMUM = {
    "en": rx(r"minimum|minimal|the least (?:i can|possible|amount)|lowest (?:amount|payment)"),
    "fr": rx(r"minimum|minimal|minimale|le moins possible"),
}
_QUESTION_WORDS = frozenset(
    "what how which why when where combien quel quelle quels quelles pourquoi comment".split()
)


def parse_amount(text: str, lang: str, currency: str) -> AmountIntent | None:
    """Read the amount a caller wants to pay, in the account's ``currency``.

    An amount stated in numbers or words ("$42.50", "42,50 €", "forty-two dollars fifty", "forty
    two fifty", "quarante-deux euros cinquante") gives ``partial``; "the full balance", "all of
    it", "la totalité" give ``full``; "the minimum", "le minimum" give ``minimum``. ``None`` when
    unclear: no amount, two different amounts, a currency other than ``currency``, a number that
    cannot be an amount, or both full and minimum.
    """
    check_language(lang)
    exponent = currency_exponent(currency)
    mentions = _money_mentions(_amount_items(text, lang, exponent), currency, exponent)
    if mentions is None:
        return None
    strong = {m.minor for m in mentions if m.named}
    values = strong | {m.minor for m in mentions if not m.named and not m.lone_one}
    values = values or {m.minor for m in mentions}
    if len(values) > 1:
        return None
    if values:
        return AmountIntent("partial", Money(values.pop(), currency))
    norm = normalise(text)
    if norm.split(" ")[0] in _QUESTION_WORDS:
        return None
    full, minimum = matches(norm, _FULL[lang]), matches(norm, _MINIMUM[lang])
    if full == minimum:
        return None
    return AmountIntent("full" if full else "minimum")


def _currency_words() -> dict[tuple[str, ...], frozenset[str]]:
    words: dict[tuple[str, ...], set[str]] = {}
    for code in SUPPORTED_CURRENCIES:
        words.setdefault((code.lower(),), set()).add(code)
        for lang in LANGUAGES:
            names = currency_names(code, lang)
            for name in (names.one, names.many):
                words.setdefault(tuple(fold(name).split()), set()).add(code)
    synonyms = {
        "dollar dollars buck bucks": {"USD", "CAD"},
        "pound pounds quid livre livres": {"GBP"},
        "franc francs": {"CHF"},
    }
    for spelled, codes in synonyms.items():
        for word in spelled.split():
            words.setdefault((word,), set()).update(codes)
    return {phrase: frozenset(codes) for phrase, codes in words.items()}


_MAJOR_WORDS = _currency_words()
_MINOR_WORDS = frozenset("cent cents centime centimes penny pence p".split())
_SYMBOLS = {"€": {"EUR"}, "$": {"USD", "CAD"}, "£": {"GBP"}, "¥": {"JPY"}}
_SEGMENT = re.compile(r"ca ?\$|\$ ?ca\b|[€$£¥]|[a-z]+")


@dataclass(frozen=True)
class _Item:
    kind: Literal["num", "cur", "minor", "and", "de", "word"]
    codes: frozenset[str] = frozenset()
    amount: int | None = None  # the number read alone as an amount, in minor units
    integer: int | None = None  # the number as a whole count (for cents), if it is one
    lone_one: bool = False  # a bare "un"/"une"/"one", most often an article


@dataclass(frozen=True)
class _Mention:
    minor: int
    named: bool  # a currency word or symbol goes with it
    lone_one: bool


def _amount_items(text: str, lang: str, exponent: int) -> list[_Item]:
    """The utterance as numbers, currency mentions and other words, in order."""
    items: list[_Item] = []
    pos = 0
    for span in [*find_number_spans(text, lang), None]:
        segment = fold(text[pos : span.start if span else len(text)])
        items += _segment_items([w.replace(" ", "") for w in _SEGMENT.findall(segment)])
        if span is not None:
            items.append(_number_item(span, text[span.start : span.end], exponent))
            pos = span.end
    return items


def _segment_items(words: list[str]) -> list[_Item]:
    items: list[_Item] = []
    i = 0
    while i < len(words):
        for size in (3, 2, 1):
            phrase = tuple(words[i : i + size])
            if len(phrase) == size and phrase in _MAJOR_WORDS:
                items.append(_Item("cur", codes=_MAJOR_WORDS[phrase]))
                break
        else:
            size, word = 1, words[i]
            if word in ("ca$", "$ca"):
                items.append(_Item("cur", codes=frozenset({"CAD"})))
            elif word in _SYMBOLS:
                items.append(_Item("cur", codes=frozenset(_SYMBOLS[word])))
            elif word in _MINOR_WORDS:
                items.append(_Item("minor"))
            elif word in ("and", "et", "de", "d"):
                items.append(_Item("and" if word in ("and", "et") else "de"))
            else:
                items.append(_Item("word"))
        i += size
    return items


def _number_item(span: NumberSpan, said: str, exponent: int) -> _Item:
    scale = 10**exponent
    if any(ch.isdigit() for ch in said):
        numeral = _numeral_amount(said, exponent)
        if numeral is None:
            return _Item("num")
        major, minor, decimal = numeral
        return _Item("num", amount=major * scale + minor, integer=None if decimal else major)
    parts = span.parts
    if span.kind == "cardinal" or all(len(part) == 1 for part in parts):
        value = int(span.digits)
        lone_one = span.kind == "cardinal" and fold(said) in ("un", "une", "one")
        return _Item("num", amount=value * scale, integer=value, lone_one=lone_one)
    if exponent == 2 and len(parts) == 2 and len(parts[1]) == 2:
        # "forty two fifty": dollars then cents, as prices are said aloud.
        return _Item("num", amount=int(parts[0]) * scale + int(parts[1]))
    return _Item("num")


def _numeral_amount(said: str, exponent: int) -> tuple[int, int, bool] | None:
    """Read "1,234.56", "1 234,56", "42.5" or "4250" as (major, minor, has decimals)."""
    said = re.sub(r"\s+", " ", said.strip())
    if not re.fullmatch(r"[\d ,.]+", said):
        return None
    pieces = re.split(r"([ ,.])", said)
    numbers, separators = pieces[0::2], pieces[1::2]
    decimals = ""
    if separators and separators[-1] in ".," and 1 <= len(numbers[-1]) <= 2:
        decimals, decimal_separator = numbers.pop(), separators.pop()
        if exponent == 0 or decimal_separator in separators:
            return None
    if separators and (
        len(set(separators)) > 1
        or not 1 <= len(numbers[0]) <= 3
        or any(len(group) != 3 for group in numbers[1:])
    ):
        return None
    minor = int(decimals.ljust(exponent, "0")) if decimals else 0
    return int("".join(numbers)), minor, bool(decimals)


def _money_mentions(items: list[_Item], currency: str, exponent: int) -> list[_Mention] | None:
    """Every amount said, or ``None`` when a number or currency cannot be this payment."""
    mentions = []
    k = 0
    while k < len(items):
        item = items[k]
        if item.kind != "num":
            k += 1
            continue
        codes = [items[k - 1].codes] if k > 0 and items[k - 1].kind == "cur" else []
        j = k + 1
        if [it.kind for it in items[j : j + 2]] == ["de", "cur"]:
            j += 1  # "un million d'euros"
        named_after = j < len(items) and items[j].kind == "cur"
        if named_after:
            codes.append(items[j].codes)
            j += 1
        if not codes and j < len(items) and items[j].kind == "minor":
            if item.integer is None or exponent == 0:
                return None
            minor, j = item.integer, j + 1
        elif item.amount is None:
            return None
        else:
            minor = item.amount
            if named_after and item.integer is not None and exponent:
                cents, j = _cents_after(items, j, exponent)
                minor += cents
        if any(currency not in allowed for allowed in codes):
            return None
        mentions.append(_Mention(minor, named=bool(codes), lone_one=item.lone_one))
        k = j
    return mentions


def _cents_after(items: list[_Item], j: int, exponent: int) -> tuple[int, int]:
    """Cents said after the currency ("dollars fifty", "euros et cinquante centimes")."""
    at = j + 1 if j < len(items) and items[j].kind == "and" else j
    if at >= len(items) or items[at].kind != "num":
        return 0, j
    cents = items[at].integer
    if cents is None or cents >= 10**exponent:
        return 0, j
    if at + 1 < len(items) and items[at + 1].kind == "minor":
        return cents, at + 2
    return cents, at + 1
