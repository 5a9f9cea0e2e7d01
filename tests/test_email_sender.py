"""E-mail: the offline .eml outbox, and SMTP with STARTTLS and login against a real server."""

from __future__ import annotations

import datetime as dt
import email
import ipaddress
import socket
import ssl
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.policy import default
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, Envelope, LoginPassword, Session
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from pydantic import SecretStr

from voicepay.email_sender import (
    EmailError,
    EmailSettings,
    OutboxEmailSender,
    OutgoingEmail,
    SmtpEmailSender,
    make_email_sender,
)
from voicepay.settings import Settings

RECEIPT = OutgoingEmail(
    to="marie.dubois@example.fr",
    subject="VoicePay Utilities : reçu de votre paiement VP-ABCD2345",
    body="Bonjour,\n\nMontant : 184,50 €\nCarte : Visa se terminant par 4242\n",
    purpose="receipt",
)
USER, PASSWORD = "voicepay", "s3cret-pass"


def _certificate(folder: Path) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1, and its key, as PEM files."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "server.pem", folder / "server.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


@dataclass
class Inbox:
    """What the SMTP server accepted: each message with whether it came over TLS, logged in."""

    received: list[tuple[Envelope, bool, bool | None]] = field(default_factory=list)

    async def handle_DATA(self, server: Any, session: Session, envelope: Envelope) -> str:
        self.received.append((envelope, session.ssl is not None, session.authenticated))
        return "250 Message accepted for delivery"


def _authenticate(
    server: Any, session: Session, envelope: Envelope, mechanism: str, auth_data: Any
) -> AuthResult:
    ok = isinstance(auth_data, LoginPassword) and (auth_data.login, auth_data.password) == (
        USER.encode(),
        PASSWORD.encode(),
    )
    return AuthResult(success=ok)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class SmtpServer:
    inbox: Inbox
    port: int
    ca_file: Path


@pytest.fixture
def smtp_server(tmp_path: Path) -> Iterator[SmtpServer]:
    """A real SMTP server on 127.0.0.1 that requires STARTTLS before login."""
    cert, key = _certificate(tmp_path)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    inbox, port = Inbox(), _free_port()
    controller = Controller(
        inbox,
        hostname="127.0.0.1",
        port=port,
        tls_context=context,
        require_starttls=True,
        authenticator=_authenticate,
        auth_require_tls=True,
    )
    controller.start()
    try:
        yield SmtpServer(inbox=inbox, port=port, ca_file=cert)
    finally:
        controller.stop()


def _settings(server: SmtpServer, **overrides: Any) -> EmailSettings:
    values: dict[str, Any] = {
        "smtp_host": "127.0.0.1",
        "smtp_port": server.port,
        "smtp_username": USER,
        "smtp_password": SecretStr(PASSWORD),
        "ca_file": str(server.ca_file),
        "sender": "VoicePay Utilities <receipts@example.com>",
        "timeout_s": 5.0,
    }
    return EmailSettings(**(values | overrides))


def _parse(raw: bytes) -> EmailMessage:
    message = email.message_from_bytes(raw, policy=default)
    assert isinstance(message, EmailMessage)
    return message


async def test_smtp_delivers_over_starttls_after_logging_in(smtp_server: SmtpServer) -> None:
    await SmtpEmailSender(_settings(smtp_server)).send(RECEIPT)
    ((envelope, over_tls, logged_in),) = smtp_server.inbox.received
    assert (over_tls, logged_in) == (True, True)
    assert envelope.mail_from == "receipts@example.com"
    assert envelope.rcpt_tos == [RECEIPT.to]
    assert isinstance(envelope.content, bytes)
    message = _parse(envelope.content)
    assert message["Subject"] == RECEIPT.subject
    assert message["X-VoicePay-Purpose"] == "receipt"
    assert message.get_content().splitlines() == RECEIPT.body.splitlines()


async def test_a_refused_login_is_an_email_error_without_the_message(
    smtp_server: SmtpServer,
) -> None:
    # smtplib tries PLAIN then LOGIN; the server answers the second slowly: a short timeout.
    wrong = _settings(smtp_server, smtp_password=SecretStr("wrong"), timeout_s=1.0)
    sender = SmtpEmailSender(wrong)
    with pytest.raises(EmailError) as refused:
        await sender.send(RECEIPT)
    assert smtp_server.inbox.received == []
    assert "4242" not in str(refused.value) and refused.value.__cause__ is None


async def test_an_untrusted_server_certificate_is_refused(smtp_server: SmtpServer) -> None:
    with pytest.raises(EmailError, match="SSL"):
        await SmtpEmailSender(_settings(smtp_server, ca_file=None)).send(RECEIPT)
    assert smtp_server.inbox.received == []


async def test_an_unreachable_server_is_an_email_error() -> None:
    settings = EmailSettings(smtp_host="127.0.0.1", smtp_port=_free_port(), timeout_s=1.0)
    with pytest.raises(EmailError):
        await SmtpEmailSender(settings).send(RECEIPT)


async def test_the_outbox_writes_an_eml_a_person_can_open_and_read(tmp_path: Path) -> None:
    outbox = OutboxEmailSender(tmp_path / "outbox", "VoicePay <r@example.com>")
    await outbox.send(RECEIPT)
    (path,) = outbox.files()
    assert path.name.startswith("email-") and path.suffix == ".eml"
    raw = path.read_bytes()
    # 8-bit UTF-8, not base64: the body reads as written in a text editor too.
    assert "Montant : 184,50 €".encode() in raw
    message = _parse(raw)
    assert (message["To"], message["Subject"]) == (RECEIPT.to, RECEIPT.subject)
    assert message.get_content() == RECEIPT.body


def test_smtp_is_used_only_when_configured_or_chosen(tmp_path: Path) -> None:
    assert isinstance(make_email_sender(EmailSettings(), tmp_path), OutboxEmailSender)
    configured = make_email_sender(EmailSettings(smtp_host="mail.example.com"), tmp_path)
    assert isinstance(configured, SmtpEmailSender)
    forced = EmailSettings(provider="outbox", smtp_host="mail.example.com")
    assert isinstance(make_email_sender(forced, tmp_path), OutboxEmailSender)
    with pytest.raises(ValueError, match="smtp_host"):
        make_email_sender(EmailSettings(provider="smtp"), tmp_path)


def test_smtp_is_configured_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VOICEPAY_EMAIL__SMTP_HOST", "smtp.example.com")
    monkeypatch.setenv("VOICEPAY_EMAIL__SMTP_PORT", "2525")
    monkeypatch.setenv("VOICEPAY_EMAIL__SMTP_PASSWORD", "secret")
    monkeypatch.setenv("VOICEPAY_EMAIL__SECURITY", "tls")
    email_settings = Settings().email
    assert email_settings.smtp_configured and email_settings.smtp_port == 2525
    assert email_settings.security == "tls"
    assert "secret" not in repr(email_settings)
