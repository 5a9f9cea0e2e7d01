"""Things a caller says that need a person, whatever their tone: a dispute, fraud, a bereavement...

Patterns are written like :mod:`agent._nlu_intents`: regex alternatives over the normalised
utterance, matched as whole words. A plain pattern does not count when a negation governs it
("no complaint", "I'm not disputing it", "je ne conteste pas"); a pattern that holds its own
negation ("I don't owe this", "je n'ai pas les moyens") is matched as it stands.
"""

from __future__ import annotations

from enum import StrEnum

from agent._nlu_text import Patterns, matches, normalise, rx
from voicepay.spoken_numbers import check_language


class EscalationIntent(StrEnum):
    """A subject the bot must not handle alone; each is also a transfer reason code."""

    FRAUD = "fraud"
    LEGAL_THREAT = "legal_threat"
    BEREAVEMENT = "bereavement"
    DISPUTE = "dispute"
    HARDSHIP = "hardship"
    COMPLAINT = "complaint"


PRIORITY = tuple(EscalationIntent)
"""Most urgent first: the one reported when an utterance raises several."""

_CLAUSE_END = r"(?= \||$)"
_BILL = r"(?:bill|charge|amount|balance|invoice|statement|payment|debt|total|fee)"
_KIN_EN = (
    r"(?:husband|wife|partner|spouse|mother|father|mum|mom|dad|son|daughter|brother|sister"
    r"|grandmother|grandfather|grandma|grandpa|parents?|child|baby|fiance|fiancee)"
)
_KIN_FR = (
    r"(?:mari|femme|epouse|epoux|conjoint|conjointe|compagnon|compagne|pere|mere|papa|maman"
    r"|fils|fille|frere|soeur|grand mere|grand pere|parents|enfant|bebe)"
)
_FACTURE = r"(?:facture|montant|somme|prelevement|solde|dette|paiement)"

