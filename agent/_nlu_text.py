"""Normalised caller text and negation-aware keyword matching for :mod:`agent.nlu`.

Matching works on a normalised form of the utterance: lower case, accents removed, contractions
expanded ("don't" → "do not", "j'ai" → "je ai"), and ``|`` marking clause breaks at punctuation.
A keyword does not count when a negation comes before it in the same clause (see
:func:`negated`).
"""

from __future__ import annotations

import re

from voicepay.spoken_numbers import fold

Patterns = dict[str, tuple[re.Pattern[str], ...]]
"""Compiled alternatives by language."""


def rx(*alternatives: str) -> tuple[re.Pattern[str], ...]:
    """Compile each alternative as a whole-word pattern."""
    return tuple(re.compile(rf"\b(?:{a})\b") for a in alternatives)


_NEGATORS = frozenset(
    "not never without nobody neither nor ne pas jamais sans aucun aucune".split()
)
_BREAKERS = frozenset(
    "but so please instead rather just can could may then mais donc alors plutot sinon pouvez "
    "pourriez pouvons puis".split()
)
_WINDOW = 5

_EN_CONTRACTIONS = (
    (r"\bcan't\b", "can not"),
    (r"\bwon't\b", "will not"),
    (r"\bshan't\b", "shall not"),
    (r"\blet's\b", "let us"),
    (r"n't\b", " not"),
    (r"'re\b", " are"),
    (r"'m\b", " am"),
    (r"'ll\b", " will"),
    (r"'ve\b", " have"),
    (r"'d\b", " would"),
    (r"'s\b", " is"),
)
_FR_ELISION = re.compile(r"\b(j|l|d|n|m|t|s|c|qu)'")
_CLAUSE_PUNCTUATION = re.compile(r"[.,;:!?¿¡…]+")
_OTHER = re.compile(r"[^a-z0-9| ]+")


def normalise(text: str) -> str:
    """Lower-case, accent-free words separated by single spaces, ``|`` at clause breaks."""
    out = fold(text).replace("\u2019", "'").replace("\u2018", "'").replace("`", "'")
    for pattern, replacement in _EN_CONTRACTIONS:
        out = re.sub(pattern, replacement, out)
    out = _FR_ELISION.sub(r"\1e ", out)
    out = _CLAUSE_PUNCTUATION.sub(" | ", out)
    words = _OTHER.sub(" ", out).split()
    while words and words[0] == "|":
        words.pop(0)
    while words and words[-1] == "|":
        words.pop()
    return " ".join(words)


def word_index(text: str, pos: int) -> int:
    """The index of the word at character ``pos`` of a normalised text."""
    return text.count(" ", 0, pos)


def negated(words: list[str], index: int, window: int = _WINDOW) -> bool:
    """Whether a negation governs the word at ``index``.

    A negation ("not", "never", "ne", "pas", "sans"...) governs a word at most ``window`` words
    after it in the same clause; a clause ends at ``|`` and at words that start a new request
    ("but", "can", "please", "mais", "pouvez"...). A leading "no"/"non" answers the question, so
    it negates only the word right after it.
    """
    for back, k in enumerate(range(index - 1, max(-1, index - 1 - window), -1)):
        word = words[k]
        if word == "|" or word in _BREAKERS:
            return False
        if word in _NEGATORS or (word in ("no", "non") and back == 0):
            return True
        if word == "need" and k > 0 and words[k - 1] == "no":
            return True
    return False


def matches(text: str, patterns: tuple[re.Pattern[str], ...], *, negatable: bool = True) -> bool:
    """Whether a pattern matches the normalised ``text`` somewhere it is not negated."""
    words = text.split(" ")
    for pattern in patterns:
        for match in pattern.finditer(text):
            if not negatable or not negated(words, word_index(text, match.start())):
                return True
    return False
