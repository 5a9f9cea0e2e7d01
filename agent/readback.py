"""The sentence that reads the amount and the card back before any charge."""

from __future__ import annotations

from agent.workflow import PaymentTerms
from prompts import PromptBook
from voicepay.money import Money


def readback_text(prompts: PromptBook, terms: PaymentTerms) -> str:
    """Amount, brand and last four digits, ending with the yes/no (1/2) question.

    A plan's first instalment also says that the card is kept on file for the others, and a
    card the caller asked us to keep says so.
    """
    return prompts.text(
        _readback_key(terms),
        amount=Money(terms.amount_minor, terms.currency).format(prompts.language),
        brand=prompts.text(f"brand.{terms.card.brand}"),
        last4=terms.card.last4,
    )


def _readback_key(terms: PaymentTerms) -> str:
    if terms.plan is not None:
        return "plan.readback"
    return "confirm.readback_keep" if terms.keeps_card else "confirm.readback"
