"""Text messages to callers: Twilio's Messages API in production, an offline outbox otherwise.

The outbox writes one JSON file per message in a folder a person (or a simulated caller) can open,
so that the offline demo, the evals and the tests see exactly what a caller's phone would show.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal, Protocol

import httpx
from pydantic import BaseModel, SecretStr

SmsPurpose = Literal["one_time_code", "receipt", "payment_link"]


class SmsSettings(BaseModel):
    """Which service sends text messages (``VOICEPAY_SMS__*``)."""

    provider: Literal["auto", "outbox", "twilio"] = "auto"
    twilio_account_sid: str | None = None
    twilio_auth_token: SecretStr | None = None
    twilio_from: str | None = None
    twilio_api_base: str = "https://api.twilio.com"

    @property
    def twilio_configured(self) -> bool:
        """Whether every Twilio credential is set."""
        return bool(self.twilio_account_sid and self.twilio_auth_token and self.twilio_from)


@dataclass(frozen=True, slots=True)
class SmsMessage:
    """One text message to a caller's phone."""

    to: str
    body: str
    purpose: SmsPurpose


class SmsError(RuntimeError):
    """The message could not be handed to the SMS service."""


class SmsSender(Protocol):
    """Delivers text messages."""

    async def send(self, message: SmsMessage) -> None:
        """Deliver ``message``; raises :class:`SmsError` when it could not be handed over."""


class OutboxSmsSender:
    """Writes each message as ``sms-*.json`` in a folder.

    Args:
        directory: the outbox folder, created when needed.
    """

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    async def send(self, message: SmsMessage) -> None:
        """Write ``message`` to the outbox."""
        self.directory.mkdir(parents=True, exist_ok=True)
        sent_at = datetime.now(UTC)
        name = f"sms-{sent_at:%Y%m%dT%H%M%S%f}-{uuid.uuid4().hex[:8]}.json"
        payload = {**asdict(message), "sent_at": sent_at.isoformat()}
        (self.directory / name).write_text(json.dumps(payload, ensure_ascii=False, indent=2))

    def messages(self, to: str | None = None) -> list[dict[str, str]]:
        """Every message in the outbox, oldest first, optionally only those sent to ``to``."""
        if not self.directory.is_dir():
            return []
        found = [json.loads(p.read_text()) for p in sorted(self.directory.glob("sms-*.json"))]
        return [m for m in found if to is None or m["to"] == to]


class TwilioSmsSender:
    """Sends through Twilio's Messages API (``POST /2010-04-01/Accounts/{sid}/Messages.json``).

    Args:
        settings: Twilio credentials, sender number and API base URL.
        timeout_s: how long to wait for Twilio.
    """

    def __init__(self, settings: SmsSettings, *, timeout_s: float = 10.0) -> None:
        if not settings.twilio_configured or settings.twilio_auth_token is None:
            raise ValueError("Twilio SMS needs sms.twilio_account_sid, _auth_token and _from")
        self._sid = settings.twilio_account_sid
        self._from = settings.twilio_from
        self._client = httpx.AsyncClient(
            base_url=settings.twilio_api_base,
            auth=(str(settings.twilio_account_sid), settings.twilio_auth_token.get_secret_value()),
            timeout=timeout_s,
        )

    async def send(self, message: SmsMessage) -> None:
        """Ask Twilio to deliver ``message``."""
        try:
            response = await self._client.post(
                f"/2010-04-01/Accounts/{self._sid}/Messages.json",
                data={"To": message.to, "From": str(self._from), "Body": message.body},
            )
        except httpx.HTTPError as error:
            # The request carries the message body (a one-time code): never chain it.
            raise SmsError(f"Twilio unreachable: {type(error).__name__}") from None
        if response.status_code >= 300:
            raise SmsError(f"Twilio refused the message: HTTP {response.status_code}")

    async def aclose(self) -> None:
        """Close the HTTP client."""
        await self._client.aclose()


def make_sms_sender(settings: SmsSettings, outbox_dir: Path) -> OutboxSmsSender | TwilioSmsSender:
    """The configured sender: Twilio when chosen (or, with ``auto``, when configured)."""
    if settings.provider == "twilio" or (
        settings.provider == "auto" and settings.twilio_configured
    ):
        return TwilioSmsSender(settings)
    return OutboxSmsSender(outbox_dir)
