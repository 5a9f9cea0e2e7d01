"""Payment receipts and the senders that deliver them (an offline outbox by default)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol

from voicepay.money import Money

_TEXT = {
    "en": (
        "{merchant}: payment received. Amount {amount}, card {brand} ending {last4}, "
        "reference {code}, {date}. Thank you."
    ),
    "fr": (
        "{merchant} : paiement reçu. Montant {amount}, carte {brand} se terminant par {last4}, "
        "référence {code}, le {date}. Merci."
    ),
}


@dataclass(frozen=True, slots=True)
class Receipt:
    """A payment receipt; carries the masked card only (brand and last four)."""

    language: str
    merchant: str
    recipient: str
    amount: Money
    brand: str
    last4: str
    confirmation_code: str
    account_number: str

    def text(self, sent_at: datetime) -> str:
        """The message body in the receipt's language."""
        return _TEXT[self.language].format(
            merchant=self.merchant,
            amount=self.amount.format(self.language),
            brand=self.brand,
            last4=self.last4,
            code=self.confirmation_code,
            date=sent_at.date().isoformat(),
        )


class ReceiptSender(Protocol):
    """Delivers receipts (SMS, e-mail, or a local outbox)."""

    async def send(self, receipt: Receipt) -> None:
        """Deliver ``receipt``."""


class OutboxReceiptSender:
    """Writes each receipt as a JSON file in a folder a person can open.

    Args:
        directory: the outbox folder, created when needed.
    """

    def __init__(self, directory: Path) -> None:
        self._directory = directory

    async def send(self, receipt: Receipt) -> None:
        """Write ``receipt`` to the outbox."""
        sent_at = datetime.now(UTC)
        self._directory.mkdir(parents=True, exist_ok=True)
        body = {
            "channel": "sms",
            "to": receipt.recipient,
            "language": receipt.language,
            "sent_at": sent_at.isoformat(),
            "confirmation_code": receipt.confirmation_code,
            "text": receipt.text(sent_at),
        }
        path = self._directory / f"receipt-{receipt.confirmation_code}.json"
        path.write_text(json.dumps(body, ensure_ascii=False, indent=2), encoding="utf-8")
