"""The number words of English and French, text folding, and tokens for the number reader.

Everything here is shared by :mod:`voicepay.spoken_numbers` (reading numbers) and
:mod:`voicepay._number_words` (saying them), so each word table exists once.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from dataclasses import dataclass

LANGUAGES = ("en", "fr")

EN_ONES = (
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen "
    "sixteen seventeen eighteen nineteen"
).split()
EN_TENS = "_ _ twenty thirty forty fifty sixty seventy eighty ninety".split()
EN_SCALES = ((10**9, "billion"), (10**6, "million"), (10**3, "thousand"), (100, "hundred"))
FR_ONES = (
    "zéro un deux trois quatre cinq six sept huit neuf dix onze douze treize quatorze quinze seize"
).split()
FR_TENS = "_ _ vingt trente quarante cinquante soixante".split()

# Hesitations a caller may put between the pieces of one number ("four two, uh, four two").
FILLER = re.compile(r"uh|um+|er|erm|euh|heu|hum|hmm")


def check_language(lang: str) -> None:
    """Raise ``ValueError`` unless ``lang`` is one of :data:`LANGUAGES`."""
    if lang not in LANGUAGES:
        raise ValueError(f"unsupported language {lang!r}; expected one of {LANGUAGES}")


Lexicon = dict[str, tuple[str, int]]
"""Folded word → (category, value); categories drive :mod:`voicepay._number_reader`."""


def fold(text: str) -> str:
    """Lower-case ``text``, strip its accents and make its digits ASCII: "Zéro ٤" → "zero 4".

    One character becomes one character, so offsets into the folded text are offsets into
    ``text``. Characters that would decompose into several ("ﬁ") are only lower-cased.
    """
    if text.isascii():
        return text.lower()
    return "".join(_fold_char(char) for char in text)


@functools.lru_cache(maxsize=4096)
def _fold_char(char: str) -> str:
    decimal = unicodedata.decimal(char, None)
    if decimal is not None:
        return str(decimal)
    decomposed = unicodedata.normalize("NFKD", char)
    base = "".join(part for part in decomposed if not unicodedata.combining(part)).lower()
    if len(base) == 1:
        return base
    return char.lower() if len(char.lower()) == 1 else char


def _language_lexicon(lang: str) -> Lexicon:
    if lang == "en":
        words: Lexicon = {w: ("unit", v) for v, w in enumerate(EN_ONES[1:10], 1)}
        words |= {w: ("teen", v) for v, w in enumerate(EN_ONES[10:], 10)}
        words |= {w: ("tens", 10 * v) for v, w in enumerate(EN_TENS) if v >= 2}
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
    words = {fold(w): ("unit", v) for v, w in enumerate(FR_ONES[1:10], 1)}
    words |= {w: ("teen", v) for v, w in enumerate(FR_ONES[10:], 10)}
    words |= {w: ("tens", 10 * v) for v, w in enumerate(FR_TENS) if v >= 2}
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


_EN, _FR = (_language_lexicon(lang) for lang in LANGUAGES)
# ``None`` reads words of either language; the two tables agree on the words they share.
LEXICONS: dict[str | None, Lexicon] = {"en": _EN, "fr": _FR, None: _EN | _FR}
# "two cents" is money, "deux cents" is 200: English words never multiply "cent".
ENGLISH_ONLY = frozenset(_EN) - frozenset(_FR)


@dataclass(frozen=True, slots=True)
class Token:
    """A word or numeral of the folded text, at ``start:end``."""

    word: str
    start: int
    end: int


_SPLIT = re.compile(r"\d+|[^\W\d_]+")
_GLUED = re.compile(r"[^\W_]+")


def tokens(folded: str, *, glued: bool = False) -> list[Token]:
    """The words and numerals of ``folded`` text.

    Args:
        folded: text that went through :func:`fold`.
        glued: keep letters and digits that touch as one token, read as its digits when it holds
            two or more ("31st", "ref4242" are numerals), else as a word ("x4"). Otherwise
            "31st" is the numeral "31" and the word "st".
    """
    if not glued:
        return [Token(m.group(), m.start(), m.end()) for m in _SPLIT.finditer(folded)]
    found = []
    for match in _GLUED.finditer(folded):
        word = match.group()
        digits = "".join(char for char in word if "0" <= char <= "9")
        numeral = digits == word or len(digits) >= 2
        found.append(Token(digits if numeral else word, match.start(), match.end()))
    return found
