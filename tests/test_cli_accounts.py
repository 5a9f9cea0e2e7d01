from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
import typer
from typer.testing import CliRunner

from voicepay.cli.accounts import accounts_app

DEMO = Path(__file__).parents[1] / "voicepay" / "fixtures" / "demo_accounts.yaml"

app = typer.Typer()
app.add_typer(accounts_app, name="accounts")
runner = CliRunner()


@pytest.fixture
def clean_redis(redis_server: str) -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(redis_server, decode_responses=True)
    client.flushdb()
    yield client
    client.flushdb()
    client.close()


@pytest.fixture
def redis_url(redis_server: str, clean_redis: redis.Redis, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("VOICEPAY_REDIS_URL", redis_server)
    return redis_server


def test_load_then_show(redis_url: str, clean_redis: redis.Redis) -> None:
    loaded = runner.invoke(app, ["accounts", "load", str(DEMO)])
    assert loaded.exit_code == 0, loaded.output
    assert "Loaded 6 accounts" in loaded.stdout

    shown = runner.invoke(app, ["accounts", "show", "40117788"])
    assert shown.exit_code == 0, shown.output
    assert "Jean-Luc Martin" in shown.stdout
    assert "€12.34" in shown.stdout
    assert "postcode" in shown.stdout
    stored = clean_redis.get("voicepay:account:40117788")
    assert isinstance(stored, str)
    digest = stored.split('"digest":"')[1][:64]
    assert digest not in shown.output and "75011" not in shown.output


def test_show_unknown_account(redis_url: str) -> None:
    result = runner.invoke(app, ["accounts", "show", "99999999"])
    assert result.exit_code == 1
    assert "No account 99999999" in result.stderr


def test_load_requires_a_redis_url(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("VOICEPAY_REDIS_URL", raising=False)
    monkeypatch.chdir(tmp_path)  # no .env file
    result = runner.invoke(app, ["accounts", "load", str(DEMO)])
    assert result.exit_code == 2
    assert "VOICEPAY_REDIS_URL" in result.stderr and "--redis-url" in result.stderr


def test_redis_url_option_wins(
    redis_server: str, clean_redis: redis.Redis, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("VOICEPAY_REDIS_URL", raising=False)
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(app, ["accounts", "load", str(DEMO), "--redis-url", redis_server])
    assert result.exit_code == 0, result.output
    assert clean_redis.exists("voicepay:account:40112233") == 1


def test_invalid_fixture_is_reported(redis_url: str, tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("accounts:\n  - number: '12'\n")
    result = runner.invoke(app, ["accounts", "load", str(bad)])
    assert result.exit_code == 1
    assert "Invalid fixture" in result.stderr and "accounts[0]" in result.stderr


def test_unreachable_redis_is_reported(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("VOICEPAY_REDIS_URL", f"unix://{tmp_path}/nothing.sock")
    result = runner.invoke(app, ["accounts", "show", "40112233"])
    assert result.exit_code == 1
    assert "Redis error" in result.stderr
