"""Deterministic understanding of what a caller said, in English and French.

The directed-dialog policy runs on these functions when no LLM is configured, and the tools use
:func:`parse_amount` to read the amount the LLM passes on. Matching works on a normalised form of
the utterance: lower case, accents removed, contractions expanded ("don't" → "do not", "j'ai" →
"je ai"), and ``|`` marking clause breaks at punctuation.

Negation: a keyword does not count when a negation ("not", "never", "ne", "pas", "sans"...) comes
before it in the same clause, at most five words back ("I don't need an agent"). A clause ends at
punctuation and at words that start a new request ("but", "can", "please", "mais", "pouvez"...). A
leading "no" or "non" answers the question rather than negating what follows ("no, I want an
agent" asks for a human); "no" right before the keyword does negate it ("no agent").

Yes/no: idioms that contain a negation but agree ("no problem", "why not", "pas de souci") count as
yes, so "no problem, yes" is ``"yes"``; an utterance holding both a yes and a no ("yes, no") or
doubt ("not sure", "peut-être") is ``None``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from typing import Literal

from voicepay.money import SUPPORTED_CURRENCIES, Money, currency_exponent, currency_names
from voicepay.spoken_numbers import LANGUAGES, NumberSpan, find_number_spans, fold


class Intent(StrEnum):
    """Things a caller may ask for at any step of the call."""

    HUMAN = "human"
    CARD_READBACK = "card_readback"
    PROMPT_INJECTION = "prompt_injection"
    REPEAT = "repeat"
    GOODBYE = "goodbye"
    CANCEL = "cancel"
    HELP = "help"
    LANGUAGE_FRENCH = "language_french"
    LANGUAGE_ENGLISH = "language_english"


@dataclass(frozen=True)
class AmountIntent:
    """The amount a caller chose: the full balance, the minimum, or a stated ``money`` amount."""

    kind: Literal["full", "minimum", "partial"]
    money: Money | None = None


_Patterns = dict[str, tuple[re.Pattern[str], ...]]


def _rx(*alternatives: str) -> tuple[re.Pattern[str], ...]:
    return tuple(re.compile(rf"\b(?:{a})\b") for a in alternatives)


_ARTICLE = r"(?:a |an |the |some |one |your )?"
# Said at the very end of an utterance only: "never mind" mid-sentence is a self-correction.
_AT_END = r"(?:(?: \|)? (?:thanks|thank you|merci|please))?$"
_PEOPLE = (
    r"(?:real |live |actual )?(?:person|someone|somebody|anyone|anybody|manager|supervisor"
    r"|customer service|advisor|adviser|human|agent|operator|representative)"
)
_INTENTS: dict[Intent, _Patterns] = {
    Intent.HUMAN: {
        "en": _rx(
            rf"{_ARTICLE}(?:real |live |actual )?(?:human(?: being)?|agent|representative|operator"
            r"|real person|live person|actual person)s?",
            rf"(?:talk|speak|chat) (?:to|with) {_ARTICLE}{_PEOPLE}",
            rf"(?:transfer|put|get|connect) me (?:to|through to|through|with) {_ARTICLE}{_PEOPLE}",
            rf"transfer me(?: over| now)?{_AT_END}",
        ),
        "fr": _rx(
            r"(?:un |une |le |la |a un |a une )?(?:conseiller|conseillere|humain|etre humain"
            r"|vraie personne|personne reelle|agent|operateur|operatrice|standardiste)s?",
            r"(?:parler|discuter) (?:a|avec) (?:quelque un|quelqu un|une personne|un responsable"
            r"|le service client)",
            r"(?:passez|passer|transferez|transferer|mettez) moi (?:a |au |avec )?(?:quelqu un"
            r"|un responsable|le service client)",
        ),
    },
    Intent.CARD_READBACK: {
        "en": _rx(
            r"read (?:me )?(?:back )?(?:my |the )?(?:card|digits|card number|card details)",
            r"(?:repeat|say|tell me|give me|read)(?: back)? (?:me )?(?:my |the |those |these )?"
            r"(?:card number|card digits|digits|numbers|number|card details|full card)",
            r"what (?:card number|number|digits) did i (?:give|enter|type|say|press|put in)",
            r"what (?:is|was|were|are) (?:my |the )(?:card number|card digits|digits)",
        ),
        "fr": _rx(
            r"(?:relis|relisez|relire|repete|repetez|repeter|redonnez|redonne|rappelez|dites"
            r"|donnez|lisez|lis)(?: moi| me)? (?:mon |ma |le |la |les |mes )?(?:numero de carte"
            r"|numero|carte|chiffres|numeros)",
            r"quel (?:est|etait) (?:mon|le) numero de carte",
            r"quels (?:sont|etaient) les chiffres",
        ),
    },
    Intent.PROMPT_INJECTION: {
        "en": _rx(
            r"(?:ignore|disregard|forget|override|bypass)(?: all| any)?(?: of)?(?: your| the| my"
            r"| these| those)?(?: previous| prior| earlier| above| original| system)?"
            r" (?:instructions?|rules|prompts?|guidelines|directives|programming|restrictions)",
            r"system prompt|you are now|jailbreak|new instructions|act as (?:a|an|if|my|the)",
            r"(?:developer|dev|debug|admin|god|jailbroken) mode|pretend (?:to be|you are|that you)",
            r"(?:reveal|show|print|tell me) (?:me )?(?:your|the) (?:instructions|prompt|system)",
        ),
        "fr": _rx(
            r"(?:oublie|oubliez|ignore|ignorez|ne tiens pas compte|ne tenez pas compte)(?: de)?"
            r"(?: tes| vos| les| toutes| tous)?(?: les| tes| vos)?(?: precedentes?)?"
            r" (?:instructions|consignes|regles|directives)",
            r"prompt systeme|nouvelles instructions|(?:fais|faites) comme si",
            r"(?:tu es|vous etes) (?:maintenant|desormais)|mode (?:developpeur|debug|admin)",
            r"(?:montre|montrez|revele|revelez|donne|donnez) (?:moi )?(?:tes|vos) (?:instructions"
            r"|consignes)",
        ),
    },
    Intent.REPEAT: {
        "en": _rx(
            r"say (?:that|it) again|repeat (?:that|it|yourself|please|the \w+)|come again|pardon",
            r"(?:could|can|would) you repeat|what did you say|one more time|once more",
            r"i did not (?:catch|hear|get|understand) (?:that|you|it|what you said)",
            r"^(?:what|sorry|huh|repeat|excuse me|sorry what|what was that)$",
        ),
        "fr": _rx(
            r"pardon|repetez|repete|repeter|redites|encore une fois|vous avez dit quoi",
            r"je (?:ne )?ai pas (?:compris|entendu|saisi)",
            r"^(?:quoi|comment|hein)$",
        ),
    },
    Intent.GOODBYE: {
        "en": _rx(
            r"good ?bye|bye(?: bye)?|see you|talk to you later|nothing else|hang up",
            r"have a (?:good|nice|great) (?:day|one|evening|night)|(?:i am|we are) done",
            rf"that (?:is|will be) (?:all|it)(?: for (?:now|today))?{_AT_END}",
        ),
        "fr": _rx(
            r"au revoir|bonne (?:journee|soiree|fin de journee)|a bientot|adieu|rien de autre",
            r"(?:je )?raccroche(?:r|z)?",
            rf"(?:ce sera|ce est) tout{_AT_END}",
        ),
    },
    Intent.CANCEL: {
        "en": _rx(
            r"cancel|abort",
            rf"(?:^|(?<=\| ))(?:stop|never ?mind|forget (?:it|about it)"
            rf"|i (?:have )?changed my mind){_AT_END}",
            rf"(?:do not|no longer) want to (?:pay|continue|go ahead|proceed)(?: today)?{_AT_END}",
            r"stop (?:the|this) (?:payment|call)",
        ),
        "fr": _rx(
            r"annule(?:r|z)?|annulation",
            rf"(?:^|(?<=\| ))(?:stop|arrete(?:r|z)?|laisse(?:r|z)? tomber|oublie(?:z)? ca"
            rf"|je ai change de avis){_AT_END}",
            rf"(?:ne )?veux (?:plus|pas) payer{_AT_END}",
        ),
    },
    Intent.HELP: {
        "en": _rx(
            r"help|what can you do|what are (?:my|the) options|how does (?:this|it) work",
            r"i do not understand|i am confused",
        ),
        "fr": _rx(
            r"aide|aidez moi|au secours|je (?:ne )?comprends pas|comment ca marche",
            r"quelles sont (?:mes|les) options|que (?:puis je|est ce que je peux) faire",
        ),
    },
    Intent.LANGUAGE_FRENCH: {
        "en": _rx(r"(?:in|speak|speaks|talk) french", r"french please", r"^french$"),
        "fr": _rx(r"en francais", r"parle(?:z|r)? (?:vous )?francais", r"^francais$"),
    },
    Intent.LANGUAGE_ENGLISH: {
        "en": _rx(r"(?:in|speak|speaks|talk) english", r"english please", r"^english$"),
        "fr": _rx(r"en anglais", r"parle(?:z|r)? (?:vous )?anglais", r"^anglais$"),
    },
}
# Intents whose patterns already say what is meant whatever precedes ("I didn't catch that").
_NOT_NEGATABLE = {Intent.PROMPT_INJECTION, Intent.REPEAT}
# A caller may switch language mid-sentence to ask for these.
_ANY_LANGUAGE = {Intent.PROMPT_INJECTION, Intent.LANGUAGE_FRENCH, Intent.LANGUAGE_ENGLISH}

_NEGATORS = frozenset(
    "not never without nobody neither nor ne pas jamais sans aucun aucune".split()
)
_BREAKERS = frozenset(
    "but so please instead rather just can could may then mais donc alors plutot sinon pouvez "
    "pourriez pouvons puis".split()
)
_WINDOW = 5

_YES = {
    "en": _rx(
        r"yes|yeah|yep|yup|ya|yah|sure|surely|correct|right|ok|okay|alright|all right|absolutely",
        r"definitely|certainly|exactly|indeed|affirmative|confirm|confirmed|perfect|fine|agreed",
        r"go ahead|go for it|do it|please do|of course|sounds good|that works|uh huh|mhm",
    ),
    "fr": _rx(
        r"oui|ouais|ouaip|de accord|ok|okay|exact|exactement|correct|tout a fait|bien sur",
        r"absolument|allez y|vas y|allons y|parfait|confirme|confirmer|ca marche|ce est bon",
        r"ce est ca|entendu|volontiers|certainement|effectivement|affirmatif|avec plaisir",
    ),
}
_NO = {
    "en": _rx(r"no|nope|nah|not|never|incorrect|wrong|negative|cancel|stop"),
    "fr": _rx(r"non|nan|ne|pas|jamais|incorrect|faux|annule(?:r|z)?|negatif"),
}
_UNSURE = {
    "en": _rx(
        r"maybe|perhaps|not sure|unsure|do not know|no idea|hold on|hang on|wait|let me think",
        r"one (?:moment|second|sec|minute)|just a (?:moment|second|sec|minute)",
    ),
    "fr": _rx(
        r"peut etre|sais pas|pas sur|pas certain|aucune idee|attendez|attends|je reflechis",
        r"un (?:instant|moment)|une (?:seconde|minute)",
    ),
}
_AGREEING_IDIOMS = {
    "en": _rx(r"no problem|not a problem|no worries|why not|no doubt|without a doubt"),
    "fr": _rx(r"pas de (?:probleme|soucis?)|sans probleme|aucun probleme|pourquoi pas"),
}
_KEYPAD_YES = {"1", "one", "un", "une"}
_KEYPAD_NO = {"2", "two", "deux"}

_FULL = {
    "en": _rx(
        r"(?:full|whole|entire|total|complete)(?: outstanding)? (?:balance|amount|bill|thing|lot"
        r"|sum)",
        r"in full|all of it|everything|the (?:outstanding )?balance|pay (?:it )?off|^all$",
        r"pay (?:it )?all|all the balance|the amount (?:owed|due)",
    ),
    "fr": _rx(
        r"(?:la )?totalite|integralite|le solde|solde (?:complet|total|entier)|le total",
        r"montant (?:total|complet|entier|integral)|en entier|tout payer",
        r"(?<!du )(?<!ce est )tout(?! de suite| a fait| a le heure| le monde| compte fait)",
    ),
}
_MINIMUM = {
    "en": _rx(r"minimum|minimal|the least (?:i can|possible|amount)|lowest (?:amount|payment)"),
    "fr": _rx(r"minimum|minimal|minimale|le moins possible"),
}
_QUESTION_WORDS = frozenset(
    "what how which why when where combien quel quelle quels quelles pourquoi comment".split()
)

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


def _normalise(text: str) -> str:
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


def _check(lang: str) -> None:
    if lang not in LANGUAGES:
        raise ValueError(f"unsupported language {lang!r}; expected one of {LANGUAGES}")


def _word_index(text: str, pos: int) -> int:
    return text.count(" ", 0, pos)


def _negated(words: list[str], index: int, window: int = _WINDOW) -> bool:
    """Whether a negation governs the word at ``index`` (see the module docstring)."""
    for back, k in enumerate(range(index - 1, max(-1, index - 1 - window), -1)):
        word = words[k]
        if word == "|" or word in _BREAKERS:
            return False
        if word in _NEGATORS or (word in ("no", "non") and back == 0):
            return True
        if word == "need" and k > 0 and words[k - 1] == "no":
            return True
    return False


def _found(text: str, patterns: tuple[re.Pattern[str], ...], *, negatable: bool = True) -> bool:
    words = text.split(" ")
    for pattern in patterns:
        for match in pattern.finditer(text):
            if not negatable or not _negated(words, _word_index(text, match.start())):
                return True
    return False


def detect_intents(text: str, lang: str) -> frozenset[Intent]:
    """The call-level requests in an utterance, e.g. ``{Intent.HUMAN}`` for "agent, please".

    A card read-back request is not also reported as :attr:`Intent.REPEAT`.
    """
    _check(lang)
    norm = _normalise(text)
    found = set()
    for intent, by_lang in _INTENTS.items():
        languages = LANGUAGES if intent in _ANY_LANGUAGE else (lang,)
        negatable = intent not in _NOT_NEGATABLE
        if any(_found(norm, by_lang[language], negatable=negatable) for language in languages):
            found.add(intent)
    if Intent.CARD_READBACK in found:
        found.discard(Intent.REPEAT)
    return frozenset(found)


def parse_yes_no(text: str, lang: str) -> Literal["yes", "no"] | None:
    """Read a yes or a no; ``None`` when unclear, doubtful, or both.

    A whole utterance of "1"/"one" is yes and "2"/"two" is no, as on the keypad.
    """
    _check(lang)
    norm = _normalise(text)
    if norm in _KEYPAD_YES or norm in _KEYPAD_NO:
        return "yes" if norm in _KEYPAD_YES else "no"
    if _found(norm, _UNSURE[lang], negatable=False):
        return None
    for idiom in _AGREEING_IDIOMS[lang]:
        norm = idiom.sub("yes" if lang == "en" else "oui", norm)
    words = norm.split(" ")
    yes = no = False
    for pattern in _YES[lang]:
        for match in pattern.finditer(norm):
            if _negated(words, _word_index(norm, match.start()), window=2):
                no = True
            else:
                yes = True
    no = no or _found(norm, _NO[lang], negatable=False)
    yes = yes or (lang == "fr" and words[0] == "si")
    if yes == no:
        return None
    return "yes" if yes else "no"


def parse_account_number(text: str, lang: str) -> str | None:
    """The account number (6 to 12 digits, numerals or words) in an utterance, if exactly one."""
    _check(lang)
    found = {s.digits for s in find_number_spans(text, lang) if 6 <= len(s.digits) <= 12}
    return found.pop() if len(found) == 1 else None


def parse_amount(text: str, lang: str, currency: str) -> AmountIntent | None:
    """Read the amount a caller wants to pay, in the account's ``currency``.

    An amount stated in numbers or words ("$42.50", "42,50 €", "forty-two dollars fifty", "forty
    two fifty", "quarante-deux euros cinquante") gives ``partial``; "the full balance", "all of
    it", "la totalité" give ``full``; "the minimum", "le minimum" give ``minimum``. ``None`` when
    unclear: no amount, two different amounts, a currency other than ``currency``, a number that
    cannot be an amount, or both full and minimum.
    """
    _check(lang)
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
    norm = _normalise(text)
    if norm.split(" ")[0] in _QUESTION_WORDS:
        return None
    full, minimum = _found(norm, _FULL[lang]), _found(norm, _MINIMUM[lang])
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
