"""Numbers in caller speech, in English and French: finding them as digits, and saying them.

A transcript may carry a number as numerals ("4242"), as digits read one by one ("four two, oh
eight", "double four"), or as a cardinal ("forty-two", "quatre-vingt-dix-neuf"). This module finds
every such run and reports the digits it stands for, so callers can read amounts and account numbers
and the card-data redactor can spot card numbers however they were said.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from typing import Literal

LANGUAGES = ("en", "fr")

_TOKEN = re.compile(r"\d+|[^\W\d_]+")
_SEPARATORS = r"[\s,./\-\u2010\u2011\u2013]"
# Groups of one number said in pieces ("4242 4242", "four, two, uh, four") may be split by these.
_SPAN_GAP = re.compile(
    rf"{_SEPARATORS}*(?:(?:uh|um+|er|erm|euh|heu|hum|hmm){_SEPARATORS}+)*", re.IGNORECASE
)
# Words of one cardinal ("forty-two", "one hundred and five") are split by spaces or hyphens only.
_CARDINAL_GAP = re.compile(r"[\s\-\u2010\u2011]*")

_EN_ONES = (
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen "
    "sixteen seventeen eighteen nineteen"
).split()
_EN_TENS = "_ _ twenty thirty forty fifty sixty seventy eighty ninety".split()
_EN_SCALES = ((10**9, "billion"), (10**6, "million"), (10**3, "thousand"), (100, "hundred"))
_FR_ONES = (
    "zéro un deux trois quatre cinq six sept huit neuf dix onze douze treize quatorze quinze seize"
).split()
_FR_TENS = "_ _ vingt trente quarante cinquante soixante".split()

_Lexicon = dict[str, tuple[str, int]]


def _lexicon(lang: str) -> _Lexicon:
    if lang == "en":
        words: _Lexicon = {w: ("unit", v) for v, w in enumerate(_EN_ONES[1:10], 1)}
        words |= {w: ("teen", v) for v, w in enumerate(_EN_ONES[10:], 10)}
        words |= {w: ("tens", 10 * v) for v, w in enumerate(_EN_TENS) if v >= 2}
        return words | {
            "zero": ("zero", 0),
            "nought": ("zero", 0),
            "oh": ("oh", 0),
            "o": ("oh", 0),
            "hundred": ("hundred", 100),
            "thousand": ("scale", 10**3),
            "million": ("scale", 10**6),
            "billion": ("scale", 10**9),
            "and": ("and", 0),
            "a": ("article", 1),
            "double": ("repeat", 2),
            "triple": ("repeat", 3),
        }
    words = {fold(w): ("unit", v) for v, w in enumerate(_FR_ONES[1:10], 1)}
    words |= {w: ("teen", v) for v, w in enumerate(_FR_ONES[10:], 10)}
    words |= {w: ("tens", 10 * v) for v, w in enumerate(_FR_TENS) if v >= 2}
    return words | {
        "zero": ("zero", 0),
        "une": ("unit", 1),
        "vingts": ("tens", 20),
        "septante": ("tens", 70),
        "huitante": ("tens", 80),
        "octante": ("tens", 80),
        "nonante": ("tens", 90),
        "cent": ("hundred", 100),
        "cents": ("hundred", 100),
        "mille": ("scale", 10**3),
        "million": ("scale", 10**6),
        "millions": ("scale", 10**6),
        "milliard": ("scale", 10**9),
        "milliards": ("scale", 10**9),
        "et": ("and", 0),
    }


def fold(text: str) -> str:
    """Lower-case ``text``, strip its accents and make its digits ASCII: "Zéro ٤" → "zero 4"."""
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(
        str(unicodedata.decimal(ch)) if ch.isdecimal() else ch
        for ch in decomposed
        if not unicodedata.combining(ch)
    )


_LEXICONS = {lang: _lexicon(lang) for lang in LANGUAGES}


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


@dataclass(frozen=True)
class _Token:
    word: str
    start: int
    end: int


@dataclass(frozen=True)
class _Group:
    digits: str
    first: int
    stop: int  # index of the first token after the group
    cardinal: bool
    weak: bool  # a lone "oh": a number only next to other numbers


def _tokens(text: str) -> list[_Token]:
    return [_Token(fold(m.group()), m.start(), m.end()) for m in _TOKEN.finditer(text)]


def _joined(text: str, left: _Token, right: _Token, gap: re.Pattern[str]) -> bool:
    return gap.fullmatch(text, left.end, right.start) is not None


def _hyphen(text: str, left: _Token, right: _Token) -> bool:
    return "-" in text[left.end : right.start]


def _read_cardinal(text: str, toks: list[_Token], i: int, lang: str) -> tuple[int, int] | None:
    """Read the longest cardinal starting at ``toks[i]``; return (next token index, value)."""
    lex = _LEXICONS[lang]
    total, chunk, last, last_word, scale_cap = 0, 0, "", "", 10**12
    j = i
    while j < len(toks):
        if j > i and not _joined(text, toks[j - 1], toks[j], _CARDINAL_GAP):
            break
        word = toks[j].word
        cat, val = lex.get(word, ("", 0))
        after = toks[j + 1].word if j + 1 < len(toks) else ""
        after_cat = lex.get(after, ("", 0))[0]
        low, opens = chunk % 100, last in ("", "hundred", "scale", "and")
        if word.isdigit():
            # A numeral may lead a scale word ("42 thousand") or follow one ("2 thousand 500").
            multiplies = after_cat == "scale" or (lang == "en" and after_cat == "hundred")
            ok = len(word) <= 3 and ((j == i and multiplies) or (last == "scale" and j > i))
            cat, chunk = "numeral", int(word) if ok else chunk
        elif cat == "unit":
            ok = opens or (last == "tens" and low % 10 == 0)
            ok = ok or (lang == "fr" and last_word == "dix" and val >= 7)
            # Hyphens tell "trente quatre-vingts" (30, 80) from "trente-quatre vingt" (34, 20).
            ok = ok and not (
                last == "tens"
                and word == "quatre"
                and after.startswith("vingt")
                and _hyphen(text, toks[j], toks[j + 1])
                and not _hyphen(text, toks[j - 1], toks[j])
            )
            chunk += val if ok else 0
        elif cat == "teen":
            ok = opens or (lang == "fr" and last == "tens" and low in (60, 80))
            chunk += val if ok else 0
        elif cat == "tens" and lang == "fr" and word.startswith("vingt") and last_word == "quatre":
            ok = last == "unit" and low == 4
            chunk, word = (chunk + 76, "quatre-vingt") if ok else (chunk, word)
        elif cat == "tens":
            ok = opens and word != "vingts"
            chunk += val if ok else 0
        elif cat == "hundred" and lang == "fr":
            # Only 2-19 multiply "cent": "cinquante cents" is fifty cents, not 5,000.
            ok = (last in ("unit", "teen") and 2 <= chunk < 20) or (
                last in ("", "scale") and chunk == 0 and word == "cent"
            )
            chunk = (chunk or 1) * 100 if ok else chunk
        elif cat == "hundred":
            ok = (last in ("unit", "teen", "tens", "numeral") and 0 < chunk < 100) or (
                last in ("", "article") and chunk == 0
            )
            chunk = (chunk or 1) * 100 if ok else chunk
        elif cat == "scale":
            ok = val < scale_cap and last in ("unit", "teen", "tens", "hundred", "numeral", "")
            ok = ok or (last == "article" and val < scale_cap)
            # "un million mille": French says a bare "mille" after a larger scale.
            ok = ok or (last == "scale" and word == "mille" and val < scale_cap)
            if ok:
                total, chunk, scale_cap = total + (chunk or 1) * val, 0, val
        elif cat == "and" and lang == "en":
            ok = last in ("hundred", "scale") and after_cat in ("unit", "teen", "tens")
        elif cat == "and":
            ok = last == "tens" and last_word != "quatre-vingt" and low % 10 == 0
            ok = ok and (after in ("un", "une") or (low == 60 and after == "onze"))
        elif cat == "article":
            ok = j == i and after_cat in ("hundred", "scale")
        else:
            ok = False
        if not ok:
            break
        last, last_word = cat, word
        j += 1
    if j == i or last == "numeral" and j == i + 1:
        return None
    return j, total + chunk


def _read_group(text: str, toks: list[_Token], i: int, lang: str) -> _Group | None:
    tok = toks[i]
    read = _read_cardinal(text, toks, i, lang)
    if read is not None:
        return _Group(str(read[1]), i, read[0], cardinal=True, weak=False)
    if tok.word.isdigit():
        return _Group(tok.word, i, i + 1, cardinal=False, weak=False)
    cat, val = _LEXICONS[lang].get(tok.word, ("", 0))
    if cat in ("zero", "oh"):
        return _Group("0", i, i + 1, cardinal=cat == "zero", weak=cat == "oh")
    if cat == "repeat" and i + 1 < len(toks) and _joined(text, tok, toks[i + 1], _CARDINAL_GAP):
        nxt = toks[i + 1].word
        kind, digit = _LEXICONS[lang].get(nxt, ("", 0))
        if kind in ("unit", "zero", "oh"):
            return _Group(str(digit) * val, i, i + 2, cardinal=False, weak=False)
        if len(nxt) == 1 and nxt.isdigit():
            return _Group(nxt * val, i, i + 2, cardinal=False, weak=False)
    return None


def _span(toks: list[_Token], groups: list[_Group]) -> NumberSpan | None:
    if all(g.weak for g in groups):
        return None
    single = len(groups) == 1 and groups[0].cardinal
    return NumberSpan(
        start=toks[groups[0].first].start,
        end=toks[groups[-1].stop - 1].end,
        digits="".join(g.digits for g in groups),
        kind="cardinal" if single else "digits",
        parts=tuple(g.digits for g in groups),
    )


def _spans(text: str, lang: str) -> list[NumberSpan]:
    toks = _tokens(text)
    runs: list[list[_Group]] = []
    i = 0
    while i < len(toks):
        group = _read_group(text, toks, i, lang)
        if group is None:
            i += 1
            continue
        prev = runs[-1][-1] if runs else None
        # A lone "oh" counts as zero only when spoken right next to other digits.
        gap = _CARDINAL_GAP if prev and (prev.weak or group.weak) else _SPAN_GAP
        if prev and _joined(text, toks[prev.stop - 1], toks[i], gap):
            runs[-1].append(group)
        else:
            runs.append([group])
        i = group.stop
    return [span for run in runs if (span := _span(toks, run)) is not None]


def _check(lang: str) -> None:
    if lang not in LANGUAGES:
        raise ValueError(f"unsupported language {lang!r}; expected one of {LANGUAGES}")


def find_number_spans(text: str, lang: str | None = None) -> list[NumberSpan]:
    """Find every run of ``text`` that says a number, in numerals or words.

    Args:
        text: a transcript or typed text.
        lang: ``"en"`` or ``"fr"``; ``None`` reads both and keeps the reading covering more text.

    Returns:
        The spans in text order.
    """
    if lang is not None:
        _check(lang)
        return _spans(text, lang)
    readings = [_spans(text, language) for language in LANGUAGES]
    return max(readings, key=lambda spans: sum(s.end - s.start for s in spans))


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
    _check(lang)
    toks = _tokens(text)
    if not toks:
        return None
    group = _read_group(text, toks, 0, lang)
    if group is None or group.stop != len(toks) or group.weak:
        return None
    return int(group.digits)


def number_to_words(n: int, lang: str, *, feminine: bool = False) -> str:
    """Say a whole number below one trillion in words: 42 → "forty-two" / "quarante-deux".

    Args:
        n: the number, 0 ≤ n < 10**12.
        lang: ``"en"`` or ``"fr"``.
        feminine: French only: agree a final "un" with a feminine noun ("vingt et une livres").
    """
    _check(lang)
    if not 0 <= n < 10**12:
        raise ValueError("number_to_words takes 0 <= n < 10**12")
    if lang == "en":
        return _en_words(n)
    words = _fr_words(n)
    return re.sub(r"\bun$", "une", words) if feminine else words


def _en_words(n: int) -> str:
    if n < 20:
        return _EN_ONES[n]
    if n < 100:
        tens, unit = divmod(n, 10)
        return _EN_TENS[tens] + (f"-{_EN_ONES[unit]}" if unit else "")
    scale, name = next((s, w) for s, w in _EN_SCALES if n >= s)
    head, rest = divmod(n, scale)
    return f"{_en_words(head)} {name}" + (f" {_en_words(rest)}" if rest else "")


def _fr_below_100(n: int) -> str:
    if n < 17:
        return _FR_ONES[n]
    if n < 20:
        return f"dix-{_FR_ONES[n - 10]}"
    tens, unit = divmod(n, 10)
    if tens in (7, 9):
        base, rest = ("soixante", n - 60) if tens == 7 else ("quatre-vingt", n - 80)
        return f"{base} et onze" if n == 71 else f"{base}-{_fr_below_100(rest)}"
    if tens == 8:
        return "quatre-vingts" if unit == 0 else f"quatre-vingt-{_FR_ONES[unit]}"
    if unit == 0:
        return _FR_TENS[tens]
    return f"{_FR_TENS[tens]} et un" if unit == 1 else f"{_FR_TENS[tens]}-{_FR_ONES[unit]}"


def _fr_below_1000(n: int, *, before_mille: bool) -> str:
    hundreds, rest = divmod(n, 100)
    tail = _fr_below_100(rest) if rest else ""
    if before_mille and tail.endswith("quatre-vingts"):
        tail = tail[:-1]  # "quatre-vingt mille": vingt and cent take no plural before mille
    if not hundreds:
        return tail
    head = "cent" if hundreds == 1 else f"{_FR_ONES[hundreds]} cent"
    if not rest:
        return head if before_mille or hundreds == 1 else f"{head}s"
    return f"{head} {tail}"


def _fr_words(n: int) -> str:
    if n == 0:
        return _FR_ONES[0]
    words = []
    for scale, one, many in ((10**9, "milliard", "milliards"), (10**6, "million", "millions")):
        head, n = divmod(n, scale)
        if head:
            words.append(f"{_fr_below_1000(head, before_mille=False)} {one if head == 1 else many}")
    thousands, n = divmod(n, 1000)
    if thousands:
        words.append(
            "mille" if thousands == 1 else f"{_fr_below_1000(thousands, before_mille=True)} mille"
        )
    if n:
        words.append(_fr_below_1000(n, before_mille=False))
    return " ".join(words)
