"""Receipts: by text and/or e-mail, in the caller's language, with the masked card only."""

from __future__ import annotations

import email
from datetime import date
from email.message import EmailMessage
from email.policy import default
from pathlib import Path
from typing import Literal

import pytest
from hypothesis import given
from hypothesis import strategies as st
from redis.asyncio import Redis

from agent.human_desk import SimulatedDesk
from agent.nlu import parse_receipt_channel
from agent.runtime import open_services
from evals.leak_scan import CardSecrets, LeakScanner
from evals.scenario import KeysTurn, SayTurn, Scenario
from evals.simulated_call import CallRun, run_scenario
from payment_tools.gateway import SandboxGateway
from voicepay.accounts import AccountRepository
from voicepay.email_sender import EmailError, OutboxEmailSender, OutgoingEmail
from voicepay.fixtures import DEMO_ACCOUNTS
from voicepay.money import Money
from voicepay.receipts import (
    CHANNELS,
    Receipt,
    ReceiptChannel,
    ReceiptError,
    ReceiptSender,
    ReceiptSettings,
    choose_channels,
)
from voicepay.settings import Settings
from voicepay.sms import OutboxSmsSender, SmsError, SmsMessage

PAN, EXPIRY, CVC = "4242424242424242", "0931", "739"
CARD = [
    KeysTurn(keys=f"{PAN}#", card="number"),
    KeysTurn(keys=f"{EXPIRY}#", card="expiry"),
    KeysTurn(keys=f"{CVC}#", card="security_code"),
]


def _receipt(language: str, email_address: str | None = "a@example.com") -> Receipt:
    return Receipt(
        language=language,
        merchant="VoicePay Utilities",
        amount=Money(18450, "EUR"),
        brand="Visa",
        last4="4242",
        confirmation_code="VP-ABCD2345",
        paid_on=date(2026, 11, 27),
        phone="+33199000101",
        email=email_address,
    )


def test_the_wording_amount_and_date_follow_the_language() -> None:
    en, fr = _receipt("en"), _receipt("fr")
    assert en.sms_text() == (
        "VoicePay Utilities: payment received. Amount €184.50, card Visa ending 4242, "
        "reference VP-ABCD2345, November 27, 2026. Thank you."
    )
    assert "184,50 €" in fr.sms_text() and "le 27 novembre 2026" in fr.sms_text()
    assert fr.email_subject() == "VoicePay Utilities : reçu de votre paiement VP-ABCD2345"
    assert "Carte : Visa se terminant par 4242" in fr.email_body()
    assert "Card: Visa ending 4242" in en.email_body()


def test_a_receipt_holds_the_last_four_digits_and_nothing_more() -> None:
    with pytest.raises(ValueError, match="last four") as refused:
        Receipt(
            language="en",
            merchant="M",
            amount=Money(100, "USD"),
            brand="Visa",
            last4=PAN,
            confirmation_code="VP-X",
            paid_on=date(2026, 1, 1),
            phone="+12025550142",
        )
    assert PAN not in str(refused.value)
    with pytest.raises(ValueError, match="language"):
        _receipt("de")


@given(
    requested=st.none() | st.frozensets(st.sampled_from(CHANNELS)),
    defaults=st.frozensets(st.sampled_from(CHANNELS), min_size=1),
    has_email=st.booleans(),
)
def test_channels_are_those_asked_for_that_the_account_has_else_sms(
    requested: frozenset[ReceiptChannel] | None,
    defaults: frozenset[ReceiptChannel],
    has_email: bool,
) -> None:
    available: frozenset[ReceiptChannel] = frozenset({"sms", "email"} if has_email else {"sms"})
    chosen = choose_channels(requested, defaults, available)
    wanted = defaults if requested is None else requested
    assert chosen == (wanted & available or {"sms"})


class BrokenSms:
    async def send(self, message: SmsMessage) -> None:
        raise SmsError("Twilio refused the message: HTTP 500")


class BrokenEmail:
    async def send(self, message: OutgoingEmail) -> None:
        raise EmailError("SMTP delivery failed: SMTPDataError")


