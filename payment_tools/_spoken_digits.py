"""Finds numbers in English and French text, in digits or in words, with the digits they spell.

Callers read card numbers, expiry dates and codes in many ways: "4242 4242", "four two four two",
"forty-two forty-two", "double four", "oh eight thirty-one", "quatre deux", "quarante-deux",
"zéro huit trente et un", "two thousand thirty-one". A :class:`NumberSpan` is a maximal run of
number pieces joined by spaces, dashes or one ``,`` ``.`` ``/`` mark (hesitations such as "uh" or
"euh" allowed between pieces). Each piece is a digit group or a cardinal number in words, and the
span's digits are the pieces' digits side by side, as a caller reads a card: "four two forty-two"
is ``4242``.

Matching is done on :func:`fold`-ed text: lower case, accents removed, any Unicode decimal digit
turned into its ASCII digit, one character for one character so offsets stay valid.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from dataclasses import dataclass

_EN_UNITS = {
    "zero": 0, "nought": 0, "oh": 0, "o": 0, "one": 1, "two": 2, "three": 3, "four": 4,
    "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9,
}  # fmt: skip
_FR_UNITS = {
    "zero": 0, "un": 1, "une": 1, "deux": 2, "trois": 3, "quatre": 4, "cinq": 5, "six": 6,
    "sept": 7, "huit": 8, "neuf": 9,
}  # fmt: skip
_EN_TEENS = {
    "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15,
    "sixteen": 16, "seventeen": 17, "eighteen": 18, "nineteen": 19,
}  # fmt: skip
_FR_TEENS = {
    "dix": 10, "onze": 11, "douze": 12, "treize": 13, "quatorze": 14, "quinze": 15, "seize": 16,
}  # fmt: skip
_EN_TENS = {
    "twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70,
    "eighty": 80, "ninety": 90,
}  # fmt: skip
_FR_TENS = {
    "vingt": 20, "vingts": 20, "trente": 30, "quarante": 40, "cinquante": 50, "soixante": 60,
    "septante": 70, "huitante": 80, "octante": 80, "nonante": 90,
}  # fmt: skip
_UNITS = _EN_UNITS | _FR_UNITS
_TEENS = _EN_TEENS | _FR_TEENS
_TENS = _EN_TENS | _FR_TENS
_HUNDREDS = frozenset({"hundred", "cent", "cents"})
_THOUSANDS = frozenset({"thousand", "mille"})
_REPEATS = {"double": 2, "triple": 3}
_FILLERS = frozenset({"uh", "um", "umm", "er", "erm", "euh", "heu", "hum", "hmm"})
# Words that are numbers only next to other numbers: "oh, I see", "une carte".
_WEAK = frozenset({"oh", "o", "un", "une"})
# A number this long (a card group) keeps weak words at its edges even across punctuation.
_LONG_NUMBER = 4
# "two cents" is money, "deux cents" is 200: only a French (or shared) number multiplies "cent".
_ENGLISH_ONLY = frozenset(_EN_UNITS | _EN_TEENS | _EN_TENS) - frozenset(_FR_UNITS)

_TOKEN = re.compile(r"[^\W_]+")
_TIGHT = re.compile(r"[\s\-\u2010-\u2014]*")
_LINK = re.compile(r"[\s\-\u2010-\u2014]*(?:[,./][\s\-\u2010-\u2014]*)?")


@dataclass(frozen=True, slots=True)
class NumberSpan:
    """A number found in text.

    Attributes:
        start: offset of its first character.
        end: offset just past its last character.
        digits: the digits it spells.
    """

    start: int
    end: int
    digits: str


@dataclass(frozen=True, slots=True)
class _Token:
    start: int
    end: int
    word: str | None
    digits: str | None


@dataclass(frozen=True, slots=True)
class _Piece:
    digits: str
    start: int
    next: int
    strong: bool


@functools.lru_cache(maxsize=2048)
def _fold_char(char: str) -> str:
    decimal = unicodedata.decimal(char, None)
    if decimal is not None:
        return str(decimal)
    base = unicodedata.normalize("NFD", char)[0].lower()
    return base if len(base) == 1 else char


def fold(text: str) -> str:
    """Lower-case ``text``, strip accents and map Unicode digits to ASCII, keeping every offset."""
    if text.isascii():
        return text.lower()
    return "".join(_fold_char(char) for char in text)


def _tokenize(folded: str) -> list[_Token]:
    tokens = []
    for match in _TOKEN.finditer(folded):
        text = match.group()
        digits = "".join(char for char in text if "0" <= char <= "9")
        if digits == text or len(digits) >= 2:
            # A digit group, or a word carrying two or more digits ("31st", "ref4242...").
            tokens.append(_Token(match.start(), match.end(), None, digits))
        else:
            tokens.append(_Token(match.start(), match.end(), text, None))
    return tokens


class _Parser:
    """Reads number pieces off the token list of one folded text."""

    def __init__(self, folded: str) -> None:
        self._text = folded
        self.tokens = _tokenize(folded)

    def _gap_matches(self, index: int, pattern: re.Pattern[str]) -> bool:
        if not 0 < index < len(self.tokens):
            return False
        gap = self._text[self.tokens[index - 1].end : self.tokens[index].start]
        return pattern.fullmatch(gap) is not None

    def linked(self, index: int, *, tight: bool = False) -> bool:
        """Whether token ``index`` may continue a span that reached the token before it.

        Args:
            index: the token.
            tight: only a space or a dash may separate them, not punctuation.
        """
        return self._gap_matches(index, _TIGHT if tight else _LINK)

    def word(self, index: int) -> str | None:
        return self.tokens[index].word if index < len(self.tokens) else None

    def _next_word(self, index: int) -> str:
        """The word at ``index`` if it continues the same number (space or dash before it)."""
        word = self.word(index) if self._gap_matches(index, _TIGHT) else None
        return word or ""

    def piece(self, index: int) -> _Piece | None:
        """The number piece starting at token ``index``, if one does."""
        token = self.tokens[index]
        if token.digits is not None:
            return _Piece(token.digits, index, index + 1, True)
        word = token.word or ""
        repeated = _UNITS.get(self._next_word(index + 1))
        if word in _REPEATS and repeated is not None:
            return _Piece(str(repeated) * _REPEATS[word], index, index + 2, True)
        cardinal = self._cardinal(index)
        if cardinal is None:
            return None
        value, end = cardinal
        strong = not (end == index + 1 and word in _WEAK)
        return _Piece(str(value), index, end, strong)

    def _cardinal(self, index: int) -> tuple[int, int] | None:
        head = self._below_thousand(index)
        if head is not None and not (head[0] and self._next_word(head[1]) in _THOUSANDS):
            return head
        if head is None and self.word(index) not in _THOUSANDS:
            return None
        value, end = (head[0] * 1000, head[1] + 1) if head else (1000, index + 1)
        rest_start = end + 1 if self._next_word(end) in ("and", "et") else end
        rest = self._below_thousand(rest_start) if self._next_word(rest_start) else None
        if rest is not None and rest[0]:
            return value + rest[0], rest[1]
        return value, end

    def _below_thousand(self, index: int) -> tuple[int, int] | None:
        word = self.word(index)
        small = self._small(index)
        if small is not None:
            value, end = small
            multiplier = self._next_word(end)
            if not value or multiplier not in _HUNDREDS:
                return small
            if multiplier != "hundred" and word in _ENGLISH_ONLY:
                return small
        elif word in ("hundred", "cent"):
            # "cent deux" is 102; a bare "cents" is money ("two cents"), never a number.
            value, end = 1, index
        else:
            return None
        value, end = value * 100, end + 1
        rest_start = end + 1 if self._next_word(end) == "and" else end
        rest = self._small(rest_start) if self._next_word(rest_start) else None
        if rest is not None and rest[0]:
            return value + rest[0], rest[1]
        return value, end

    def _small(self, index: int) -> tuple[int, int] | None:
        """A number from 0 to 99 in words starting at token ``index``."""
        word = self.word(index) or ""
        following = self._next_word(index + 1)
        if word in _UNITS:
            if word == "quatre" and following in ("vingt", "vingts"):
                return self._tens_tail(80, index + 2, french_teens=True)
            return _UNITS[word], index + 1
        if word in _TEENS:
            if word == "dix" and following in ("sept", "huit", "neuf"):
                return 10 + _UNITS[following], index + 2
            return _TEENS[word], index + 1
        if word in _TENS:
            return self._tens_tail(_TENS[word], index + 1, french_teens=word == "soixante")
        return None

    def _tens_tail(self, tens: int, index: int, *, french_teens: bool) -> tuple[int, int]:
        """Complete a tens word: "forty two", "vingt et un", "soixante-dix-sept"."""
        word = self._next_word(index)
        if word == "et":
            after = self._next_word(index + 1)
            if after in ("un", "une") or (after == "onze" and french_teens):
                return tens + (11 if after == "onze" else 1), index + 2
            return tens, index
        if french_teens and word in _FR_TEENS:
            teen = self._small(index)
            if teen is not None:
                return tens + teen[0], teen[1]
        unit = _UNITS.get(word, 0)
        return (tens + unit, index + 1) if unit else (tens, index)


def _pieces(parser: _Parser) -> list[_Piece]:
    """Every number piece, left to right, each as long as the grammar allows."""
    pieces = []
    index = 0
    while index < len(parser.tokens):
        piece = parser.piece(index)
        if piece is None:
            index += 1
        else:
            pieces.append(piece)
            index = piece.next
    return pieces


def _joined(parser: _Parser, before: _Piece, after: _Piece) -> bool:
    """Whether only hesitations and span separators stand between two pieces."""
    between = range(before.next, after.start)
    return all(parser.word(index) in _FILLERS for index in between) and all(
        parser.linked(index) for index in range(before.next, after.start + 1)
    )


def _tight(parser: _Parser, before: _Piece, after: _Piece) -> bool:
    return before.next == after.start and parser.linked(after.start, tight=True)


def _trim_weak_edges(parser: _Parser, group: list[_Piece]) -> list[_Piece]:
    """Drop weak words ("oh", "un") that punctuation separates from the number they lead or end.

    "Oh, two of them" and "quatre, une carte" are not numbers, but a long number keeps them:
    "4242, oh" is the end of a card read digit by digit.
    """
    strong = [index for index, piece in enumerate(group) if piece.strong]
    if not strong:
        return []
    if sum(len(piece.digits) for piece in group) >= _LONG_NUMBER:
        return group
    first, last = strong[0], strong[-1]
    while first > 0 and _tight(parser, group[first - 1], group[first]):
        first -= 1
    while last < len(group) - 1 and _tight(parser, group[last], group[last + 1]):
        last += 1
    return group[first : last + 1]


def find_number_spans(text: str) -> list[NumberSpan]:
    """Every number span in ``text`` with the digits it spells, in order.

    Words that are numbers only next to other numbers ("oh", "un") count inside a number, when a
    space or a dash joins them to one, or at the edge of a number of four digits or more.
    """
    parser = _Parser(fold(text))
    groups: list[list[_Piece]] = []
    for piece in _pieces(parser):
        if groups and _joined(parser, groups[-1][-1], piece):
            groups[-1].append(piece)
        else:
            groups.append([piece])
    tokens = parser.tokens
    return [
        NumberSpan(
            start=tokens[group[0].start].start,
            end=tokens[group[-1].next - 1].end,
            digits="".join(piece.digits for piece in group),
        )
        for group in (_trim_weak_edges(parser, group) for group in groups)
        if group
    ]
