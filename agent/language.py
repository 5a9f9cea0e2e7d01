"""The call's language: keyed at the greeting, asked for, or heard in the caller's first words.

English and French are supported. The greeting ends with an offer in the other language ("Pour le
français, appuyez sur le 9, puis sur dièse"); the caller may also ask ("in French, please"), and the
first utterance is scored word by word against small lists of function words of each language (with
the speech recogniser's language as a tie-breaker), which is deterministic and needs no model.

Switching reloads the call's :class:`~prompts.PromptBook` (every prompt, read-back and receipt then
follows), records the language on the workflow state, replaces the agent's instructions and emits a
``language`` event, which an audio pipeline listens to in order to retune speech recognition and
synthesis.
"""

from __future__ import annotations

from typing import Literal

from agent._nlu_text import normalise
from agent.call_context import CallContext
from prompts import LANGUAGES, PromptBook

Language = Literal["en", "fr"]

# Function words and common call words that only one of the two languages uses (accents folded,
# contractions expanded as by the NLU: "c'est" -> "ce est", "I'm" -> "i am"). Words both share
# ("a", "on", "ok", "six", "message") are left out.
_WORDS: dict[Language, frozenset[str]] = {
    "en": frozenset(
        """the and is are am was i my me you your to of in it that this for with please hi hello
        yes no not want would like pay paying bill account number can could what how thanks thank
        do have need there here just full whole balance card one two three four five seven eight
        nine ten eleven twelve twenty thirty forty fifty sixty hey good morning afternoon""".split()
    ),
    "fr": frozenset(
        """le la les un une et est suis je ai mon ma mes vous votre vos de du des pour avec se il
        plait bonjour oui non veux voudrais payer regler facture compte numero merci ce que qui pas
        ne au aux tout totalite solde carte sur bien deux trois quatre cinq sept huit neuf dix
        onze douze vingt trente quarante cinquante soixante salut madame monsieur""".split()
    ),
}
_MARGIN = 2
"""How many more words of one language than of the other a first utterance needs."""


def other_language(language: str) -> Language:
    """The language the greeting offers to switch to."""
    return "en" if language == "fr" else "fr"


def detect_language(text: str, hint: str | None = None) -> Language | None:
    """The language of an utterance, or ``None`` when its words do not clearly say.

    Args:
        text: what the caller said.
        hint: the speech recogniser's language for it (``"fr"``, ``"fr-FR"``, ``"en-US"``...),
            which counts as one more word of that language.
    """
    words = normalise(text).split()
    scores = {lang: sum(word in _WORDS[lang] for word in words) for lang in ("en", "fr")}
    hinted = (hint or "")[:2].lower()
    if hinted in scores:
        scores[hinted] += 1
    if scores["fr"] - scores["en"] >= _MARGIN:
        return "fr"
    if scores["en"] - scores["fr"] >= _MARGIN:
        return "en"
    return None


def greeting(call: CallContext) -> str:
    """The greeting, ending with the offer, in the other language, of the language key."""
    offer = call.prompts.text("language.offer", digit=call.settings.language.keypad_key)
    return f"{call.prompts.text('greeting')} {offer}"


async def switch_language(call: CallContext, language: str, *, reason: str) -> bool:
    """Move the call to ``language``; returns whether it changed.

    Args:
        call: the call.
        language: ``"en"`` or ``"fr"``.
        reason: why (``keypad``, ``request`` or ``detected``), for the call's events.
    """
    previous = call.language
    if language == previous or language not in LANGUAGES:
        return False
    call.prompts = PromptBook.load(language)
    await call.update(lambda state: state.set_language(language))
    if call.session is not None:
        await call.session.current_agent.update_instructions(call.prompts.instructions())
    call.events.emit("language", source=previous, target=language, reason=reason)
    return True