# (plain patterns, negatable) and (patterns holding their own negation, matched as they stand).
_PATTERNS: dict[EscalationIntent, tuple[Patterns, Patterns]] = {
    EscalationIntent.DISPUTE: (
        {
            "en": rx(
                r"disput(?:e|ing)|contest(?:ing)? (?:this|that|it|the|my)",
                rf"(?:this|the|that|my) {_BILL} (?:is|was|looks) (?:wrong|incorrect|a mistake"
                r"|an error|too high)",
                rf"(?:wrong|incorrect) {_BILL}|billing (?:error|mistake)",
                r"overcharg(?:ed|ing)|(?:charged|billed) (?:me )?twice|double (?:charged|billed)",
                r"(?:charged|billed|charging|billing) (?:me |us )?for"
                r" (?:something|a service|things) (?:i|we) (?:cancell?ed|never)",
                rf"refuse to pay (?:it|this|that|for|the {_BILL}|this {_BILL}|any of it)"
                rf"|refuse to pay{_CLAUSE_END}",
            ),
            "fr": rx(
                r"conteste|contester|contestation|litige|desaccord",
                rf"(?:la|cette|le|ce) {_FACTURE} (?:est|etait) (?:faux|fausse|erronee?|incorrecte?"
                r"|trop elevee?)",
                r"erreur de (?:facturation|facture|montant)|facture erronee",
                r"(?:facture|preleve|debite|facturee?) (?:deux fois|en double)",
                rf"refuse de payer (?:ce|cette|la|le|ca)|refuse de payer{_CLAUSE_END}",
            ),
        },
        {
            "en": rx(
                r"(?:i|we) (?:do|did|should) not owe|(?:i|we) owe (?:you )?nothing",
                rf"(?:this|that|it) is not (?:my|our) {_BILL}",
                rf"(?:the|this|that) {_BILL} (?:is|was) not (?:right|correct)",
                r"never (?:received|got|ordered|used|signed up for)",
            ),
            "fr": rx(
                r"je ne (?:vous )?dois (?:rien|pas)",
                rf"pas de accord avec (?:la|cette|le|ce) {_FACTURE}",
                r"(?:ne est|est) pas (?:ma|mon) (?:facture|dette)",
                r"je ne ai jamais (?:recu|commande|utilise|souscrit)",
                rf"{_FACTURE} (?:ne )?(?:est|etait) pas (?:la mienne|le mien|a moi|pour moi)",
            ),
        },
    ),
    EscalationIntent.FRAUD: (
        {
            "en": rx(
                r"fraud(?:ulent)?|scam(?:med)?|identity theft|hacked|unauthori[sz]ed",
                r"(?:card|wallet|purse|bag|phone) (?:was|has been|got|is|were) (?:stolen|lost"
                r"|nicked|taken|hacked|compromised|cloned)",
                r"(?:stolen|lost) (?:credit |debit )?(?:card|wallet)",
                r"(?:someone|somebody|a stranger) (?:\w+ ){0,2}(?:stole|stolen|took|taken|used"
                r"|using|hacked|accessed) my",
                r"lost my (?:credit |debit )?(?:card|wallet)",
            ),
            "fr": rx(
                r"fraude|frauduleux|frauduleuse|arnaque|escroquerie|usurpation|pirate",
                r"carte (?:volee|perdue)|non autorisee?s?",
                r"(?:ma|mon) (?:carte|portefeuille|sac) (?:a ete|est|ont ete) (?:volee?|perdue?)",
                r"(?:on|quelque un|quelqu un) (?:me )?a (?:vole|pris|utilise) (?:ma|mon)",
                r"je ai perdu (?:ma carte|mon portefeuille)",
            ),
        },
        {
            "en": rx(
                r"(?:i|we) (?:did not|never|did never) (?:make|authori[sz]e|do|order|buy|approve"
                r"|recogni[sz]e) (?:this|that|it|these|those|the)",
                r"(?:this|that|it) (?:charge |payment |transaction )?(?:is|was) not (?:me|mine)",
                r"(?:do|did) not recogni[sz]e (?:this|that|these|those|the) (?:charge|payment"
                r"|transaction)",
            ),
            "fr": rx(
                r"je ne ai (?:jamais|pas) (?:fait|autorise|effectue|commande|valide)"
                r" (?:ce|cette|cet|ces|ca|le|la|les)",
                r"je ne reconnais pas (?:ce|cette|cet|ces|le|la|les)",
                r"(?:ne est|est) pas moi qui",
            ),
        },
    ),
    EscalationIntent.HARDSHIP: (
        {
            "en": rx(
                r"lost my (?:job|work|income)|laid off|made redundant|unemployed|out of work",
                r"no (?:money|income)|i am (?:flat |completely |totally )?broke",
                r"(?:financial|money) (?:difficulty|difficulties|problems|trouble|hardship)",
                r"struggling (?:financially|to pay|with (?:money|the bills|bills|debt))",
                # A payment plan is not hardship on its own: the bot sets plans up itself.
                r"payment arrangement|more time to pay",
            ),
            "fr": rx(
                r"perdu mon (?:emploi|travail|boulot)|au chomage|chomeur|chomeuse|licenciee?",
                r"difficultes financieres|problemes? de argent|problemes? financiers?",
                r"fins de mois difficiles|fauchee?|plus un sou|sans (?:emploi|revenus?)",
                r"delai de paiement",
            ),
        },
        {
            "en": rx(
                # "Can't afford the full amount" asks for an arrangement, which the bot offers.
                r"(?:can|could) (?:not|no longer) afford(?!(?: to pay)? (?:the (?:full|whole|entire"
                r"|total)|all(?! right)|it all|everything|that much|so much))",
                rf"(?:can|could) (?:not|no longer) (?:pay|make (?:the|this|my|a) payment)"
                rf"(?: (?:anything|it|this|that|the bill|this month|right now|at the moment|at all"
                rf"|any of it))?{_CLAUSE_END}",
                r"(?:do|does) not have (?:the|any|enough) money",
            ),
            "fr": rx(
                r"(?:ne ai |ai )?pas les moyens(?! de (?:tout (?:payer|regler)|(?:payer|regler)"
                r" (?:la totalite|tout|le montant total)))|ne ai plus les moyens",
                rf"(?:ne )?(?:peux|pouvons|pourrai) (?:pas|plus) payer(?: (?:ce mois ci|maintenant"
                rf"|pour le moment|rien|ca|cette facture))?{_CLAUSE_END}",
                r"(?:pas|plus) (?:de|assez de) argent(?! liquide)",
                r"(?:ne )?(?:arrive|arrivons) (?:pas|plus) a (?:payer|regler)",
            ),
        },
    ),
    EscalationIntent.BEREAVEMENT: (
        {
            "en": rx(
                r"passed away|deceased|funeral|bereave(?:d|ment)|death in the family",
                r"widow(?:ed|er)?",
                rf"(?:{_KIN_EN}|he|she) (?:has |had |just |recently )*(?:died|passed|is dead)",
                rf"lost my {_KIN_EN}|death of my {_KIN_EN}",
            ),
            "fr": rx(
                r"decede|decedee|deces|obseques|enterrement|funerailles|veuf|veuve",
                rf"{_KIN_FR} (?:est |vient de |a )(?:mort|morte|partir|nous quitter|disparu)",
                rf"je ai perdu mon {_KIN_FR}|je ai perdu ma {_KIN_FR}",
                r"nous a quittee?s?",
            ),
        },
        {"en": (), "fr": ()},
    ),
    EscalationIntent.COMPLAINT: (
        {
            "en": rx(
                r"complaints?|complain(?:ing)?|grievance|ombudsman|report you",
            ),
            "fr": rx(
                r"reclamations?|plaintes?|me plaindre|mediateur",
                r"porter plainte",
            ),
        },
        {"en": (), "fr": ()},
    ),
    EscalationIntent.LEGAL_THREAT: (
        {
            "en": rx(
                r"lawyers?|attorneys?|solicitors?|legal (?:action|proceedings|team|advice)",
                r"sue (?:you|your|the|this|them)|(?:will|going to|gonna|shall) sue|suing|sued",
                r"lawsuit|class action|small claims",
                r"(?:take|taking|drag) (?:you|this|it|them|the company) to court|in court",
            ),
            "fr": rx(
                r"avocats?|(?:vous|les) poursuivre|poursuites|en justice|tribunal|tribunaux|proces",
                r"mise en demeure|action en justice",
            ),
        },
        {"en": (), "fr": ()},
    ),
}


def detect_escalation_intents(text: str, lang: str) -> frozenset[EscalationIntent]:
    """The subjects in an utterance that need a person, e.g. ``{FRAUD}`` for "card was stolen".

    Args:
        text: what the caller said.
        lang: ``"en"`` or ``"fr"``.
    """
    check_language(lang)
    norm = normalise(text)
    return frozenset(
        intent
        for intent, (plain, own_negation) in _PATTERNS.items()
        if matches(norm, plain[lang]) or matches(norm, own_negation[lang], negatable=False)
    )


def most_urgent(intents: frozenset[EscalationIntent]) -> EscalationIntent | None:
    """The intent to act on first (see :data:`PRIORITY`), or ``None`` for none."""
    return next((intent for intent in PRIORITY if intent in intents), None)
