"""What a caller who cannot pay in full may agree instead: a payment plan or a promise to pay.

These are the workflow's records of an arrangement being agreed on the call; the plan and the
promise are stored for later (by :mod:`voicepay.plans` and :mod:`voicepay.promises`) only once the
workflow has accepted them.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, Field


class Offer(StrEnum):
    """The question the workflow is waiting for the caller to answer, besides the read-back."""

    NONE = "none"
    OPTIONS = "options"
    """Pay part now, a payment plan or a promise to pay?"""
    PLAN_COUNT = "plan_count"
    """How many monthly payments?"""
    PROMISE_DATE = "promise_date"
    """What date can the caller pay by?"""
    CONSENT = "consent"
    """May we keep the card on file for the plan's later payments?"""
    SAVED_CARD = "saved_card"
    """Shall we use the card kept on file?"""
    HUMAN = "human"
    """Nothing suits: would the caller like to speak to someone?"""


class ConsentStatus(StrEnum):
    """The caller's consent to keep their card on file, as understood by code."""

    NONE = "none"
    ASKED = "asked"
    GIVEN = "given"
    REFUSED = "refused"


class PlannedInstalment(BaseModel):
    """One payment of a plan: its due date and amount in minor units."""

    due: date
    amount_minor: int = Field(gt=0)


class PlanTerms(BaseModel):
    """A payment plan proposed on the call; the first instalment is paid on the call."""

    currency: str
    instalments: list[PlannedInstalment] = Field(min_length=2)

    @property
    def total_minor(self) -> int:
        """What the whole plan pays."""
        return sum(instalment.amount_minor for instalment in self.instalments)

    @property
    def first(self) -> PlannedInstalment:
        """The instalment taken today, on the call."""
        return self.instalments[0]

    @property
    def later(self) -> list[PlannedInstalment]:
        """The instalments the scheduler charges to the saved card."""
        return self.instalments[1:]


class PromiseTerms(BaseModel):
    """The caller's promise to pay ``amount_minor`` by ``due``."""

    amount_minor: int = Field(gt=0)
    currency: str
    due: date


CardPurpose = Literal["plan", "future_payments"]
"""What a card is kept on file for: a plan's later payments, or the caller's future payments."""


class CardConsentRecord(BaseModel):
    """When and to which question the caller said yes to keeping their card on file."""

    at: datetime
    wording_key: str
    language: str


def consent_question(purpose: CardPurpose) -> str:
    """The prompt key of the question a caller answers to keep their card for ``purpose``."""
    return "plan.proposal" if purpose == "plan" else "saved_card.consent"
