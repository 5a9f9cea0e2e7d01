"""An offline per-utterance sentiment score for English and French callers, in [-1, 1].

A valence lexicon is matched on the normalised utterance (:func:`agent._nlu_text.normalise`);
each hit is then adjusted by the words around it and the way the text is written:

* an intensifier right before it ("very", "so", "vraiment", "tellement", "fucking"...) makes it
  1.5 times as strong, a downtoner ("a bit", "un peu") half as strong;
* a negation governing it (:func:`agent._nlu_text.negated`) flips and dampens it: "not happy" is
  mildly negative, "not ridiculous" mildly positive, and an intensifier under a negation counts for
  nothing ("not very happy");
* a word in capitals (when the rest is not) and exclamation marks raise it; all the boosts
  together never make a word more than 1.5 times as strong, so a mild word (valence -0.25) stays
  above -0.4 however it is said;
* before a contrast ("but", "mais") a hit counts half.

Negative hits and positive hits are each combined as independent evidence (``1 - Π(1 - |v|)``)
and the score is positive minus negative. Escalation words ("ridiculous", "fed up", "scandaleux",
"j'en ai marre", strong profanity...) are reported when they occur un-negated.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from agent._nlu_text import negated, normalise, word_index
from voicepay.spoken_numbers import check_language, fold

MILD = -0.25
MODERATE = -0.4
STRONG = -0.6
SEVERE = -0.75
SLIGHT = 0.15
WARM = 0.35
GLAD = 0.55

_MAX_BOOST = 1.5
_INTENSIFIED = 1.5
_DOWNTONED = 0.5
_SHOUTED = 1.3
_PER_EXCLAMATION = 0.1
_MAX_EXCLAMATIONS = 3
_NEGATIVE_FLIPPED = -0.5
_POSITIVE_FLIPPED = -0.7
_BEFORE_CONTRAST = 0.5


@dataclass(frozen=True, slots=True)
class _Entry:
    valence: float
    escalation: bool = False


def _esc(valence: float) -> _Entry:
    return _Entry(valence, escalation=True)


# Regex fragments over normalised text (accents removed, "don't" → "do not", "j'ai" → "je ai").
_LEXICON: dict[str, dict[str, _Entry]] = {
    "en": {
        r"annoy(?:ing|ed)|irritat(?:ing|ed)|frustrat(?:ing|ed)|tedious": _Entry(MILD),
        r"slow|wrong|ugh|meh|come on|damn|bloody|crap|a pain|hassle": _Entry(MILD),
        r"confus(?:ing|ed)|mediocre": _Entry(MILD),
        r"upset|disappoint(?:ed|ing)|unhappy|bad|poor|stressful|stressed": _Entry(MODERATE),
        r"for (?:god|christ|heaven|pete) is sake|nightmare|stupid|hopeless": _Entry(MODERATE),
        r"shocking": _Entry(MODERATE),
        r"angry|terrible|awful|horrible|hate|loathe|rubbish": _Entry(STRONG),
        r"ridiculous|unacceptable|outrageous|disgrace(?:ful)?|disgusting": _esc(STRONG),
        r"appalling|pathetic|useless|incompetent|absurd|shameful|scandalous": _esc(STRONG),
        r"fed up|sick of|had enough|waste of (?:my |our )?time|inadequate": _esc(STRONG),
        r"(?:a|total|complete) joke|kidding me|worst|thanks for nothing": _esc(STRONG),
        r"pissed off|fuck(?:ing|ed)?|shit(?:ty)?|bullshit": _esc(STRONG),
        r"furious|livid|fuming|sick and tired|enough is enough": _esc(SEVERE),
        r"ok|okay|fine|noproblem|not bad": _Entry(SLIGHT),
        r"thanks|thank you|good|nice|pleased|glad|appreciate(?: it)?|helpful": _Entry(WARM),
        r"great|perfect|excellent|wonderful|brilliant|lovely|awesome|happy": _Entry(GLAD),
        r"fantastic": _Entry(GLAD),
    },
    "fr": {
        r"ennuyeux|ennuyeuse|agacante?|agacee?|enervante?|lente?": _Entry(MILD),
        r"bof|penible|galere|zut|mal|mediocre|confus|complique|bon sang|punaise": _Entry(MILD),
        r"decue?|decevante?|mecontente?|nul(?:le)?s?|enervee?": _Entry(MODERATE),
        r"stressant|stressee?|cauchemar|anormal|bete|stupide": _Entry(MODERATE),
        r"fachee?|en colere|horrible|affreux|affreuse|deteste|catastrophique": _Entry(STRONG),
        r"scandaleux|scandaleuse|inadmissible|inacceptable|honteux|honteuse": _esc(STRONG),
        r"une honte|lamentable|pitoyable|ridicule|absurde|incompetente?s?|marre": _esc(STRONG),
        r"ras le bol|nimportequoi|(?:moquez|foutez|fichez) de moi|perte de temps": _esc(STRONG),
        r"insupportable|(?:une )?blague|putain|merde|bordel|chier|connards?|conne": _esc(STRONG),
        r"furieux|furieuse|hors de moi|exasperee?": _esc(SEVERE),
        r"de accord|ok|okay|bien|noproblem|pas mal": _Entry(SLIGHT),
        r"merci|sympa|aimable|contente?|nickel": _Entry(WARM),
        r"super|parfaite?|geniale?|excellente?|ravie?|formidable": _Entry(GLAD),
    },
}
_NE_EST = r"(?:ne )?(?:est |etait |sont )?"
# Idioms whose negation is part of their meaning; rewritten so that the negation they hold
# neither flips them nor reaches the words after them.
_IDIOMS: dict[str, tuple[tuple[re.Pattern[str], str], ...]] = {
    "en": (
        (re.compile(r"\b(?:no|not a) (?:problem|worries)\b"), "noproblem"),
        (re.compile(r"\bno (?:thank you|thanks)\b"), "nothanks"),
        (re.compile(r"\b(?:can|could) not believe\b"), "disbelief"),
        (re.compile(r"\b(?:can|could) not (?:stand|bear)\b"), "loathe"),
        (re.compile(r"\b(?:is|are|was|were) not (?:good enough|acceptable|on)\b"), "inadequate"),
        (re.compile(r"\bgood bye\b"), "goodbye"),
    ),
    "fr": (
        (re.compile(r"\b(?:pas de|aucun|sans) (?:souci|soucis|probleme|problemes)\b"), "noproblem"),
        (re.compile(r"\bnon merci\b"), "nothanks"),
        (re.compile(r"\bne importe quoi\b"), "nimportequoi"),
        (re.compile(r"\b(?:ne )?en (?:reviens|revient) pas\b"), "disbelief"),
        (re.compile(rf"\b{_NE_EST}pas (?:acceptable|admissible)\b"), "inacceptable"),
        (re.compile(rf"\b{_NE_EST}pas normal\b"), "anormal"),
        (re.compile(rf"\b{_NE_EST}pas terrible\b"), "mediocre"),
        (re.compile(rf"\b{_NE_EST}pas possible\b"), "disbelief"),
    ),
}
_INTENSIFIERS = frozenset(
    "very so such really extremely totally absolutely completely utterly incredibly truly too "
    "absolute complete total utter real seriously fucking bloody damn damned super vraiment "
    "tellement tres trop completement absolument totalement si hyper carrement franchement "
    "vachement grave".split()
)
_ARTICLES = frozenset("a an un une".split())
_DOWNTONERS = frozenset("slightly somewhat fairly mildly assez legerement plutot".split())
_DOWNTONER_PAIRS = frozenset({("a", "bit"), ("a", "little"), ("kind", "of"), ("sort", "of")})
_DOWNTONER_PAIRS |= {("un", "peu"), ("petit", "peu")}
_CONTRASTS = frozenset("but however though mais cependant pourtant".split())
_LETTERS = re.compile(r"[^\W\d_]+")


def _compile(lexicon: dict[str, _Entry]) -> tuple[re.Pattern[str], dict[str, _Entry]]:
    """One alternation with a named group per entry; longer phrases are tried first."""
    pieces = [(piece, entry) for group, entry in lexicon.items() for piece in _alternatives(group)]
    pieces.sort(key=lambda piece: -piece[0].count(" "))
    names = {f"e{i}": entry for i, (_, entry) in enumerate(pieces)}
    alternation = "|".join(f"(?P<e{i}>{fragment})" for i, (fragment, _) in enumerate(pieces))
    return re.compile(rf"\b(?:{alternation})\b"), names


def _alternatives(group: str) -> list[str]:
    """The top-level alternatives of a regex fragment (``|`` inside parentheses stays)."""
    parts, depth, start = [], 0, 0
    for i, char in enumerate(group):
        depth += {"(": 1, ")": -1}.get(char, 0)
        if char == "|" and depth == 0:
            parts.append(group[start:i])
            start = i + 1
    return [*parts, group[start:]]


_COMPILED = {lang: _compile(lexicon) for lang, lexicon in _LEXICON.items()}


@dataclass(frozen=True, slots=True)
class Sentiment:
    """How one utterance sounds: ``score`` in [-1, 1], and whether escalation words were said."""

    score: float
    escalation_words: bool


@dataclass(frozen=True, slots=True)
class _Hit:
    start: int
    words: int
    entry: _Entry


def score_sentiment(text: str, lang: str) -> Sentiment:
    """The offline sentiment of one caller utterance, e.g. ``-0.9`` for "absolutely ridiculous".

    Args:
        text: what the caller said (a transcript or typed text).
        lang: ``"en"`` or ``"fr"``.
    """
    check_language(lang)
    norm = normalise(text)
    for pattern, replacement in _IDIOMS[lang]:
        norm = pattern.sub(replacement, norm)
    words = norm.split(" ")
    pattern, entries = _COMPILED[lang]
    hits = [
        _Hit(word_index(norm, m.start()), m.group().count(" ") + 1, entries[m.lastgroup or ""])
        for m in pattern.finditer(norm)
    ]
    lead_in = {hit.start: _lead_in(words, hit.start) for hit in hits}
    used_as_modifier = {k for start, (k, _) in lead_in.items() for k in range(k, start)}
    shouted = _shouted_words(text)
    exclaimed = 1 + _PER_EXCLAMATION * min(text.count("!"), _MAX_EXCLAMATIONS)
    contrast = max((i for i, word in enumerate(words) if word in _CONTRASTS), default=-1)
    negative: list[float] = []
    positive: list[float] = []
    escalation = False
    for hit in hits:
        if hit.start in used_as_modifier and hit.words == 1:
            continue
        anchor, modifier = lead_in[hit.start]
        valence = hit.entry.valence
        if negated(words, anchor):
            flip = _NEGATIVE_FLIPPED if valence < 0 else _POSITIVE_FLIPPED
            valence *= flip
            modifier = 1.0
        loud = _SHOUTED if shouted.intersection(words[hit.start : hit.start + hit.words]) else 1
        valence *= min(_MAX_BOOST, modifier * loud * exclaimed)
        if hit.start < contrast:
            valence *= _BEFORE_CONTRAST
        valence = max(-1.0, min(1.0, valence))
        (negative if valence < 0 else positive).append(abs(valence))
        escalation = escalation or (hit.entry.escalation and valence < 0)
    score = _evidence(positive) - _evidence(negative)
    return Sentiment(float(round(score, 4)), escalation)


def _lead_in(words: list[str], start: int) -> tuple[int, float]:
    """Where the phrase at ``start`` really begins (with its modifiers), and their weight."""
    k = start
    if k >= 2 and (words[k - 2], words[k - 1]) in _DOWNTONER_PAIRS:
        return k - 2, _DOWNTONED
    if k >= 1 and words[k - 1] in _DOWNTONERS:
        return k - 1, _DOWNTONED
    if k >= 2 and words[k - 1] in _ARTICLES and words[k - 2] in _INTENSIFIERS:
        k -= 1
    while k >= 1 and words[k - 1] in _INTENSIFIERS:
        k -= 1
    return k, (_INTENSIFIED if k < start else 1.0)


def _shouted_words(text: str) -> set[str]:
    """Words written in capitals, unless the whole utterance is (then capitals mean nothing)."""
    letters = _LETTERS.findall(text)
    if not any(word != word.upper() for word in letters):
        return set()
    return {fold(word) for word in letters if len(word) > 1 and word.isupper()}


def _evidence(strengths: list[float]) -> float:
    """Independent pieces of evidence of one polarity combined into one strength in [0, 1]."""
    return 1 - math.prod(1 - s for s in strengths)