async def test_one_channel_failing_does_not_stop_the_other(tmp_path: Path) -> None:
    sender = ReceiptSender(BrokenSms(), OutboxEmailSender(tmp_path))
    assert await sender.send(_receipt("en"), frozenset({"sms", "email"})) == {"email"}
    assert len(OutboxEmailSender(tmp_path).files()) == 1
    with pytest.raises(ReceiptError, match="sms: SmsError, email: EmailError") as failed:
        await ReceiptSender(BrokenSms(), BrokenEmail()).send(
            _receipt("en"), frozenset({"sms", "email"})
        )
    assert "4242" not in str(failed.value) and "184" not in str(failed.value)


async def test_email_to_an_account_without_an_address_is_not_sent(tmp_path: Path) -> None:
    sender = ReceiptSender(OutboxSmsSender(tmp_path), OutboxEmailSender(tmp_path))
    with pytest.raises(ReceiptError):
        await sender.send(_receipt("en", email_address=None), frozenset({"email"}))
    assert OutboxSmsSender(tmp_path).messages() == [] and OutboxEmailSender(tmp_path).files() == []


async def _call(
    redis: Redis, tmp_path: Path, scenario: Scenario, settings: Settings | None = None
) -> CallRun:
    settings = settings or Settings()
    await AccountRepository(redis, settings.auth.pepper).load_fixture(DEMO_ACCOUNTS)
    async with open_services(
        settings,
        redis,
        outbox_dir=tmp_path / "outbox",
        gateway=SandboxGateway(),
        humans=SimulatedDesk(),
    ) as services:
        return await run_scenario(services, scenario, out_dir=tmp_path / "call")


def _paying(
    name: str, language: Literal["en", "fr"], opening: str, factor: str, *after: str
) -> Scenario:
    full = "I'll pay the whole balance." if language == "en" else "Je règle la totalité."
    yes = "Yes." if language == "en" else "Oui."
    return Scenario(
        name=name,
        language=language,
        caller=[
            SayTurn(say=opening),
            KeysTurn(keys=factor),
            SayTurn(say=full),
            *CARD,
            SayTurn(say=yes),
            *(SayTurn(say=text) for text in after),
        ],
    )


def _emails(outbox: Path) -> list[EmailMessage]:
    found = []
    for path in sorted(outbox.glob("email-*.eml")):
        message = email.message_from_bytes(path.read_bytes(), policy=default)
        assert isinstance(message, EmailMessage)
        found.append(message)
    return found


def _texts(outbox: Path) -> list[dict[str, str]]:
    return [m for m in OutboxSmsSender(outbox).messages() if m["purpose"] == "receipt"]


BOTH = {
    "en": (
        _paying(
            "receipt-both-en",
            "en",
            "Hi, my account number is 5 0 2 2 3 3 4 4.",
            "04071990#",
            "Both please, text and e-mail.",
        ),
        ("+12025550142", "emily.carter@example.com"),
        ("$259.99", "Visa ending 4242", "receipt for your payment"),
    ),
    "fr": (
        _paying(
            "recu-les-deux-fr",
            "fr",
            "Bonjour, mon numéro de compte est le 40 11 22 33.",
            "15031984#",
            "Les deux, s'il vous plaît.",
        ),
        ("+33199000101", "marie.dubois@example.fr"),
        ("184,50 €", "Visa se terminant par 4242", "reçu de votre paiement"),
    ),
}


@pytest.mark.parametrize("language", ["en", "fr"])
async def test_a_receipt_by_text_and_email_in_the_callers_language_holds_no_card_data(
    redis: Redis, tmp_path: Path, language: Literal["en", "fr"]
) -> None:
    scenario, (phone, address), (amount, card, subject) = BOTH[language]
    run = await _call(redis, tmp_path, scenario)
    assert run.summary["outcome"] == "paid" and run.state.receipt_delivered
    outbox = tmp_path / "outbox"
    code = run.summary["confirmation_code"]
    (text,) = _texts(outbox)
    assert text["to"] == phone
    assert amount in text["body"] and card in text["body"] and code in text["body"]
    (mail,) = _emails(outbox)
    assert mail["To"] == address and subject in mail["Subject"] and code in mail["Subject"]
    body = mail.get_content()
    assert amount in body and card in body and code in body
    scanner = LeakScanner(CardSecrets.from_scenario(scenario))
    assert scanner.scan_files(outbox) == []
    for path in outbox.iterdir():
        raw = path.read_text(encoding="utf-8")
        assert PAN not in raw and "09/31" not in raw and f" {CVC}" not in raw


