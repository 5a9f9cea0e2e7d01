"""The call-level requests a caller may make at any step: a human, a repeat, goodbye..."""

from __future__ import annotations

from enum import StrEnum

from agent._nlu_arrangements import detect_arrangements
from agent._nlu_text import Patterns, matches, normalise, rx
from voicepay.spoken_numbers import LANGUAGES, check_language


class Intent(StrEnum):
    """Things a caller may ask for at any step of the call."""

    HUMAN = "human"
    CARD_READBACK = "card_readback"
    PROMPT_INJECTION = "prompt_injection"
    REPEAT = "repeat"
    GOODBYE = "goodbye"
    CANCEL = "cancel"
    HELP = "help"
    NEW_CARD = "new_card"
    PAYMENT_LINK = "payment_link"
    KEEP_CARD = "keep_card"
    LANGUAGE_FRENCH = "language_french"
    LANGUAGE_ENGLISH = "language_english"
    CANNOT_PAY_IN_FULL = "cannot_pay_in_full"
    """"I can't pay all of that"; never beside a stated hardship, which goes to a person."""
    PAYMENT_PLAN = "payment_plan"
    PROMISE_TO_PAY = "promise_to_pay"
    DECLINE_ALL = "decline_all"
    """"None of those": the caller turns down every option offered."""


