"""The payment-link webhook: only correctly signed, fresh events count, and each counts once."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import aiohttp
import pytest
from aiohttp import web
from redis.asyncio import Redis

from agent.call_store import CallStateStore
from agent.workflow import AmountKind, CallState, LinkStatus, Step
from payment_tools.gateway.checkout import sign_payload
from voicepay.accounts import AccountRepository
from voicepay.call_records import CallRecord, CallRecordStore
from voicepay.fixtures import DEMO_ACCOUNTS
from voicepay.settings import Settings
from voicepay.webhooks import WEBHOOK_PATH, WebhookReceiver, build_app

SETTINGS = Settings()
SECRET = SETTINGS.links.webhook_secret.get_secret_value()
ACCOUNT, BALANCE = "50223344", 25999


def event(kind: str = "checkout.session.completed", *, amount: int = BALANCE) -> bytes:
    session = {
        "id": "cs_test_1",
        "object": "checkout.session",
        "status": "complete" if kind.endswith("completed") else "expired",
        "payment_status": "paid" if kind.endswith("completed") else "unpaid",
        "amount_total": amount,
        "currency": "usd",
        "metadata": {"account": ACCOUNT, "call_id": "call-1"},
        "payment_intent": "pi_link_1" if kind.endswith("completed") else None,
    }
    body = {"id": "evt_1", "object": "event", "type": kind, "data": {"object": session}}
    return json.dumps(body).encode()


def signed(payload: bytes, *, secret: str = SECRET, age_s: int = 0) -> str:
    return sign_payload(payload, secret, timestamp=int(time.time()) - age_s)


@pytest.fixture
async def receiver(redis: Redis) -> WebhookReceiver:
    await AccountRepository(redis, SETTINGS.auth.pepper).load_fixture(DEMO_ACCOUNTS)
    state = CallState(call_id="call-1")
    state.start()
    state.identify(ACCOUNT, "USD")
    state.authenticated("knowledge_factor")
    state.balance_told()
    state.set_amount(BALANCE, AmountKind.FULL)
    state.link_sent("cs_test_1", state.link_key())
    await CallStateStore(redis, ttl_s=60).create(state)
    return WebhookReceiver.from_settings(redis, SETTINGS)


async def balance(redis: Redis) -> int:
    account = await AccountRepository(redis, SETTINGS.auth.pepper).get(ACCOUNT)
    assert account is not None
    return account.balance_minor


async def stored(redis: Redis) -> CallState:
    return await CallStateStore(redis, ttl_s=60).load("call-1")


async def test_a_paid_link_updates_the_call_and_the_balance_once(
    redis: Redis, receiver: WebhookReceiver
) -> None:
    payload = event()
    first = await receiver.handle(payload, signed(payload))
    again = await receiver.handle(payload, signed(payload))

    assert (first.status, first.outcome) == (200, "paid")
    assert (again.status, again.outcome) == (200, "duplicate")
    state = await stored(redis)
    assert (state.step, state.paid, state.payment_reference) == (Step.RECEIPT, True, "pi_link_1")
    assert await balance(redis) == 0


@pytest.mark.parametrize(
    ("secret", "age_s"),
    [("whsec_someone_else", 0), (SECRET, 3600)],
    ids=["wrong secret", "stale timestamp"],
)
async def test_a_wrong_or_stale_signature_is_rejected_and_changes_nothing(
    redis: Redis, receiver: WebhookReceiver, secret: str, age_s: int
) -> None:
    payload = event()
    result = await receiver.handle(payload, signed(payload, secret=secret, age_s=age_s))

    assert (result.status, result.outcome) == (400, "bad_signature")
    assert (await stored(redis)).link_status is LinkStatus.OPEN
    assert await balance(redis) == BALANCE


async def test_a_tampered_body_or_missing_header_is_rejected(
    redis: Redis, receiver: WebhookReceiver
) -> None:
    payload = event()
    header = signed(payload)
    tampered = event(amount=1)

    assert (await receiver.handle(tampered, header)).status == 400
    assert (await receiver.handle(payload, None)).status == 400
    assert await balance(redis) == BALANCE


async def test_an_expired_link_reopens_the_payment(redis: Redis, receiver: WebhookReceiver) -> None:
    payload = event("checkout.session.expired")
    first = await receiver.handle(payload, signed(payload))
    again = await receiver.handle(payload, signed(payload))

    assert (first.outcome, again.outcome) == ("expired", "duplicate")
    state = await stored(redis)
    assert (state.step, state.link_status) == (Step.CAPTURE, LinkStatus.EXPIRED)
    assert state.can_capture() and state.can_send_link()
    assert await balance(redis) == BALANCE


async def test_a_link_paid_after_the_call_ended_shows_in_its_record(
    redis: Redis, receiver: WebhookReceiver
) -> None:
    await CallStateStore(redis, ttl_s=60).update("call-1", lambda s: s.end("caller_hung_up"))
    records = CallRecordStore(redis, ttl_s=3600)
    now = datetime.now(UTC)
    await records.save(
        CallRecord(
            call_id="call-1",
            started_at=now,
            ended_at=now,
            duration_s=0,
            language="en",
            outcome="caller_hung_up",
            last_step="link_sent",
            stages=["identified", "verified", "amount_agreed"],
            contained=True,
        )
    )
    payload = event()
    await receiver.handle(payload, signed(payload))

    [record] = await records.since()
    assert record.paid and record.outcome == "paid"
    state = await stored(redis)
    assert (state.step, state.outcome) == (Step.END, "paid")
    assert await balance(redis) == 0


async def test_a_payment_for_a_forgotten_call_still_reaches_the_balance(redis: Redis) -> None:
    await AccountRepository(redis, SETTINGS.auth.pepper).load_fixture(DEMO_ACCOUNTS)
    receiver = WebhookReceiver.from_settings(redis, SETTINGS)
    payload = event()

    result = await receiver.handle(payload, signed(payload))

    assert (result.status, result.outcome) == (200, "call_gone")
    assert await balance(redis) == 0


async def test_a_signed_event_without_a_session_is_a_bad_request(
    redis: Redis, receiver: WebhookReceiver
) -> None:
    payload = json.dumps({"id": "evt_2", "type": "checkout.session.completed"}).encode()
    assert (await receiver.handle(payload, signed(payload))).status == 400
    assert await balance(redis) == BALANCE


@pytest.fixture
async def endpoint(receiver: WebhookReceiver) -> AsyncIterator[str]:
    runner = web.AppRunner(build_app(receiver))
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    yield f"http://127.0.0.1:{port}{WEBHOOK_PATH}"
    await runner.cleanup()


async def test_the_http_endpoint_answers_400_then_200(redis: Redis, endpoint: str) -> None:
    payload = event()
    async with aiohttp.ClientSession() as client:
        bad = {"Stripe-Signature": signed(payload, secret="whsec_wrong")}
        async with client.post(endpoint, data=payload, headers=bad) as response:
            assert response.status == 400
        good = {"Stripe-Signature": signed(payload)}
        async with client.post(endpoint, data=payload, headers=good) as response:
            assert response.status == 200
            assert await response.json() == {"outcome": "paid"}
    assert await balance(redis) == 0


def test_the_server_refuses_to_start_without_redis_or_with_the_dev_secret_in_prod(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from typer.testing import CliRunner

    from voicepay.cli._app import app

    runner = CliRunner()
    monkeypatch.delenv("VOICEPAY_REDIS_URL", raising=False)
    result = runner.invoke(app, ["webhooks", "serve"])
    assert result.exit_code == 2 and "VOICEPAY_REDIS_URL" in result.stderr
    monkeypatch.setenv("VOICEPAY_REDIS_URL", "redis://127.0.0.1:1/0")
    monkeypatch.setenv("VOICEPAY_ENVIRONMENT", "prod")
    monkeypatch.setenv("VOICEPAY_AUTH__PEPPER", "p" * 40)
    monkeypatch.setenv("VOICEPAY_VOICE_AUTH__KEY", base64.b64encode(b"k" * 32).decode())
    result = runner.invoke(app, ["webhooks", "serve"])
    assert result.exit_code == 2 and "VOICEPAY_LINKS__WEBHOOK_SECRET" in result.stderr
