"""Text messages: the offline outbox a person can open, and Twilio's API over real HTTP."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from pydantic import SecretStr

from voicepay.settings import Settings
from voicepay.sms import (
    OutboxSmsSender,
    SmsError,
    SmsMessage,
    SmsSettings,
    TwilioSmsSender,
    make_sms_sender,
)

MESSAGE = SmsMessage(
    to="+12025550142", body="VoicePay: your code is 123456.", purpose="one_time_code"
)


async def test_the_outbox_keeps_each_message_as_a_file_a_person_can_read(tmp_path: Path) -> None:
    outbox = OutboxSmsSender(tmp_path / "outbox")
    await outbox.send(MESSAGE)
    await outbox.send(SmsMessage(to="+33612345678", body="Reçu : 12,00 €", purpose="receipt"))
    files = sorted((tmp_path / "outbox").glob("sms-*.json"))
    assert len(files) == 2
    first = json.loads(files[0].read_text())
    assert first["to"] == MESSAGE.to and first["body"] == MESSAGE.body and first["sent_at"]
    assert "Reçu : 12,00 €" in files[1].read_text(encoding="utf-8")
    assert [m["purpose"] for m in outbox.messages()] == ["one_time_code", "receipt"]
    assert [m["body"] for m in outbox.messages(to="+33612345678")] == ["Reçu : 12,00 €"]


class TwilioStub:
    """Twilio's Messages endpoint on 127.0.0.1, recording each request; answers ``status``."""

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.status = 201

    async def handle(self, request: web.Request) -> web.Response:
        form = await request.post()
        self.requests.append(
            {
                "path": request.path,
                "auth": request.headers.get("Authorization", ""),
                "form": dict(form),
            }
        )
        return web.json_response({"sid": "SM123", "status": "queued"}, status=self.status)


@pytest.fixture
async def twilio() -> AsyncIterator[tuple[TwilioStub, str]]:
    stub = TwilioStub()
    app = web.Application()
    app.router.add_post("/2010-04-01/Accounts/{sid}/Messages.json", stub.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    yield stub, f"http://127.0.0.1:{port}"
    await runner.cleanup()


def _twilio_settings(base: str) -> SmsSettings:
    return SmsSettings(
        twilio_account_sid="AC123",
        twilio_auth_token=SecretStr("tok"),
        twilio_from="+15005550006",
        twilio_api_base=base,
    )


async def test_twilio_gets_the_message_as_its_api_expects(
    twilio: tuple[TwilioStub, str],
) -> None:
    stub, base = twilio
    sender = TwilioSmsSender(_twilio_settings(base))
    await sender.send(MESSAGE)
    await sender.aclose()
    (request,) = stub.requests
    assert request["path"] == "/2010-04-01/Accounts/AC123/Messages.json"
    assert request["auth"] == "Basic QUMxMjM6dG9r"  # base64("AC123:tok")
    assert request["form"] == {"To": MESSAGE.to, "From": "+15005550006", "Body": MESSAGE.body}


async def test_a_refused_or_unreachable_twilio_is_an_sms_error_without_the_body(
    twilio: tuple[TwilioStub, str],
) -> None:
    stub, base = twilio
    stub.status = 400
    sender = TwilioSmsSender(_twilio_settings(base))
    with pytest.raises(SmsError, match="HTTP 400") as refused:
        await sender.send(MESSAGE)
    await sender.aclose()
    unreachable = TwilioSmsSender(_twilio_settings("http://127.0.0.1:9"))
    with pytest.raises(SmsError) as down:
        await unreachable.send(MESSAGE)
    await unreachable.aclose()
    for error in (refused.value, down.value):
        assert "123456" not in str(error) and error.__cause__ is None


def test_twilio_is_used_only_when_configured_or_chosen(tmp_path: Path) -> None:
    assert isinstance(make_sms_sender(SmsSettings(), tmp_path), OutboxSmsSender)
    chosen = make_sms_sender(_twilio_settings("http://127.0.0.1:9"), tmp_path)
    assert isinstance(chosen, TwilioSmsSender)
    with pytest.raises(ValueError, match="twilio"):
        make_sms_sender(SmsSettings(provider="twilio"), tmp_path)


def test_twilio_is_configured_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VOICEPAY_SMS__TWILIO_ACCOUNT_SID", "AC9")
    monkeypatch.setenv("VOICEPAY_SMS__TWILIO_AUTH_TOKEN", "secret")
    monkeypatch.setenv("VOICEPAY_SMS__TWILIO_FROM", "+15005550006")
    assert Settings().sms.twilio_configured
