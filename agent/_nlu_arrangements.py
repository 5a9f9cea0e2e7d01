"""Understanding a caller who cannot pay in full: a payment plan, a promise to pay, or neither.

Patterns match the :func:`agent._nlu_dates.digit_form` of the utterance (normalised, numbers as
numerals), negation-aware like :mod:`agent._nlu_intents`; a pattern that starts with its own
negation ("can't pay all of that", "je n'ai pas assez") is written from that negation on.

Hardship comes first. A caller who states a hardship (lost their job, unemployed, cannot feed
their children, no money at all) is handed to a person by :mod:`agent.escalation`, which screens
every utterance before the dialog policy sees it. So that the policy never answers such a caller
with a plan instead, ``cannot_pay_in_full`` is not reported when the utterance also states one of
those circumstances ("I lost my job, I can't pay all of that" is hardship only). Where the
escalation patterns read hardship in a phrase that is also ``cannot_pay_in_full`` here ("I can't
afford the full amount"), the transfer wins too, as the escalation screen runs first.
"""

from __future__ import annotations

from typing import Literal

from agent._nlu_dates import digit_form, mentions_pay_time
from agent._nlu_text import Patterns, matches, negated, rx, word_index
from voicepay.spoken_numbers import check_language

ArrangementIntent = Literal["cannot_pay_in_full", "payment_plan", "promise_to_pay", "decline_all"]

