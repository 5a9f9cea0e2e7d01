from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
import typer
import uvicorn
from typer.testing import CliRunner

from voicepay.cli import console as console_cli
from voicepay.cli.console import console_app
from voicepay.console.claims import TransferActions
from voicepay.console.feedback import FeedbackStore, RightCall
from voicepay.console.transfers import TransferReader, handoff_stream, ref_of
from voicepay.redis_client import connect

app = typer.Typer()
app.add_typer(console_app, name="console")
runner = CliRunner()
PASSWORD = "correct horse battery"


@pytest.fixture
def db(redis_server: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[redis.Redis]:
    monkeypatch.chdir(tmp_path)  # no .env file
    monkeypatch.setenv("VOICEPAY_REDIS_URL", redis_server)
    monkeypatch.setenv("VOICEPAY_CONSOLE__PASSWORD_TIME_COST", "1")
    monkeypatch.setenv("VOICEPAY_CONSOLE__PASSWORD_MEMORY_KIB", "8192")
    client = redis.Redis.from_url(redis_server, decode_responses=True)
    client.flushdb()
    yield client
    client.flushdb()
    client.close()


def test_create_user_reads_the_password_from_stdin(db: redis.Redis) -> None:
    result = runner.invoke(
        app,
        ["console", "create-user", "sam", "--role", "supervisor", "--password-stdin"],
        input=PASSWORD + "\n",
    )
    assert result.exit_code == 0, result.output
    assert "Created supervisor sam (all queues)" in result.stdout
    stored = json.loads(db.get("voicepay:console:user:sam") or "{}")
    assert stored["role"] == "supervisor" and stored["password_hash"].startswith("$argon2id$")
    assert PASSWORD not in result.output and PASSWORD not in json.dumps(stored)


def test_create_user_prompts_twice_and_agents_get_the_default_queue(db: redis.Redis) -> None:
    result = runner.invoke(
        app, ["console", "create-user", "alice"], input=f"{PASSWORD}\n{PASSWORD}\n"
    )
    assert result.exit_code == 0, result.output
    assert "Created agent alice (payments)" in result.stdout
    queues = runner.invoke(
        app,
        [
            "console",
            "create-user",
            "bob",
            "--queue",
            "billing",
            "--queue",
            "payments",
            "--password-stdin",
        ],
        input=PASSWORD,
    )
    assert "(billing, payments)" in queues.stdout


@pytest.mark.parametrize(
    ("args", "password", "message"),
    [
        (["Bad Name"], PASSWORD, "usernames"),
        (["alice"], "short", "12 to 256"),
    ],
)
def test_create_user_refuses_bad_input(
    db: redis.Redis, args: list[str], password: str, message: str
) -> None:
    result = runner.invoke(
        app, ["console", "create-user", *args, "--password-stdin"], input=password
    )
    assert result.exit_code == 1
    assert message in result.stderr
    assert db.dbsize() == 0


def test_create_user_refuses_an_existing_name(db: redis.Redis) -> None:
    args = ["console", "create-user", "alice", "--password-stdin"]
    assert runner.invoke(app, args, input=PASSWORD).exit_code == 0
    again = runner.invoke(app, args, input="another long password")
    assert again.exit_code == 1 and "already exists" in again.stderr


def test_commands_need_a_redis(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("VOICEPAY_REDIS_URL", raising=False)
    result = runner.invoke(app, ["console", "export-feedback", str(tmp_path / "f.jsonl")])
    assert result.exit_code == 2 and "No Redis configured" in result.stderr


def test_export_feedback_writes_json_lines(
    db: redis.Redis, redis_server: str, tmp_path: Path
) -> None:
    entry_id = db.xadd(handoff_stream("payments"), {"call_id": "call_9", "reason": "other"})

    async def rate() -> None:
        client = connect(redis_server)
        try:
            actions = TransferActions(client)
            reader = TransferReader(client)
            transfer = await reader.get("payments", ref_of(str(entry_id)))
            assert transfer is not None
            await actions.accept(transfer, "alice")
            held = await reader.get("payments", transfer.ref)
            assert held is not None
            await FeedbackStore(client, actions).add(
                held, "alice", right_call=RightCall.NO, score=2, missing=["goal"], comment="why?"
            )
        finally:
            await client.aclose()

    asyncio.run(rate())
    out = tmp_path / "feedback.jsonl"
    result = runner.invoke(app, ["console", "export-feedback", str(out)])
    assert result.exit_code == 0, result.output
    assert "Exported 1 rating" in result.stdout
    (record,) = [json.loads(line) for line in out.read_text().splitlines()]
    assert (record["call_id"], record["right_call"], record["missing"]) == (
        "call_9",
        "no",
        ["goal"],
    )
    assert record["brief"] is None


def test_serve_refuses_to_start_without_a_secret_outside_dev(
    db: redis.Redis, monkeypatch: pytest.MonkeyPatch
) -> None:
    started: list[object] = []
    monkeypatch.setattr(uvicorn, "run", lambda *a, **k: started.append(a))
    monkeypatch.setenv("VOICEPAY_ENVIRONMENT", "test")
    result = runner.invoke(app, ["console", "serve"])
    assert result.exit_code == 2 and "VOICEPAY_CONSOLE__SECRET_KEY" in result.stderr
    assert started == []


def test_serve_refuses_insecure_cookies_in_prod(
    db: redis.Redis, monkeypatch: pytest.MonkeyPatch
) -> None:
    started: list[object] = []
    monkeypatch.setattr(uvicorn, "run", lambda *a, **k: started.append(a))
    monkeypatch.setattr(console_cli, "configure_logging", lambda **_: None)
    monkeypatch.setenv("VOICEPAY_ENVIRONMENT", "prod")
    monkeypatch.setenv("VOICEPAY_AUTH__PEPPER", "p" * 40)
    monkeypatch.setenv("VOICEPAY_CONSOLE__SECRET_KEY", "s" * 40)
    monkeypatch.setenv("VOICEPAY_VOICE_AUTH__KEY", base64.b64encode(b"k" * 32).decode())
    result = runner.invoke(app, ["console", "serve", "--insecure-cookies"])
    assert result.exit_code == 2 and "refused in the prod" in result.stderr
    assert started == []
    assert runner.invoke(app, ["console", "serve", "--port", "9999"]).exit_code == 0
    assert len(started) == 1
