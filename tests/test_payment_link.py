"""Secure payment links offline: the local payment page, the agent's tool and its dialog."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp
import pytest
import stripe
from hypothesis import given
from hypothesis import strategies as st
from livekit.agents import llm
from redis.asyncio import Redis

from agent.call_store import CallStateStore
from agent.directed_dialog import decide
from agent.human_desk import SimulatedDesk
from agent.nlu import Intent, detect_intents
from agent.runtime import open_services
from agent.workflow import AmountKind, CallState, LinkStatus, Step
from evals.scenario import HangUpTurn, KeysTurn, SayTurn, Scenario, SilenceTurn
from evals.simulated_call import run_scenario
from payment_tools.gateway import CheckoutRequest, GatewayError, SandboxCheckout, SandboxGateway
from prompts import PromptBook
from voicepay.accounts import AccountRepository
from voicepay.call_records import CallRecordStore
from voicepay.fixtures import DEMO_ACCOUNTS
from voicepay.settings import LinkSettings, Settings
from voicepay.sms import OutboxSmsSender

PAN, EXPIRY, CVC = "4242424242424242", "0931", "739"
SECRET = "whsec_test"
EXPIRES = datetime.now(UTC).replace(microsecond=0) + timedelta(minutes=30)


def checkout_request(amount: int = 5000, key: str = "call-1:link:0:5000:EUR") -> CheckoutRequest:
    return CheckoutRequest(
        amount_minor=amount,
        currency="EUR",
        idempotency_key=key,
        description="Bill",
        expires_at=EXPIRES,
        success_url="https://example.com/paid",
        metadata={"account": "60331122", "call_id": "call-1"},
    )


class Inbox:
    """The webhook endpoint as the sandbox page sees it: keeps what it receives."""

    def __init__(self) -> None:
        self.events: list[tuple[bytes, str]] = []

    async def __call__(self, payload: bytes, signature: str) -> int:
        self.events.append((payload, signature))
        return 200


async def pay(url: str, number: str = PAN) -> str:
    async with (
        aiohttp.ClientSession() as client,
        client.post(url, data={"number": number, "expiry": EXPIRY, "cvc": CVC}) as response,
    ):
        assert response.status == 200
        return await response.text()


async def test_a_person_pays_the_local_page_and_a_signed_event_is_sent(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    inbox = Inbox()
    checkout = SandboxCheckout(SandboxGateway(), webhook_secret=SECRET, sink=inbox)
    try:
        link = await checkout.create_checkout(checkout_request())
        async with aiohttp.ClientSession() as client, client.get(link.url) as page:
            assert "€50.00" in await page.text()
        text = await pay(link.url)
    finally:
        await checkout.aclose()

    assert "paid" in text and PAN not in text
    [(payload, signature)] = inbox.events
    event = stripe.Webhook.construct_event(payload, signature, SECRET)
    assert event.type == "checkout.session.completed"
    session = json.loads(payload)["data"]["object"]
    assert session["amount_total"] == 5000 and session["payment_status"] == "paid"
    assert session["metadata"] == {"account": "60331122", "call_id": "call-1"}
    assert session["payment_intent"].startswith("pi_sandbox_")
    for secret in (PAN, CVC, EXPIRY):
        assert secret not in payload.decode()
    assert PAN not in caplog.text and "0931" not in caplog.text


async def test_a_declined_card_leaves_the_link_open_and_sends_nothing() -> None:
    inbox = Inbox()
    checkout = SandboxCheckout(SandboxGateway(), webhook_secret=SECRET, sink=inbox)
    try:
        link = await checkout.create_checkout(checkout_request())
        text = await pay(link.url, "4000000000000002")
        status = checkout.status(link.session_id)
    finally:
        await checkout.aclose()

    assert "declined" in text
    assert status == "open" and inbox.events == []


async def test_the_same_key_gives_the_same_link_and_other_terms_are_refused() -> None:
    checkout = SandboxCheckout(SandboxGateway(), webhook_secret=SECRET)
    try:
        first = await checkout.create_checkout(checkout_request())
        again = await checkout.create_checkout(checkout_request())
        with pytest.raises(GatewayError, match="idempotency_error"):
            await checkout.create_checkout(checkout_request(amount=4000))
    finally:
        await checkout.aclose()
    assert first.session_id == again.session_id


async def test_an_expired_link_cannot_be_paid() -> None:
    inbox = Inbox()
    checkout = SandboxCheckout(SandboxGateway(), webhook_secret=SECRET, sink=inbox)
    try:
        link = await checkout.create_checkout(checkout_request())
        assert await checkout.expire(link.session_id) == 200
        text = await pay(link.url)
    finally:
        await checkout.aclose()

    assert "expired" in text
    assert [json.loads(p)["type"] for p, _ in inbox.events] == ["checkout.session.expired"]


async def test_a_caller_who_hangs_up_and_pays_later_is_recorded_as_paid(
    redis: Redis, tmp_path: Path
) -> None:
    settings = Settings(links=LinkSettings(wait_s=0))
    await AccountRepository(redis, settings.auth.pepper).load_fixture(DEMO_ACCOUNTS)
    scenario = Scenario(
        name="link-later",
        caller=[
            SayTurn(say="My account number is 6 0 3 3 1 1 2 2."),
            KeysTurn(keys="30111978#"),
            SayTurn(say="The minimum, and text me a payment link please."),
            HangUpTurn(hangup=True),
        ],
    )
    async with open_services(
        settings,
        redis,
        outbox_dir=tmp_path,
        gateway=SandboxGateway(),
        humans=SimulatedDesk(),
    ) as services:
        run = await run_scenario(services, scenario, call_id="call-later")
        assert run.state.link_status is LinkStatus.OPEN and not run.state.paid
        assert isinstance(services.sms, OutboxSmsSender)
        [text] = [m for m in services.sms.messages() if m["purpose"] == "payment_link"]
        assert text["to"] == "+447700900123" and "€20.00" in text["body"]
        await pay(text["body"].split()[text["body"].split().index("link:") + 1])

    state = await CallStateStore(redis, ttl_s=60).load("call-later")
    assert (state.step, state.outcome, state.paid) == (Step.END, "paid", True)
    assert state.card is not None and (state.card.brand, state.card.last4) == ("visa", "4242")
    [record] = await CallRecordStore(redis, ttl_s=3600).since()
    assert record.paid and record.outcome == "paid"
    account = await AccountRepository(redis, settings.auth.pepper).get("60331122")
    assert account is not None and account.balance_minor == 7650 - 2000


def mails(folder: Path) -> list[str]:
    return [path.read_text() for path in folder.glob("email-*.eml")]


async def test_a_link_asked_for_by_email_is_mailed_to_the_account_address(
    redis: Redis, tmp_path: Path
) -> None:
    settings = Settings(links=LinkSettings(wait_s=0))
    await AccountRepository(redis, settings.auth.pepper).load_fixture(DEMO_ACCOUNTS)
    scenario = Scenario(
        name="link-by-email",
        caller=[
            SayTurn(say="My account number is 6 0 3 3 1 1 2 2."),
            KeysTurn(keys="30111978#"),
            SayTurn(say="The full balance. Please e-mail me a payment link."),
        ],
    )
    async with open_services(
        settings, redis, outbox_dir=tmp_path, gateway=SandboxGateway(), humans=SimulatedDesk()
    ) as services:
        run = await run_scenario(services, scenario, call_id="call-email")

    [mail] = mails(tmp_path)
    assert "priya.patel@example.org" in mail and "/pay/cs_sandbox_" in mail
    assert run.state.link_status is LinkStatus.OPEN
    assert not [m for m in OutboxSmsSender(tmp_path).messages() if m["purpose"] == "payment_link"]


async def test_a_holding_agent_gives_hold_messages_then_lets_the_caller_go(
    redis: Redis, tmp_path: Path
) -> None:
    links = LinkSettings(wait_s=0.5, poll_s=0.05, hold_message_every_s=0.2)
    settings = Settings(links=links)
    await AccountRepository(redis, settings.auth.pepper).load_fixture(DEMO_ACCOUNTS)
    scenario = Scenario(
        name="link-unpaid",
        caller=[
            SayTurn(say="My account number is 6 0 3 3 1 1 2 2."),
            KeysTurn(keys="30111978#"),
            SayTurn(say="The full balance, by payment link please."),
            SilenceTurn(silence=0.8),
            SayTurn(say="OK, goodbye."),
        ],
    )
    async with open_services(
        settings, redis, outbox_dir=tmp_path, gateway=SandboxGateway(), humans=SimulatedDesk()
    ) as services:
        run = await run_scenario(services, scenario, call_id="call-unpaid")

    prompts = PromptBook.load("en")
    lines = [str(e.data["text"]) for e in run.events if e.kind == "agent_said"]
    assert lines.count(prompts.text("link.hold")) >= 1
    assert any(line.startswith("I haven't received the payment yet") for line in lines)
    assert run.state.link_status is LinkStatus.OPEN and run.state.outcome == "not_paid"


@pytest.mark.parametrize(
    ("text", "lang"),
    [
        ("Can you send me a link instead?", "en"),
        ("I'd rather pay by link", "en"),
        ("I prefer a payment link", "en"),
        ("je préfère un lien", "fr"),
        ("Envoyez-moi un lien de paiement", "fr"),
        ("par lien, s'il vous plaît", "fr"),
    ],
)
def test_asking_for_a_link_is_understood(text: str, lang: str) -> None:
    assert Intent.PAYMENT_LINK in detect_intents(text, lang)


@given(st.sampled_from(["I don't want a link", "no link please", "yes", "the full balance"]))
def test_refusing_or_not_mentioning_a_link_is_not_a_request(text: str) -> None:
    assert Intent.PAYMENT_LINK not in detect_intents(text, "en")


def verified() -> CallState:
    state = CallState(call_id="c", currency="USD")
    state.start()
    state.identify("50223344", "USD")
    state.authenticated("knowledge_factor")
    state.balance_told()
    return state


def amount_agreed() -> CallState:
    state = verified()
    state.set_amount(5000, AmountKind.FULL)
    return state


def test_the_dialog_sends_a_link_when_asked_and_never_without_an_amount() -> None:
    prompts = PromptBook.load("en")
    ctx = llm.ChatContext.empty()
    ctx.add_message(role="user", content="send me a link please")
    assert decide(ctx, amount_agreed(), prompts).tool == "send_payment_link"
    assert decide(ctx, verified(), prompts).tool != "send_payment_link"


def test_an_open_link_is_waited_for_rather_than_charged() -> None:
    state = amount_agreed()
    state.link_sent("cs_1", state.link_key())
    ctx = llm.ChatContext.empty()
    ctx.add_message(role="user", content="yes")
    decision = decide(ctx, state, PromptBook.load("en"))
    assert decision.tool is None
    assert decision.say == PromptBook.load("en").text("link.still_open")
