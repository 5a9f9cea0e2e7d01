"""Reading a yes or a no, with agreeing idioms ("no problem") and doubt ("not sure")."""

from __future__ import annotations

from typing import Literal

from agent._nlu_text import matches, negated, normalise, rx, word_index
from voicepay.spoken_numbers import check_language

_YES = {
    "en": rx(
        r"yes|yeah|yep|yup|ya|yah|sure|surely|correct|right|ok|okay|alright|all right|absolutely",
        r"definitely|certainly|exactly|indeed|affirmative|confirm|confirmed|perfect|fine|agreed",
        r"go ahead|go for it|do it|please do|of course|sounds good|that works|uh huh|mhm",
    ),
    "fr": rx(
        r"oui|ouais|ouaip|de accord|ok|okay|exact|exactement|correct|tout a fait|bien sur",
        r"absolument|allez y|vas y|allons y|parfait|confirme|confirmer|ca marche|ce est bon",
        r"ce est ca|entendu|volontiers|certainement|effectivement|affirmatif|avec plaisir",
    ),
}
_NO = {
    "en": rx(r"no|nope|nah|not|never|incorrect|wrong|negative|cancel|stop"),
    "fr": rx(r"non|nan|ne|pas|jamais|incorrect|faux|annule(?:r|z)?|negatif"),
}
_UNSURE = {
    "en": rx(
        r"maybe|perhaps|not sure|unsure|do not know|no idea|hold on|hang on|wait|let me think",
        r"one (?:moment|second|sec|minute)|just a (?:moment|second|sec|minute)",
    ),
    "fr": rx(
        r"peut etre|(?:ne )?sais pas|(?:ne suis )?pas sur|(?:ne suis )?pas certain|aucune idee",
        r"attendez|attends|je reflechis",
        r"un (?:instant|moment)|une (?:seconde|minute)",
    ),
}
_AGREEING_IDIOMS = {
    "en": rx(r"no problem|not a problem|no worries|why not|no doubt|without a doubt"),
    "fr": rx(r"pas de (?:probleme|soucis?)|sans probleme|aucun probleme|pourquoi pas"),
}
_KEYPAD_YES = {"1", "one", "un", "une"}
_KEYPAD_NO = {"2", "two", "deux"}


def parse_yes_no(text: str, lang: str) -> Literal["yes", "no"] | None:
    """Read a yes or a no; ``None`` when unclear, doubtful, or both.

    A whole utterance of "1"/"one" is yes and "2"/"two" is no, as on the keypad. Hesitation
    ("wait", "not sure") cancels a yes but never a no: "No, wait, that's too much" is a no.
    """
    check_language(lang)
    norm = normalise(text)
    if norm in _KEYPAD_YES or norm in _KEYPAD_NO:
        return "yes" if norm in _KEYPAD_YES else "no"
    unsure = matches(norm, _UNSURE[lang], negatable=False)
    for pattern in _UNSURE[lang]:
        # "not sure", "je ne sais pas": doubt, whose negation words are not a no.
        norm = " ".join(pattern.sub(" ", norm).split())
    for idiom in _AGREEING_IDIOMS[lang]:
        norm = idiom.sub("yes" if lang == "en" else "oui", norm)
    words = norm.split(" ")
    yes = no = False
    for pattern in _YES[lang]:
        for match in pattern.finditer(norm):
            if negated(words, word_index(norm, match.start()), window=2):
                no = True
            else:
                yes = True
    no = no or matches(norm, _NO[lang], negatable=False)
    yes = yes or (lang == "fr" and words[0] == "si")
    if yes == no or (unsure and yes):
        return None
    return "yes" if yes else "no"
