"""Numbers in caller speech, in English and French: finding them as digits, and saying them.

A transcript may carry a number as numerals ("4242"), as digits read one by one ("four two, oh
eight", "double four"), or as a cardinal ("forty-two", "quatre-vingt-dix-neuf"). This module finds
every such run and reports the digits it stands for. It is the project's only number-words parser:
the dialogue reads amounts and account numbers with it, and the card-data redactor spots card
numbers with it however they were said. Matching is done on :func:`fold`-ed text, which keeps
offsets, so spans index the original text.

Every piece (a numeral, a cardinal, "oh", "double four") is read by one grammar. How pieces are
grouped into spans depends on ``grouping``, because the two callers must err in opposite ways:

* ``"precise"`` (understanding) must not invent digits. "oh" and other weak words join a number
  only when spoken right next to it ("oh, one two" is 12), any run of spaces and ``, . / -`` marks
  joins pieces, and "31st" or "ref4242" are the numeral plus a word, so the span is a clean
  numeral an amount can be read from.
* ``"listener"`` (redaction) must not miss card data, so it groups as a person hearing a card
  number would. Letters and digits that touch form one numeral ("4242x4242" is eight digits), so
  card data cannot hide in a token. Pieces join across spaces, dashes and at most one ``, . /``
  mark. "oh", "o", "un" and "une" are weak: they are numbers inside a span, but where punctuation
  parts them from a short number (under four digits) they are dropped ("Oh, two of them", "quatre,
  une carte"), whereas a card group keeps them ("4242, oh" is the end of a card read aloud).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Literal

from voicepay._number_lexicon import (
    FILLER,
    LANGUAGES,
    LEXICONS,
    check_language,
    fold,
    tokens,
)
from voicepay._number_reader import TIGHT, Group, joined, read_group
from voicepay._number_words import number_to_words

__all__ = [
    "LANGUAGES",
    "Grouping",
    "NumberSpan",
    "check_language",
    "find_number_spans",
    "fold",
    "number_to_words",
    "parse_cardinal",
    "words_to_digits",
]

Grouping = Literal["precise", "listener"]
"""How number pieces are grouped into spans; see the module docstring."""

_DASHES = r"\-\u2010-\u2014"
_GAPS: dict[Grouping, re.Pattern[str]] = {
    "precise": re.compile(rf"[\s,./{_DASHES}]*"),
    # A listener hears pauses, not punctuation: "4242... 4242" is one number read slowly.
    "listener": re.compile(rf"[\s{_DASHES}]*(?:[,./…]+[\s{_DASHES}]*)*"),
}
_WEAK: dict[Grouping, frozenset[str]] = {
    "precise": frozenset({"oh", "o"}),
    "listener": frozenset({"oh", "o", "un", "une"}),
}
# A number this long (a card group) keeps weak words at its edges even across punctuation.
_LONG_NUMBER = 4


@dataclass(frozen=True)
class NumberSpan:
    """A run of ``text[start:end]`` that says a number, and the digits it stands for.

    ``kind`` is ``"cardinal"`` when the run is one number said in words ("forty-two"), and
    ``"digits"`` for numerals and for runs of several numbers whose digits follow each other ("four
    two forty two" is ``"4242"``). ``parts`` holds the digits of each of those numbers in order.
    """

    start: int
    end: int
    digits: str
    kind: Literal["digits", "cardinal"]
    parts: tuple[str, ...] = field(default=(), compare=False)


class _Reading:
    """The number pieces of one text, and how they may join."""

    def __init__(self, text: str, lang: str | None, grouping: Grouping) -> None:
        self.text = fold(text)
        self.toks = tokens(self.text, glued=grouping == "listener")
        self._lex = LEXICONS[lang]
        self._gap = _GAPS[grouping]
        self._weak_words = _WEAK[grouping]

    def read(self, i: int) -> Group | None:
        """The number piece starting at token ``i``, if one does."""
        return read_group(self.text, self.toks, i, self._lex)

    def groups(self) -> list[Group]:
        """Every number piece, left to right, each as long as the grammar allows."""
        found, i = [], 0
        while i < len(self.toks):
            group = self.read(i)
            if group is None:
                i += 1
            else:
                found.append(group)
                i = group.stop
        return found

    def weak(self, group: Group) -> bool:
        """Whether ``group`` is a lone word that is a number only next to other numbers."""
        return group.stop == group.first + 1 and self.toks[group.first].word in self._weak_words

    def linked(self, left: Group, right: Group) -> bool:
        """Whether only hesitations and separators stand between two pieces."""
        between = self.toks[left.stop : right.first]
        if not all(FILLER.fullmatch(tok.word) for tok in between):
            return False
        edges = self.toks[left.stop - 1 : right.first + 1]
        # A hesitation is a word of its own: "uh42" is not "uh" then 42.
        return all(
            joined(self.text, a, b, self._gap) and (a.end < b.start or not FILLER.fullmatch(a.word))
            for a, b in zip(edges, edges[1:], strict=False)
        )

    def tight(self, left: Group, right: Group) -> bool:
        """Whether two pieces are said right after each other, with no punctuation between."""
        return left.stop == right.first and joined(
            self.text, self.toks[left.stop - 1], self.toks[right.first], TIGHT
        )

    def span(self, run: list[Group]) -> NumberSpan:
        """The span said by a run of pieces."""
        single = len(run) == 1 and run[0].cardinal
        return NumberSpan(
            start=self.toks[run[0].first].start,
            end=self.toks[run[-1].stop - 1].end,
            digits="".join(g.digits for g in run),
            kind="cardinal" if single else "digits",
            parts=tuple(g.digits for g in run),
        )


def _precise_runs(reading: _Reading) -> list[list[Group]]:
    runs: list[list[Group]] = []
    for group in reading.groups():
        prev = runs[-1][-1] if runs else None
        if prev is not None and (
            reading.tight(prev, group)
            # A lone "oh" counts as zero only when spoken right next to other digits.
            or not (reading.weak(prev) or reading.weak(group))
            and reading.linked(prev, group)
        ):
            runs[-1].append(group)
        else:
            runs.append([group])
    return [run for run in runs if not all(reading.weak(g) for g in run)]


def _listener_runs(reading: _Reading) -> list[list[Group]]:
    runs: list[list[Group]] = []
    for group in reading.groups():
        if runs and reading.linked(runs[-1][-1], group):
            runs[-1].append(group)
        else:
            runs.append([group])
    trimmed = (_trim_weak_edges(reading, run) for run in runs)
    return [run for run in trimmed if run]


def _trim_weak_edges(reading: _Reading, run: list[Group]) -> list[Group]:
    """Drop weak words that punctuation separates from the short number they lead or end."""
    strong = [k for k, group in enumerate(run) if not reading.weak(group)]
    if not strong:
        return []
    if sum(len(group.digits) for group in run) >= _LONG_NUMBER:
        return run
    first, last = strong[0], strong[-1]
    while first > 0 and reading.tight(run[first - 1], run[first]):
        first -= 1
    while last < len(run) - 1 and reading.tight(run[last], run[last + 1]):
        last += 1
    return run[first : last + 1]


def find_number_spans(
    text: str, lang: str | None = None, *, grouping: Grouping = "precise"
) -> list[NumberSpan]:
    """Find every run of ``text`` that says a number, in numerals or words.

    Args:
        text: a transcript or typed text.
        lang: ``"en"`` or ``"fr"``; ``None`` reads the number words of both languages.
        grouping: ``"precise"`` to understand the caller, ``"listener"`` to find every number a
            listener would hear, for redaction (see the module docstring).

    Returns:
        The spans in text order.
    """
    if lang is not None:
        check_language(lang)
    reading = _Reading(text, lang, grouping)
    runs = _listener_runs(reading) if grouping == "listener" else _precise_runs(reading)
    return [reading.span(run) for run in runs]


def words_to_digits(text: str, lang: str | None = None) -> str:
    """Return ``text`` with every number run replaced by its digits ("four two" → "42")."""
    out, pos = [], 0
    for span in find_number_spans(text, lang):
        out += [text[pos : span.start], span.digits]
        pos = span.end
    return "".join(out) + text[pos:]


def parse_cardinal(text: str, lang: str) -> int | None:
    """Read ``text`` as exactly one number ("fifty", "4242", "vingt et un"), else ``None``.

    Digits said one by one ("four two") are several numbers, not one, and give ``None``.
    """
    check_language(lang)
    reading = _Reading(text, lang, "precise")
    group = reading.read(0) if reading.toks else None
    if group is None or group.stop != len(reading.toks) or reading.weak(group):
        return None
    return int(group.digits)
