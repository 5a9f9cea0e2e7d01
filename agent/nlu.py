"""Deterministic understanding of what a caller said, in English and French.

The directed-dialog policy runs on these functions when no LLM is configured, and the tools use
:func:`parse_amount` to read the amount the LLM passes on. Matching works on a normalised form of
the utterance: lower case, accents removed, contractions expanded ("don't" → "do not", "j'ai" →
"je ai"), and ``|`` marking clause breaks at punctuation. The work is split by concept:
:mod:`agent._nlu_text` (normalising and negation), :mod:`agent._nlu_intents`,
:mod:`agent._nlu_yes_no`, :mod:`agent._nlu_amounts`, :mod:`agent._nlu_channels` (how a
receipt is wanted), :mod:`agent._nlu_arrangements` (a plan, a promise to pay, none of those) and
:mod:`agent._nlu_dates` (when the caller will pay); this module is the public face.

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

from agent._nlu_amounts import AmountIntent, parse_amount
from agent._nlu_arrangements import parse_instalment_count
from agent._nlu_channels import ReceiptChoice, parse_receipt_channel
from agent._nlu_dates import parse_pay_date
from agent._nlu_intents import Intent, detect_intents
from agent._nlu_yes_no import parse_yes_no
from voicepay.spoken_numbers import check_language, find_number_spans

__all__ = [
    "AmountIntent",
    "Intent",
    "ReceiptChoice",
    "detect_intents",
    "parse_account_number",
    "parse_amount",
    "parse_instalment_count",
    "parse_pay_date",
    "parse_receipt_channel",
    "parse_yes_no",
]


def parse_account_number(text: str, lang: str) -> str | None:
    """The account number (6 to 12 digits, numerals or words) in an utterance, if exactly one."""
    check_language(lang)
    found = {s.digits for s in find_number_spans(text, lang) if 6 <= len(s.digits) <= 12}
    return found.pop() if len(found) == 1 else None
