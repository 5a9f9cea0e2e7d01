from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from pydantic import SecretStr
from typer.testing import CliRunner

from payment_tools.gateway import SandboxGateway
from payment_tools.secure_card import SecureCard
from voicepay.accounts import Account, AccountRepository, KnowledgeFactor, knowledge_digest
from voicepay.cli import scheduler as scheduler_cli
from voicepay.cli._app import app
from voicepay.plans import PlanStore, new_plan, split_instalments
from voicepay.redis_client import connect

runner = CliRunner()
PEPPER = SecretStr("test-pepper")
NUMBER = "12345678"


async def seed(url: str) -> None:
    """An account and a plan whose first instalment was paid on a call, saving a sandbox card."""
    redis = connect(url)
    try:
        await redis.flushdb()
        accounts = AccountRepository(redis, PEPPER)
        await accounts.put(
            Account(
                number=NUMBER,
                holder_name="Ada Lovelace",
                phone="+447700900001",
                balance_minor=20_000,
                currency="EUR",
                due_date=date(2026, 12, 31),
                minimum_due_minor=0,
                language="en",
                knowledge_factor=KnowledgeFactor(
                    kind="postcode", digest=knowledge_digest(PEPPER, NUMBER, "75011")
                ),
            )
        )
        on_call = SandboxGateway()
        card = SecureCard(
            number="4242424242424242",
            exp_month=11,
            exp_year=2037,
            security_code="735",
            brand="visa",
        )
        token = await on_call.tokenize(card, idempotency_key="tok")
        customer = await on_call.create_customer(account_number=NUMBER, idempotency_key="cus")
        await PlanStore(redis).create(
            new_plan(
                plan_id="plan_1",
                account_number=NUMBER,
                currency="EUR",
                customer=customer,
                token=token.token,
                brand=token.brand,
                last4=token.last4,
                call_id="call_1",
                created_at=datetime(2026, 12, 1, tzinfo=UTC),
                schedule=split_instalments(30_000, 3, date(2026, 12, 1)),
                first_reference="pi_on_call",
            )
        )
    finally:
        await redis.aclose()


async def flush(url: str) -> None:
    redis = connect(url)
    try:
        await redis.flushdb()
    finally:
        await redis.aclose()


@pytest.fixture
def env(redis_server: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Path]:
    monkeypatch.chdir(tmp_path)  # no .env file
    # The root logger's handlers would outlive the runner's captured stderr.
    monkeypatch.setattr(scheduler_cli, "configure_logging", lambda **_: None)
    monkeypatch.setenv("VOICEPAY_REDIS_URL", redis_server)
    monkeypatch.setenv("VOICEPAY_PAYMENTS__GATEWAY", "sandbox")
    asyncio.run(seed(redis_server))
    yield tmp_path / "outbox"
    asyncio.run(flush(redis_server))


def test_once_charges_the_due_instalment_and_says_so(env: Path) -> None:
    args = ["scheduler", "--once", "--today", "2027-01-01", "--outbox", str(env)]
    first = runner.invoke(app, args)
    assert first.exit_code == 0, first.output
    assert "plan plan_1 instalment 2: paid €100.00 reference pi_sandbox_" in first.stdout
    assert "2027-01-01: charged 1, declined 0, unknown 0, gave up 0" in first.stdout
    assert len(list(env.glob("sms-*.json"))) == 1  # the receipt

    again = runner.invoke(app, args)
    assert again.exit_code == 0, again.output
    assert "instalment" not in again.stdout and "charged 0" in again.stdout


def test_nothing_is_charged_before_the_due_day(env: Path) -> None:
    result = runner.invoke(app, ["scheduler", "--once", "--today", "2026-12-31", "--no-receipts"])
    assert result.exit_code == 0, result.output
    assert "charged 0" in result.stdout and "paid" not in result.stdout


def test_help_and_a_missing_redis(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    shown = runner.invoke(app, ["scheduler", "--help"])
    assert shown.exit_code == 0
    assert "--once" in shown.stdout and "--today" in shown.stdout
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("VOICEPAY_REDIS_URL", raising=False)
    missing = runner.invoke(app, ["scheduler", "--once"])
    assert missing.exit_code == 2
    assert "No Redis configured" in missing.stderr
