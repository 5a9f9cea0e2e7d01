"""Reads one number piece off a token list: a cardinal in words, a numeral, "oh", "double four".

The grammar is driven by the word categories of a :data:`~voicepay._number_lexicon.Lexicon`, so
the same reader serves English, French, or both at once (the merged lexicon). Rules specific to
one language are keyed on its words ("cent", "et", "dix", "soixante"), and French compounds never
take an English word ("two cents" is not 200, "soixante-twelve" is not 72).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from voicepay._number_lexicon import ENGLISH_ONLY, Lexicon, Token

# Words of one number ("forty-two", "one hundred and five") are split by spaces or dashes only.
TIGHT = re.compile(r"[\s\-\u2010-\u2014]*")
# Tens words that a French teen may follow: "soixante-douze", "quatre-vingt-dix".
_TEEN_TENS = frozenset({"soixante", "quatre-vingt", "huitante", "octante"})


@dataclass(frozen=True, slots=True)
class Group:
    """One number piece: its digits and the tokens ``first`` up to ``stop`` (exclusive)."""

    digits: str
    first: int
    stop: int
    cardinal: bool


def joined(text: str, left: Token, right: Token, gap: re.Pattern[str]) -> bool:
    """Whether only ``gap`` stands between two tokens of ``text``."""
    return gap.fullmatch(text, left.end, right.start) is not None


def _hyphen(text: str, left: Token, right: Token) -> bool:
    return "-" in text[left.end : right.start]


def read_cardinal(text: str, toks: list[Token], i: int, lex: Lexicon) -> tuple[int, int] | None:
    """Read the longest cardinal starting at ``toks[i]``; return (next token index, value)."""
    total, chunk, last, last_word, scale_cap = 0, 0, "", "", 10**12
    j = i
    while j < len(toks):
        if j > i and not joined(text, toks[j - 1], toks[j], TIGHT):
            break
        word = toks[j].word
        cat, val = lex.get(word, ("", 0))
        after = toks[j + 1].word if j + 1 < len(toks) else ""
        after_cat = lex.get(after, ("", 0))[0]
        low, opens = chunk % 100, last in ("", "hundred", "scale", "and")
        if word.isdigit():
            # A numeral may lead a scale word ("42 thousand") or follow one ("2 thousand 500").
            multiplies = after_cat == "scale" or (after_cat == "hundred" and after == "hundred")
            ok = len(word) <= 3 and ((j == i and multiplies) or (last == "scale" and j > i))
            cat, chunk = "numeral", int(word) if ok else chunk
        elif cat == "unit":
            ok = opens or (last == "tens" and low % 10 == 0)
            ok = ok or (last_word == "dix" and val >= 7 and word not in ENGLISH_ONLY)
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
            ok = opens or (last_word in _TEEN_TENS and word not in ENGLISH_ONLY)
            chunk += val if ok else 0
        elif cat == "tens" and word.startswith("vingt") and last_word == "quatre":
            ok = last == "unit" and low == 4
            chunk, word = (chunk + 76, "quatre-vingt") if ok else (chunk, word)
        elif cat == "tens":
            ok = opens and word != "vingts"
            chunk += val if ok else 0
        elif cat == "hundred" and word != "hundred":
            # Only 2-19 multiply "cent": "cinquante cents" is fifty cents, not 5,000.
            ok = (
                last in ("unit", "teen") and 2 <= chunk < 20 and last_word not in ENGLISH_ONLY
            ) or (last in ("", "scale") and chunk == 0 and word == "cent")
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
        elif cat == "and" and word == "and":
            ok = last in ("hundred", "scale") and after_cat in ("unit", "teen", "tens")
        elif cat == "and":
            ok = last == "tens" and last_word not in ENGLISH_ONLY | {"quatre-vingt"}
            ok = ok and low % 10 == 0
            ok = ok and (after in ("un", "une") or (low == 60 and after == "onze"))
        elif cat == "article":
            ok = j == i and (after == "hundred" or after_cat == "scale")
        else:
            ok = False
        if not ok:
            break
        last, last_word = cat, word
        j += 1
    if j == i or last == "numeral" and j == i + 1:
        return None
    return j, total + chunk


def read_group(text: str, toks: list[Token], i: int, lex: Lexicon) -> Group | None:
    """The number piece starting at ``toks[i]``, as long as the grammar allows, if one does."""
    tok = toks[i]
    read = read_cardinal(text, toks, i, lex)
    if read is not None:
        return Group(str(read[1]), i, read[0], cardinal=True)
    if tok.word.isdigit():
        return Group(tok.word, i, i + 1, cardinal=False)
    cat, val = lex.get(tok.word, ("", 0))
    if cat in ("zero", "oh"):
        return Group("0", i, i + 1, cardinal=cat == "zero")
    if cat == "repeat" and i + 1 < len(toks) and joined(text, tok, toks[i + 1], TIGHT):
        nxt = toks[i + 1].word
        kind, digit = lex.get(nxt, ("", 0))
        if kind in ("unit", "zero", "oh"):
            return Group(str(digit) * val, i, i + 2, cardinal=False)
        if len(nxt) == 1 and nxt.isdigit():
            return Group(nxt * val, i, i + 2, cardinal=False)
    return None