_CANNOT = r"(?:(?:can|could) not|cannot)"
_ALL_EN = (
    r"(?:all(?: of (?:it|that|this|the (?:balance|amount|bill|money)))?|everything|it all"
    r"|the (?:full|whole|entire|total)(?: (?:amount|balance|bill|sum|thing|lot))?|the lot"
    r"|(?:that|this|so) much|(?:it )?in full|(?:it )?all at once|(?:it )?in one go|a lump sum"
    r"|(?:that|this) amount)"
)
_ALL_FR = (
    r"(?:tout(?: ca| cela| le montant)?|la totalite|le tout|le integralite|la integralite"
    r"|le montant (?:total|complet)|le total|toute la somme|le solde complet|autant|en entier"
    r"|en totalite|en une (?:seule )?fois|(?:en|de) un (?:seul )?coup)"
)
_NOW_FR = r"(?= \||$| ce mois| en ce moment| maintenant| aujourd| pour le moment)"
# "Too much" alone may be about an amount just read back ("no, that's too much"), not the balance.
_FOR_ME_EN = r" (?:for (?:me|us|my budget)|(?:right )?now|today|this month|at the moment)"
_FOR_ME_FR = r" (?:pour (?:moi|nous|mon budget)|ce mois|en ce moment|maintenant|aujourd hui)"
_CANNOT_PAY_IN_FULL: Patterns = {
    "en": rx(
        rf"{_CANNOT} (?:really |quite )?(?:pay|afford(?: to pay)?|manage|cover|do|make|settle"
        rf"|clear)(?: it| this| that)? {_ALL_EN}",
        r"(?:can|could) only (?:pay|afford|manage|cover|do|make)(?: you)? (?:part|some|half"
        r"|a (?:bit|little|portion|part|fraction|small amount))",
        rf"too much{_FOR_ME_EN}|more than i can (?:afford|pay|manage)",
        r"(?:beyond|over|out of) my (?:budget|means|price range)",
        r"(?:do|does) not have (?:enough|that much|all of it|it all|the full amount"
        r"|the (?:whole|full|entire|total) (?:amount|balance|sum|thing))",
        r"not enough to (?:pay|cover) (?:it all|everything|all|the (?:full|whole|entire|total))",
        r"i am (?:a (?:bit|little) |slightly )?short(?: of (?:money|cash|funds)| on (?:money|cash"
        r"|funds))?(?: this month| right now| at the moment| today)?(?= \||$)",
    ),
    "fr": rx(
        r"(?:ne )?(?:peux|pourrai|pourrais|pouvons|arrive|arriverai) pas (?:a )?(?:tout (?:payer"
        rf"|regler)|(?:payer|regler|verser|avancer) {_ALL_FR}|{_ALL_FR}{_NOW_FR})",
        r"(?:ne )?(?:peux|pourrai|pourrais|pouvons) (?:payer|regler|verser|donner|mettre) que"
        r" (?:une partie|la moitie|un peu)",
        rf"trop(?: cher)?{_FOR_ME_FR}|au dessus de mes moyens",
        r"(?:ne )?ai pas (?:assez|suffisamment|toute la somme|tout le montant|la totalite"
        r"|le montant total)(?! de temps)",
        rf"(?:ne )?ai pas les moyens de (?:tout (?:payer|regler)|(?:payer|regler) {_ALL_FR})",
        rf"(?:ne )?ai pas tout{_NOW_FR}|(?:seulement|juste) une partie|(?:payer|regler) une partie",
        r"pas (?:en |la )?totalite|pas en entier|(?:un peu|trop) juste",
    ),
}
# Circumstances that send the caller to a person (see the module docstring).
_HARDSHIP: Patterns = {
    "en": rx(
        r"lost my (?:job|work|income|house|home)|laid off|made redundant|unemployed|out of work",
        r"no (?:money|income)|(?:i am|we are) (?:flat |completely |totally )?broke|bankrupt",
        r"(?:financial|money) (?:difficulty|difficulties|problems|trouble|hardship)|struggling",
        rf"{_CANNOT} (?:feed|put food on)|(?:feed|food for) (?:my|the) (?:kids|children"
        r"|family)|evict(?:ed|ion)|on benefits|medical bills",
    ),
    "fr": rx(
        r"perdu mon (?:emploi|travail|boulot)|au chomage|chomeur|chomeuse|licenciee?",
        r"difficultes financieres|problemes? de argent|problemes? financiers?|surendettee?",
        r"fins de mois difficiles|fauchee?|(?:plus|pas) un sou|sans (?:emploi|revenus?|ressources)",
        r"plus de argent|nourrir (?:mes|les) enfants|nourrir ma famille|expulsee?|expulsion",
    ),
}
_PAYMENT_PLAN: Patterns = {
    "en": rx(
        r"payment (?:plan|arrangement|schedule)s?|(?:repayment|instal?ment|installment) plans?",
        r"instal?ments?|installments?|set up (?:a |some )?plan",
        r"(?:spread|split|break|divide|stagger)(?: it| this| that| them| the (?:balance|amount"
        r"|bill|payment|payments|total|cost|debt|rest))?(?: up| out| down)?(?= (?:over|across"
        r"|into|in|by)\b| \||$)",
        r"pay (?:it |this |that |the (?:balance|bill|amount|rest|debt) )?(?:off )?(?:in (?:parts"
        r"|stages|chunks|bits|pieces|portions)|monthly|weekly|bit by bit|little by little"
        r"|a (?:bit|little) at a time|over time)",
        r"(?:monthly|weekly|smaller|several|multiple|separate|partial) (?:payments|instal?ments"
        r"|amounts)",
        r"\d+ (?:dollars |euros |pounds |bucks )?(?:a|per|each|every) (?:month|week)",
        r"(?:some|part|half|a bit|a little) (?:now|today) and (?:the )?(?:rest|remainder"
        r"|other half|balance|some|part|half)",
    ),
    "fr": rx(
        r"echeancier|echelonn\w*|etal(?:er|ez|ons|e|ement|erai|erais)|fractionn\w*|mensualis\w*",
        r"en plusieurs (?:fois|paiements|versements|mensualites|echeances|tranches|parties|mois)",
        r"plan de (?:paiement|remboursement|financement)|facilites de paiement",
        r"paiements? (?:echelonnes?|fractionnes?|mensuels?)|mensualites",
        r"(?:par|chaque|tous les) mois|petit a petit|peu a peu",
        r"(?:une partie|la moitie|un peu) (?:maintenant|aujourd hui|tout de suite) et"
        r" (?:le reste|la suite|le solde|le autre moitie)",
    ),
}
_PAY_LATER: Patterns = {
    "en": rx(
        r"(?:i|we) (?:will|shall|would|can|could|should|might|am going to|are going to|am gonna"
        r"|are gonna|will be able to|should be able to|would rather|would prefer to"
        r"|would like to|want to|wish to|prefer to|need to|plan to|intend to|hope to|promise to"
        r"|expect to|will try to)(?: (?:definitely|probably|surely|certainly|easily|then|also"
        r"|just|only))? (?:pay|settle|clear|cover|make (?:the|a|my|this|that) payment"
        r"|call (?:back|you back) and pay)",
        r"(?:i|we) (?:will|would|should) (?:definitely |probably |surely )?have (?:it|(?:the"
        r" |that |this |enough |some |all the )?(?:money|funds|cash))",
        r"(?:can|could|may) (?:i|we) (?:please )?(?:pay|settle|make (?:the|a) payment)",
        r"let (?:me|us) pay|(?:i|we) (?:get|am getting|will get|will be) paid|i promise",
    ),
    "fr": rx(
        r"je (?:vous |le |la |les |te )?(?:paierai|payerai|paie|paye|reglerai|regle|verserai"
        r"|rembourserai|ferai le paiement|ferai le virement)",
        r"(?:je|on|nous) (?:vous |te )?(?:peux|pourrai|pourrais|pouvons|pourrons|vais|va|allons"
        r"|voudrais|veux|prefere|prefererais|compte|souhaite|souhaiterais|aimerais|devrais|pense"
        r"|espere|promets de)(?: vous| te| le| la| les)? (?:payer|regler|verser|rembourser"
        r"|faire le paiement)",
        r"(?:puis|pourrais|pourrai|peux) je (?:vous )?(?:payer|regler)",
        r"je aurai (?:le argent|les fonds|la somme|de quoi|assez)",
        r"je (?:touche|toucherai|recois|recevrai) (?:mon salaire|ma paie|ma paye|ma retraite"
        r"|mes allocations)|je (?:suis|serai) payee?|je (?:vous )?(?:le )?promets",
    ),
}
# A promise whatever else is said: "when I get paid", "I can't pay until Friday".
_PROMISE: Patterns = {
    "en": rx(
        r"(?:when|once|after|as soon as) (?:i|we) (?:get|am|are|have been) paid",
        r"(?:on|after|at) (?:my )?pay ?day",
        rf"(?:{_CANNOT}|will not) (?:be able to )?(?:pay|make (?:the|a) payment)(?: it| anything"
        r"| you| this| that| the (?:bill|balance|rest))? (?:until|till|before)",
    ),
    "fr": rx(
        r"quand je (?:serai|suis) payee?|quand je (?:toucherai|touche|recevrai|recois|aurai)"
        r" (?:mon salaire|ma paie|ma paye|ma retraite|mes allocations)",
        r"(?:a|apres) (?:ma |la )pa(?:i|y)e|jour de (?:la )?paie",
        r"(?:ne )?(?:peux|pourrai|pourrais|pouvons|vais) (?:pas|rien) (?:vous )?(?:payer|regler)"
        r"(?: ca| cela)? (?:avant|jusque)",
    ),
}
_DECLINE_ALL: Patterns = {
    "en": rx(
        r"^(?:no (?:\| )?)?(?:none|neither(?: one)?)(?: (?:\| )?(?:thanks|thank you))?$",
        r"none of (?:those|these|them|that|this|it|the above|the options|your options|the \d+)",
        r"neither (?:of (?:those|these|them|the options|the \d+)|option|one works|works|suits me)",
        r"none (?:works|suits me)",
        r"(?:do|did) not (?:want|like|need|fancy) (?:any|either)(?: of (?:those|these|them|that"
        r"|this|it|the options|the above))?(?= \||$)",
        r"not interested(?: in (?:any|either) of (?:those|these|them|that|the options))?(?= \||$)",
    ),
    "fr": rx(
        r"^(?:non (?:\| )?)?aucune?(?: (?:\| )?merci)?$",
        r"aucune? (?:de (?:ces|ses|vos|les|celles|ceux|ca|cela|tout ca)|des (?:\d+|options"
        r"|propositions|solutions)|(?:option|proposition|solution|formule)s?\b)",
        r"(?:aucune?|rien) ne me (?:convient|va|plait|interesse)|rien de (?:tout )?(?:ca|cela)",
        r"ni (?:le|la) (?:un|une) ni (?:le|la) autre",
    ),
}


