"""E-mails to callers: SMTP in production, an offline outbox of ``.eml`` files otherwise.

The outbox writes each message as a standard ``.eml`` file (UTF-8, 8-bit body, readable as text and
openable in any mail client) in the same folder as the text-message outbox, so the offline demo, the
evals and the tests see exactly what a caller's inbox would show. The SMTP sender uses the standard
library in a worker thread, with STARTTLS (or implicit TLS) and login from ``VOICEPAY_EMAIL__*``.
"""

from __future__ import annotations

import asyncio
import base64
import os
import smtplib
import ssl
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage
from email.policy import default
from email.utils import format_datetime
from pathlib import Path
from typing import Literal, Protocol

from pydantic import BaseModel, Field, SecretStr

EmailPurpose = Literal["receipt", "payment_link"]
DEFAULT_SENDER = "VoicePay <receipts@voicepay.invalid>"


class EmailSettings(BaseModel):
    """Which service sends e-mail (``VOICEPAY_EMAIL__*``)."""

    provider: Literal["auto", "outbox", "smtp"] = "auto"
    sender: str = DEFAULT_SENDER
    smtp_host: str | None = None
    smtp_port: int = Field(587, ge=1, le=65535)
    security: Literal["starttls", "tls", "none"] = Field(
        "starttls", description="STARTTLS on a plain port, implicit TLS (465), or none (tests)."
    )
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    ca_file: str | None = Field(None, description="Extra CA bundle for the SMTP server's cert.")
    timeout_s: float = Field(10.0, gt=0)

    @property
    def smtp_configured(self) -> bool:
        """Whether an SMTP server is set."""
        return bool(self.smtp_host)


@dataclass(frozen=True, slots=True)
class OutgoingEmail:
    """One plain-text e-mail to a caller."""

    to: str
    subject: str
    body: str
    purpose: EmailPurpose


class EmailError(RuntimeError):
    """The e-mail could not be handed to the mail server."""


class EmailSender(Protocol):
    """Delivers e-mails."""

    async def send(self, email: OutgoingEmail) -> None:
        """Deliver ``email``; raises :class:`EmailError` when it could not be handed over."""


def build_message(email: OutgoingEmail, sender: str, *, cte: str) -> EmailMessage:
    """The MIME message for ``email`` with the body in ``cte`` transfer encoding."""
    message = EmailMessage(policy=default)
    message["From"] = sender
    message["To"] = email.to
    message["Subject"] = email.subject
    message["Date"] = format_datetime(datetime.now(UTC))
    # Base32, not make_msgid()'s long digit runs, which a card-data scan would rightly flag.
    message["Message-ID"] = (
        f"<{base64.b32encode(os.urandom(15)).decode().lower()}@voicepay.invalid>"
    )
    message["X-VoicePay-Purpose"] = email.purpose
    message.set_content(email.body, charset="utf-8", cte=cte)
    return message


class OutboxEmailSender:
    """Writes each e-mail as ``email-*.eml`` in a folder.

    Args:
        directory: the outbox folder, created when needed.
        sender: the ``From`` address written in each message.
    """

    def __init__(self, directory: Path, sender: str = DEFAULT_SENDER) -> None:
        self.directory = directory
        self._sender = sender

    async def send(self, email: OutgoingEmail) -> None:
        """Write ``email`` to the outbox."""
        self.directory.mkdir(parents=True, exist_ok=True)
        name = f"email-{datetime.now(UTC):%Y%m%dT%H%M%S%f}-{uuid.uuid4().hex[:8]}.eml"
        # 8-bit so that a person (and the leak scan) reads the body as written.
        message = build_message(email, self._sender, cte="8bit")
        (self.directory / name).write_bytes(message.as_bytes())

    def files(self) -> list[Path]:
        """Every e-mail in the outbox, oldest first."""
        return sorted(self.directory.glob("email-*.eml")) if self.directory.is_dir() else []


class SmtpEmailSender:
    """Sends through an SMTP server with the standard library, in a worker thread.

    Args:
        settings: server, port, TLS mode, login and sender address.
    """

    def __init__(self, settings: EmailSettings) -> None:
        if not settings.smtp_host:
            raise ValueError("SMTP e-mail needs email.smtp_host")
        self._settings = settings
        self._host = settings.smtp_host

    async def send(self, email: OutgoingEmail) -> None:
        """Hand ``email`` to the SMTP server."""
        message = build_message(email, self._settings.sender, cte="quoted-printable")
        try:
            await asyncio.to_thread(self._deliver, message)
        except (smtplib.SMTPException, OSError) as error:
            # The SMTP conversation may quote the message back: never chain it.
            raise EmailError(f"SMTP delivery failed: {type(error).__name__}") from None

    def _deliver(self, message: EmailMessage) -> None:
        settings = self._settings
        context = ssl.create_default_context(cafile=settings.ca_file)
        client: smtplib.SMTP
        if settings.security == "tls":
            client = smtplib.SMTP_SSL(
                self._host, settings.smtp_port, timeout=settings.timeout_s, context=context
            )
        else:
            client = smtplib.SMTP(self._host, settings.smtp_port, timeout=settings.timeout_s)
        with client:
            if settings.security == "starttls":
                client.starttls(context=context)
            if settings.smtp_username and settings.smtp_password is not None:
                client.login(settings.smtp_username, settings.smtp_password.get_secret_value())
            client.send_message(message)


def make_email_sender(
    settings: EmailSettings, outbox_dir: Path
) -> OutboxEmailSender | SmtpEmailSender:
    """The configured sender: SMTP when chosen (or, with ``auto``, when a host is set)."""
    if settings.provider == "smtp" or (settings.provider == "auto" and settings.smtp_configured):
        return SmtpEmailSender(settings)
    return OutboxEmailSender(outbox_dir, settings.sender)