async def test_asking_for_email_without_an_address_on_file_texts_it_and_says_so(
    redis: Redis, tmp_path: Path
) -> None:
    scenario = _paying(
        "recu-sans-adresse-fr",
        "fr",
        "Bonjour, mon numéro de compte est le 40 11 77 88.",
        "75011#",
        "Par e-mail, s'il vous plaît.",
    )
    run = await _call(redis, tmp_path, scenario)
    said = [str(e.data["text"]) for e in run.events if e.kind == "agent_said"]
    assert any(s.endswith("Souhaitez-vous recevoir un reçu par SMS ?") for s in said)
    assert any("pas d’adresse e-mail" in s and "par SMS" in s for s in said)
    assert len(_texts(tmp_path / "outbox")) == 1 and _emails(tmp_path / "outbox") == []


@pytest.mark.parametrize(
    ("defaults", "emails"), [(["sms"], 0), (["sms", "email"], 1)], ids=["sms", "sms+email"]
)
async def test_a_plain_yes_uses_the_configured_channels(
    redis: Redis, tmp_path: Path, defaults: list[ReceiptChannel], emails: int
) -> None:
    scenario = _paying(
        "receipt-yes-en",
        "en",
        "Hi, my account number is 5 0 2 2 3 3 4 4.",
        "04071990#",
        "Yes please.",
    )
    settings = Settings(receipts=ReceiptSettings(channels=defaults))
    run = await _call(redis, tmp_path, scenario, settings)
    said = [str(e.data["text"]) for e in run.events if e.kind == "agent_said"]
    assert any("by text message, by e-mail, or both?" in s for s in said)
    assert len(_texts(tmp_path / "outbox")) == 1
    assert len(_emails(tmp_path / "outbox")) == emails
    assert run.summary["receipt_sent"] is True


@pytest.mark.parametrize(
    ("text", "lang", "expected"),
    [
        ("Yes please, text me a receipt.", "en", "sms"),
        ("By e-mail please", "en", "email"),
        ("Not by email, by text", "en", "sms"),
        ("Both please, a text and an e-mail.", "en", "both"),
        ("No thanks, I don't need a text.", "en", None),
        ("Yes please.", "en", None),
        ("Par e-mail, s'il vous plaît.", "fr", "email"),
        ("Par SMS et par courriel", "fr", "both"),
        ("Les deux, merci.", "fr", "both"),
        ("Oui, volontiers.", "fr", None),
    ],
)
def test_the_callers_choice_of_channel_is_understood(
    text: str, lang: str, expected: str | None
) -> None:
    assert parse_receipt_channel(text, lang) == expected


@given(st.text(max_size=120), st.sampled_from(["en", "fr"]))
def test_reading_a_channel_never_fails_and_is_one_of_the_choices(text: str, lang: str) -> None:
    assert parse_receipt_channel(text, lang) in (None, "sms", "email", "both")


async def test_a_receipt_that_cannot_be_sent_is_apologised_for_and_the_call_ends(
    redis: Redis, tmp_path: Path
) -> None:
    settings = Settings()
    await AccountRepository(redis, settings.auth.pepper).load_fixture(DEMO_ACCOUNTS)
    scenario = _paying(
        "receipt-broken-en", "en", "My account number is 5 0 2 2 3 3 4 4.", "04071990#", "Yes."
    )
    async with open_services(
        settings, redis, outbox_dir=tmp_path, gateway=SandboxGateway(), humans=SimulatedDesk()
    ) as services:
        services.receipts = ReceiptSender(BrokenSms(), BrokenEmail())
        run = await run_scenario(services, scenario)
    said = [str(e.data["text"]) for e in run.events if e.kind == "agent_said"]
    assert run.summary["outcome"] == "paid" and not run.state.receipt_delivered
    assert any("couldn't send the receipt" in s for s in said)
    assert [e.data["name"] for e in run.events if e.kind == "tool_call"][-2:] == [
        "send_receipt",
        "end_call",
    ]