_ARTICLE = r"(?:a |an |the |some |one |your )?"
# Said at the very end of an utterance only: "never mind" mid-sentence is a self-correction.
_AT_END = r"(?:(?: \|)? (?:thanks|thank you|merci|please))?$"
_PEOPLE = (
    r"(?:real |live |actual )?(?:person|someone|somebody|anyone|anybody|manager|supervisor"
    r"|customer service|advisor|adviser|human|agent|operator|representative)"
)
_INTENTS: dict[Intent, Patterns] = {
    Intent.HUMAN: {
        "en": rx(
            rf"{_ARTICLE}(?:real |live |actual )?(?:human(?: being)?|agent|representative|operator"
            r"|real person|live person|actual person)s?",
            rf"(?:talk|speak|chat) (?:to|with) {_ARTICLE}{_PEOPLE}",
            rf"(?:transfer|put|get|connect) me (?:to|through to|through|with) {_ARTICLE}{_PEOPLE}",
            rf"transfer me(?: over| now)?{_AT_END}",
        ),
        "fr": rx(
            r"(?:un |une |le |la |a un |a une )?(?:conseiller|conseillere|humain|etre humain"
            r"|vraie personne|personne reelle|agent|operateur|operatrice|standardiste)s?",
            r"(?:parler|discuter) (?:a|avec) (?:quelque un|quelqu un|une personne|un responsable"
            r"|le service client)",
            r"(?:passez|passer|transferez|transferer|mettez) moi (?:a |au |avec )?(?:quelqu un"
            r"|un responsable|le service client)",
        ),
    },
    Intent.CARD_READBACK: {
        "en": rx(
            r"read (?:me )?(?:back )?(?:my |the )?(?:card|digits|card number|card details)",
            r"(?:repeat|say|tell me|give me|read)(?: back)? (?:me )?(?:my |the |those |these )?"
            r"(?:card number|card digits|digits|numbers|number|card details|full card)",
            r"what (?:card number|number|digits) did i (?:give|enter|type|say|press|put in)",
            r"what (?:is|was|were|are) (?:my |the )(?:card number|card digits|digits)",
        ),
        "fr": rx(
            r"(?:relis|relisez|relire|repete|repetez|repeter|redonnez|redonne|rappelez|dites"
            r"|donnez|lisez|lis)(?: moi| me)? (?:mon |ma |le |la |les |mes )?(?:numero de carte"
            r"|numero|carte|chiffres|numeros)",
            r"quel (?:est|etait) (?:mon|le) numero de carte",
            r"quels (?:sont|etaient) les chiffres",
        ),
    },
    Intent.PROMPT_INJECTION: {
        "en": rx(
            r"(?:ignore|disregard|forget|override|bypass)(?: all| any)?(?: of)?(?: your| the| my"
            r"| these| those)?(?: previous| prior| earlier| above| original| system)?"
            r" (?:instructions?|rules|prompts?|guidelines|directives|programming|restrictions)",
            r"system prompt|you are now|jailbreak|new instructions|act as (?:a|an|if|my|the)",
            r"(?:developer|dev|debug|admin|god|jailbroken) mode|pretend (?:to be|you are|that you)",
            r"(?:reveal|show|print|tell me) (?:me )?(?:your|the) (?:instructions|prompt|system)",
        ),
        "fr": rx(
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
        "en": rx(
            r"say (?:that|it) again|repeat (?:that|it|yourself|please|the \w+)|come again|pardon",
            r"(?:could|can|would) you repeat|what did you say|one more time|once more",
            r"i did not (?:catch|hear|get|understand) (?:that|you|it|what you said)",
            r"^(?:what|sorry|huh|repeat|excuse me|sorry what|what was that)$",
        ),
        "fr": rx(
            r"pardon|repetez|repete|repeter|redites|encore une fois|vous avez dit quoi",
            r"je (?:ne )?ai pas (?:compris|entendu|saisi)",
            r"^(?:quoi|comment|hein)$",
        ),
    },
    Intent.GOODBYE: {
        "en": rx(
            r"good ?bye|bye(?: bye)?|see you|talk to you later|nothing else|hang up",
            r"have a (?:good|nice|great) (?:day|one|evening|night)|(?:i am|we are) done",
            rf"that (?:is|will be) (?:all|it)(?: for (?:now|today))?{_AT_END}",
        ),
        "fr": rx(
            r"au revoir|bonne (?:journee|soiree|fin de journee)|a bientot|adieu|rien de autre",
            r"(?:je )?raccroche(?:r|z)?",
            rf"(?:ce sera|ce est) tout{_AT_END}",
        ),
    },
    Intent.CANCEL: {
        "en": rx(
            r"cancel|abort",
            rf"(?:^|(?<=\| ))(?:stop|never ?mind|forget (?:it|about it)"
            rf"|i (?:have )?changed my mind){_AT_END}",
            rf"(?:do not|no longer) want to (?:pay|continue|go ahead|proceed)(?: today)?{_AT_END}",
            r"stop (?:the|this) (?:payment|call)",
        ),
        "fr": rx(
            r"annule(?:r|z)?|annulation",
            rf"(?:^|(?<=\| ))(?:stop|arrete(?:r|z)?|laisse(?:r|z)? tomber|oublie(?:z)? ca"
            rf"|je ai change de avis){_AT_END}",
            rf"(?:ne )?veux (?:plus|pas) payer{_AT_END}",
        ),
    },
    Intent.NEW_CARD: {
        "en": rx(
            r"(?:another|a different|a new|the other|my other|different|new|other)"
            r" (?:credit |debit )?card",
            r"(?:change|switch) (?:the |my )?cards?",
        ),
        "fr": rx(
            r"(?:une |la |mon |ma )?(?:autre|nouvelle) carte|carte differente",
            r"changer de carte",
        ),
    },
    Intent.PAYMENT_LINK: {
        "en": rx(
            r"(?:send|text|email|e mail|give) me (?:a |the |an )?(?:secure |payment |pay )?link",
            r"(?:pay|payment) (?:by|with|via|through|using|from) (?:a |the )?(?:secure |payment )?"
            r"link",
            r"(?:prefer|rather have|want|like|get) (?:a |the )?(?:secure |payment )?link",
            r"(?:secure|payment) link",
        ),
        "fr": rx(
            r"(?:un|le|par|du|mon) lien(?: de paiement| securise)?",
            r"(?:envoyez|envoyer|envoie) moi (?:un |le )?lien",
        ),
    },
    Intent.KEEP_CARD: {
        "en": rx(
            r"(?:keep|save|store|remember|hold on to) (?:my|the|this|that) card(?: details)?"
            r"(?: on file| for (?:next time|later|the future|future payments))?",
            r"(?:keep|save|put) (?:it|my card|the card) on file|card on file for next time",
        ),
        "fr": rx(
            r"(?:gardez|garder|conservez|conserver|enregistrez|enregistrer|memorisez|memoriser)"
            r" (?:ma|la|cette) carte",
        ),
    },
    Intent.HELP: {
        "en": rx(
            r"help|what can you do|what are (?:my|the) options|how does (?:this|it) work",
            r"i do not understand|i am confused",
        ),
        "fr": rx(
            r"aide|aidez moi|au secours|je (?:ne )?comprends pas|comment ca marche",
            r"quelles sont (?:mes|les) options|que (?:puis je|est ce que je peux) faire",
        ),
    },
    Intent.LANGUAGE_FRENCH: {
        "en": rx(r"(?:in|speak|speaks|talk) french", r"french please", r"^french$"),
        "fr": rx(r"en francais", r"parle(?:z|r)? (?:vous )?francais", r"^francais$"),
    },
    Intent.LANGUAGE_ENGLISH: {
        "en": rx(r"(?:in|speak|speaks|talk) english", r"english please", r"^english$"),
        "fr": rx(r"en anglais", r"parle(?:z|r)? (?:vous )?anglais", r"^anglais$"),
    },
}
# Intents whose patterns already say what is meant whatever precedes ("I didn't catch that").
_NOT_NEGATABLE = {Intent.PROMPT_INJECTION, Intent.REPEAT}
# A caller may switch language mid-sentence to ask for these.
_ANY_LANGUAGE = {Intent.PROMPT_INJECTION, Intent.LANGUAGE_FRENCH, Intent.LANGUAGE_ENGLISH}


def detect_intents(text: str, lang: str) -> frozenset[Intent]:
    """The call-level requests in an utterance, e.g. ``{Intent.HUMAN}`` for "agent, please".

    A card read-back request is not also reported as :attr:`Intent.REPEAT`. The arrangement
    intents (a plan, a promise to pay...) come from :mod:`agent._nlu_arrangements`.
    """
    check_language(lang)
    norm = normalise(text)
    found = set()
    for intent, by_lang in _INTENTS.items():
        languages = LANGUAGES if intent in _ANY_LANGUAGE else (lang,)
        negatable = intent not in _NOT_NEGATABLE
        if any(matches(norm, by_lang[language], negatable=negatable) for language in languages):
            found.add(intent)
    if Intent.CARD_READBACK in found:
        found.discard(Intent.REPEAT)
    found.update(Intent(name) for name in detect_arrangements(text, lang))
    return frozenset(found)
