"""The structured brief a human agent reads before taking a call from the bot.

The agent writes it as JSON in the ``brief`` field of a hand-off stream entry (next to the plain
``summary``, which stays for older readers); the agent console shows it. Every text in it must
already be redacted: :meth:`HandoffBrief.guard` refuses a brief holding a Luhn-valid card number or
any run of 12 or more digits, and :meth:`HandoffBrief.from_json` applies the guard on the way in.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from payment_tools.redaction import contains_luhn_run, mask_card_numbers

__all__ = ["BRIEF_FIELD", "Decline", "HandoffBrief", "MaskedCard", "TranscriptLine", "UnsafeBrief"]

BRIEF_FIELD = "brief"
"""Name of the hand-off stream field holding :meth:`HandoffBrief.to_json`."""


class UnsafeBrief(ValueError):
    """A brief that holds something card-like, or is not a valid brief; it is never shown."""


class MaskedCard(BaseModel):
    """The card as a person may see it: brand and last four digits."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    brand: str = Field(max_length=40)
    last4: str = Field(pattern=r"^\d{4}$")


class Decline(BaseModel):
    """One declined charge attempt, with the processor's reason."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    reason: str = Field(max_length=200)
    card: MaskedCard


class TranscriptLine(BaseModel):
    """One redacted turn of the call."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    speaker: Literal["caller", "agent"]
    text: str = Field(max_length=2000)


class HandoffBrief(BaseModel):
    """Everything a person needs to take over the call without asking the caller again.

    Attributes:
        holder: the account holder's name, empty when the caller was not identified.
        account: the account number, empty when not identified.
        verified: whether the caller passed verification.
        verification: how verification went, e.g. "date of birth, first attempt".
        goal: what the caller wanted, e.g. "pay the balance".
        what_happened: the steps of the call, in order.
        amount_minor: the agreed amount in minor units, if any.
        currency: ISO 4217 code of ``amount_minor``.
        card: the captured card, masked.
        declines: declined charge attempts, oldest first.
        payment_reference: the processor reference of a successful payment.
        warnings: what the person must not miss (e.g. a charge with an unknown outcome).
        sentiment: the caller's sentiment per caller turn, from -1 (upset) to 1 (happy).
        reason: the transfer reason code (``agent.handoff.TransferReason`` value).
        trigger: what made the bot transfer, in words.
        next_step: what the bot suggests the person does first.
        language: the call's language.
        transcript: the redacted transcript.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    holder: str = Field("", max_length=200)
    account: str = Field("", max_length=40)
    verified: bool = False
    verification: str = Field("", max_length=300)
    goal: str = Field("", max_length=300)
    what_happened: list[str] = Field(default_factory=list, max_length=50)
    amount_minor: int | None = Field(None, ge=0)
    currency: str | None = Field(None, pattern=r"^[A-Z]{3}$")
    card: MaskedCard | None = None
    declines: list[Decline] = Field(default_factory=list, max_length=20)
    payment_reference: str = Field("", max_length=100)
    warnings: list[str] = Field(default_factory=list, max_length=20)
    sentiment: list[float] = Field(default_factory=list, max_length=500)
    reason: str = Field("", max_length=60)
    trigger: str = Field("", max_length=300)
    next_step: str = Field("", max_length=300)
    language: str = Field("en", max_length=10)
    transcript: list[TranscriptLine] = Field(default_factory=list, max_length=500)

    def guard(self) -> HandoffBrief:
        """Return the brief when no text in it looks like card data.

        Raises:
            UnsafeBrief: a field holds a Luhn-valid card number or a run of 12+ digits, or a
                sentiment value is outside [-1, 1]; the message names the field, never the text.
        """
        for path, text in _texts(self.model_dump(mode="python")):
            if contains_luhn_run(text) or mask_card_numbers(text) != text:
                raise UnsafeBrief(f"hand-off brief field {path} failed the card-data guard")
        if any(not -1.0 <= value <= 1.0 for value in self.sentiment):
            raise UnsafeBrief("hand-off brief sentiment values must lie in [-1, 1]")
        return self

    def to_json(self) -> str:
        """The guarded brief as compact JSON, for the hand-off stream entry.

        Raises:
            UnsafeBrief: see :meth:`guard`.
        """
        return self.guard().model_dump_json()

    @classmethod
    def from_json(cls, raw: str) -> HandoffBrief:
        """Parse and guard a brief read from the hand-off stream.

        Raises:
            UnsafeBrief: not a valid brief, or it fails :meth:`guard`. The cause is dropped since
                validation errors quote the input.
        """
        try:
            brief = cls.model_validate_json(raw)
        except ValidationError:
            raise UnsafeBrief("hand-off brief is not valid") from None
        return brief.guard()


def _texts(value: object, path: str = "brief") -> Iterator[tuple[str, str]]:
    """Every string in a dumped model, with a dotted path naming where it is."""
    if isinstance(value, str):
        yield path, value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _texts(item, f"{path}.{key}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _texts(item, f"{path}[{index}]")
