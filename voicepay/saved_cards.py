"""Cards kept on file with the caller's consent, and the processor customer of each account.

A stored card is the processor's reusable token plus what may be shown (brand and last four
digits) and the record of the consent: which call, when, in which language, for what, and the
prompt key of the exact question the caller said yes to. No card number, expiry or security code
is ever stored: the fields are validated so that digits cannot slip into the token or the last
four.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, StringConstraints
from redis.asyncio import Redis

from voicepay.accounts import AccountNumber
from voicepay.redis_client import make_key

# A processor reference such as ``pm_...`` or ``cus_...``: a card number never matches it.
_PROCESSOR_ID = re.compile(r"[A-Za-z]+_[A-Za-z0-9_-]+")
ProcessorId = Annotated[str, StringConstraints(pattern=rf"^{_PROCESSOR_ID.pattern}$")]
Brand = Annotated[str, StringConstraints(pattern=r"^[A-Za-z][A-Za-z _-]{0,31}$")]
Last4 = Annotated[str, StringConstraints(pattern=r"^[0-9]{4}$")]


class CardConsent(BaseModel):
    """The caller's yes to keeping their card on file.

    Args:
        call_id: the call on which it was given.
        at: when it was given.
        language: the language the question was asked in.
        purpose: ``plan`` (the later payments of a plan) or ``future_payments``.
        wording_key: the prompt key of the exact question the caller said yes to.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    call_id: str
    at: datetime
    language: str
    purpose: Literal["plan", "future_payments"]
    wording_key: str


class StoredCard(BaseModel):
    """A card on file for an account: a processor token and its masked face, never its digits."""

    # Rejected values stay out of error messages: card digits could be put in the wrong field.
    model_config = ConfigDict(frozen=True, extra="forbid", hide_input_in_errors=True)

    account_number: AccountNumber
    customer: ProcessorId
    token: ProcessorId
    brand: Brand
    last4: Last4
    consent: CardConsent

    @property
    def reusable(self) -> bool:
        """Whether the caller agreed to it paying later calls' payments (a plan's pays its plan)."""
        return self.consent.purpose == "future_payments"


class SavedCardStore:
    """One card on file per account, and the processor customer id of each account, in Redis.

    Args:
        redis: an asyncio Redis client with decoded replies.
    """

    def __init__(self, redis: Redis) -> None:
        self._redis = redis

    @staticmethod
    def key(account_number: str) -> str:
        """The Redis key of an account's card on file."""
        return make_key("savedcard", account_number)

    @staticmethod
    def customer_key(account_number: str) -> str:
        """The Redis key of an account's processor customer id."""
        return make_key("processor_customer", account_number)

    async def save(self, card: StoredCard) -> None:
        """Keep ``card`` on file for its account, replacing the one kept before."""
        await self._redis.set(self.key(card.account_number), card.model_dump_json())

    async def get(self, account_number: str) -> StoredCard | None:
        """The account's card on file, if any."""
        raw = await self._redis.get(self.key(account_number))
        return None if raw is None else StoredCard.model_validate_json(raw)

    async def forget(self, account_number: str) -> None:
        """Remove the account's card on file; its processor customer id is kept for reuse."""
        await self._redis.delete(self.key(account_number))

    async def customer(self, account_number: str) -> str | None:
        """The processor customer id every saved card of this account is attached to."""
        value = await self._redis.get(self.customer_key(account_number))
        return None if value is None else str(value)

    async def remember_customer(self, account_number: str, customer_id: str) -> None:
        """Record the account's processor customer id.

        Raises:
            ValueError: ``customer_id`` is not a processor reference such as ``cus_...``.
        """
        if _PROCESSOR_ID.fullmatch(customer_id) is None:
            raise ValueError("customer_id must be a processor reference such as cus_...")
        await self._redis.set(self.customer_key(account_number), customer_id)
