"""Payment receipts in the caller's language, sent by text message and/or e-mail.

A :class:`Receipt` carries the masked card only (brand and last four digits): nothing that could
rebuild a card number, expiry or security code ever reaches a receipt. :class:`ReceiptSender`
delivers it through the pluggable senders of :mod:`voicepay.sms` and :mod:`voicepay.email_sender`,
which in offline mode write to one outbox folder (``sms-*.json`` and ``email-*.eml``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Literal

from pydantic import BaseModel, Field

from agent.formatting import format_date
from voicepay.email_sender import EmailError, EmailSender, OutgoingEmail
from voicepay.money import Money
from voicepay.sms import SmsError, SmsMessage, SmsSender

ReceiptChannel = Literal["sms", "email"]
CHANNELS: tuple[ReceiptChannel, ...] = ("sms", "email")

_SMS = {
    "en": (
        "{merchant}: payment received. Amount {amount}, card {brand} ending {last4}, "
        "reference {code}, {date}. Thank you."
    ),
    "fr": (
        "{merchant} : paiement reçu. Montant {amount}, carte {brand} se terminant par {last4}, "
        "référence {code}, le {date}. Merci."
    ),
}
_SUBJECT = {
    "en": "{merchant}: receipt for your payment {code}",
    "fr": "{merchant} : reçu de votre paiement {code}",
}
_BODY = {
    "en": (
        "Hello,\n\nThank you for your payment. Here is your receipt.\n\n"
        "Merchant: {merchant}\nAmount: {amount}\nCard: {brand} ending {last4}\n"
        "Reference: {code}\nDate: {date}\n\n"
        "Keep this reference if you need to contact us about this payment.\n\n{merchant}\n"
    ),
    "fr": (
        "Bonjour,\n\nMerci pour votre paiement. Voici votre reçu.\n\n"
        "Commerçant : {merchant}\nMontant : {amount}\nCarte : {brand} se terminant par {last4}\n"
        "Référence : {code}\nDate : {date}\n\n"
        "Conservez cette référence si vous devez nous contacter au sujet de ce paiement.\n\n"
        "{merchant}\n"
    ),
}


class ReceiptSettings(BaseModel):
    """How receipts are sent (``VOICEPAY_RECEIPTS__*``)."""

    channels: list[ReceiptChannel] = Field(
        ["sms"],
        min_length=1,
        description="Channels used when the caller just says yes, or hangs up before answering.",
    )


class ReceiptError(RuntimeError):
    """No channel could deliver the receipt."""


@dataclass(frozen=True, slots=True)
class Receipt:
    """A payment receipt; carries the masked card only (brand and last four).

    Args:
        language: ``"en"`` or ``"fr"``: the words, the amount and the date follow it.
        merchant: who was paid.
        amount: what was paid.
        brand: the card brand as shown to the caller (``"Visa"``).
        last4: the card's last four digits, the only digits of it a receipt holds.
        confirmation_code: the reference the caller was given on the call.
        paid_on: the payment date.
        phone: where a text message goes.
        email: where an e-mail goes, if the account has an address.
    """

    language: str
    merchant: str
    amount: Money
    brand: str
    last4: str
    confirmation_code: str
    paid_on: date
    phone: str
    email: str | None = None

    def __post_init__(self) -> None:
        if self.language not in _SMS:
            raise ValueError(f"no receipt wording for language {self.language!r}")
        if not re.fullmatch(r"\d{4}", self.last4):
            raise ValueError("a receipt shows exactly the last four digits of the card")

    @property
    def available(self) -> frozenset[ReceiptChannel]:
        """The channels this receipt can go to (e-mail only with an address)."""
        return frozenset(("sms", "email") if self.email else ("sms",))

    def _fields(self) -> dict[str, str]:
        return {
            "merchant": self.merchant,
            "amount": self.amount.format(self.language),
            "brand": self.brand,
            "last4": self.last4,
            "code": self.confirmation_code,
            "date": format_date(self.paid_on, self.language),
        }

    def sms_text(self) -> str:
        """The text-message body."""
        return _SMS[self.language].format(**self._fields())

    def email_subject(self) -> str:
        """The e-mail subject line."""
        return _SUBJECT[self.language].format(**self._fields())

    def email_body(self) -> str:
        """The plain-text e-mail body."""
        return _BODY[self.language].format(**self._fields())


def choose_channels(
    requested: Iterable[ReceiptChannel] | None,
    defaults: Iterable[ReceiptChannel],
    available: frozenset[ReceiptChannel],
) -> frozenset[ReceiptChannel]:
    """The channels to send on: those asked for (else the defaults) that the account has.

    When none of them is available (e-mail asked, no address on file), the text message is used:
    every account has a phone number.
    """
    wanted = frozenset(requested if requested is not None else defaults)
    chosen = wanted & available
    return chosen or frozenset({"sms"})


class ReceiptSender:
    """Sends receipts by text message and e-mail through the configured senders.

    Args:
        sms: the text-message sender (Twilio or the outbox).
        email: the e-mail sender (SMTP or the outbox).
    """

    def __init__(self, sms: SmsSender, email: EmailSender) -> None:
        self._sms = sms
        self._email = email

    async def send(
        self, receipt: Receipt, channels: frozenset[ReceiptChannel]
    ) -> frozenset[ReceiptChannel]:
        """Send ``receipt`` on each of ``channels``; returns those that took it.

        Raises:
            ReceiptError: no channel took it (the error names the channels, never the content).
        """
        delivered: set[ReceiptChannel] = set()
        failed: list[str] = []
        for channel in CHANNELS:
            if channel not in channels:
                continue
            try:
                await self._send_one(receipt, channel)
            except (SmsError, EmailError) as error:
                failed.append(f"{channel}: {type(error).__name__}")
                continue
            delivered.add(channel)
        if not delivered:
            raise ReceiptError(f"receipt not delivered ({', '.join(failed) or 'no channel'})")
        return frozenset(delivered)

    async def _send_one(self, receipt: Receipt, channel: ReceiptChannel) -> None:
        if channel == "sms":
            await self._sms.send(
                SmsMessage(to=receipt.phone, body=receipt.sms_text(), purpose="receipt")
            )
        elif receipt.email is not None:
            await self._email.send(
                OutgoingEmail(
                    to=receipt.email,
                    subject=receipt.email_subject(),
                    body=receipt.email_body(),
                    purpose="receipt",
                )
            )
        else:
            raise EmailError("no e-mail address")
