"""The sentence that reads the amount and the card back before any charge."""

from __future__ import annotations

from agent.workflow import PaymentTerms
from prompts import PromptBook
from voicepay.money import Money


def readback_text(prompts: PromptBook, terms: PaymentTerms) -> str:
    """Amount, brand and last four digits, ending with the yes/no (1/2) question."""
    return prompts.text(
        "confirm.readback",
        amount=Money(terms.amount_minor, terms.currency).format(prompts.language),
        brand=prompts.text(f"brand.{terms.card.brand}"),
        last4=terms.card.last4,
    )