def detect_arrangements(text: str, lang: str) -> frozenset[ArrangementIntent]:
    """What a caller who cannot pay in full asks for, e.g. ``{"payment_plan"}`` for "in 3 goes".

    ``promise_to_pay`` needs a time to pay said with the promise ("I'll pay on Friday", "je
    paierai plus tard"), or "when I get paid"; "I'll pay fifty" is not one.
    """
    check_language(lang)
    norm = digit_form(text, lang)
    found: set[ArrangementIntent] = set()
    if matches(norm, _CANNOT_PAY_IN_FULL[lang]) and not matches(
        norm, _HARDSHIP[lang], negatable=False
    ):
        found.add("cannot_pay_in_full")
    if matches(norm, _PAYMENT_PLAN[lang]) or max(_counts(norm, lang), default=0) >= 2:
        found.add("payment_plan")
    if matches(norm, _PROMISE[lang]) or (
        matches(norm, _PAY_LATER[lang]) and mentions_pay_time(norm, lang)
    ):
        found.add("promise_to_pay")
    if matches(norm, _DECLINE_ALL[lang], negatable=False):
        found.add("decline_all")
    return frozenset(found)


_OR = r"(?: (?:or|to|ou|a) (?P<alt>\d+))?"
_COUNTS = {
    "en": (
        rx(
            rf"(?P<n>\d+){_OR} (?:(?:monthly|weekly|fortnightly|equal|separate|smaller|small"
            r"|individual|instal?ment|installment|part) )?(?:payments|instal?ments|installments"
            r"|parts|chunks|goes|transactions|lots|portions)",
            r"(?:split|divide|break|cut|spread)(?: it| this| that| the (?:balance|amount|bill"
            r"|payment|total|cost|debt))?(?: up| down| out)? (?:in|into|by|over|across) (?P<n>\d+)"
            r"(?! (?:days?|weeks?|months?|years?|dollars?|euros?|pounds?|bucks|cents?|percent))",
        ),
        rx(rf"(?:over|across|during)(?: the next)? (?P<n>\d+){_OR} months"),
    ),
    "fr": (
        rx(
            rf"en (?P<n>\d+){_OR} (?:fois|x)",
            r"(?P<n>\d+)x",
            rf"(?P<n>\d+){_OR} (?:paiements|versements|mensualites|echeances|tranches|parties"
            r"|prelevements|traites)",
            r"(?:couper|diviser|decouper|fractionner|separer|etaler|echelonner)(?: ca| cela| tout"
            r"| le \w+| la \w+)? (?:en|par|sur) (?P<n>\d+)(?! (?:jours?|semaines?|mois|ans|euros?"
            r"|dollars?|pour ?cent))",
        ),
        rx(rf"(?:sur|pendant|en)(?: les)? (?P<n>\d+){_OR}(?: prochains)? mois"),
    ),
}


def _counts(norm: str, lang: str) -> set[int]:
    """The numbers of payments a :func:`digit_form` text names, negated ones left out.

    A stated count of payments wins over a duration: "3 payments over 6 months" is 3.
    """
    words = norm.split(" ")
    for patterns in _COUNTS[lang]:
        counts: set[int] = set()
        for match in (m for p in patterns for m in p.finditer(norm)):
            if not negated(words, word_index(norm, match.start())):
                counts.update(int(n) for n in (match["n"], match.groupdict().get("alt")) if n)
        if counts:
            return counts
    return set()


def parse_instalment_count(text: str, lang: str) -> int | None:
    """How many payments the caller wants the balance split into, at least 2; else ``None``.

    Reads "three payments", "in 3 instalments", "over four months", "six monthly payments",
    "split it into 3", "en trois fois", "en 4 mensualités", "sur six mois". ``None`` when no count
    of payments is said ("a payment plan", "pay 3 dollars"), for one payment ("en une fois"), and
    when two counts are ("two or three payments").
    """
    check_language(lang)
    counts = _counts(digit_form(text, lang), lang)
    return counts.pop() if len(counts) == 1 and min(counts) >= 2 else None
