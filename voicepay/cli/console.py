"""``voicepay console``: serve the human agents' web console, create its users, export feedback."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Annotated, TypeVar

import typer
import uvicorn
from redis.asyncio import Redis
from redis.exceptions import RedisError
from rich.console import Console
from rich.markup import escape

from voicepay.console import ConsoleConfig, ConsoleConfigError, create_app, session_secret
from voicepay.console.claims import TransferActions
from voicepay.console.config import password_hasher
from voicepay.console.feedback import FeedbackStore, export_jsonl
from voicepay.console.users import Role, UserError, UserStore
from voicepay.logging_setup import configure_logging
from voicepay.redis_client import connect
from voicepay.settings import Settings

T = TypeVar("T")

console_app = typer.Typer(
    name="console",
    help="The human agents' web console: serve it, create its users, export hand-off feedback.",
    no_args_is_help=True,
)

_out = Console(soft_wrap=True)
_err = Console(stderr=True, soft_wrap=True)

RedisUrlOption = Annotated[
    str | None,
    typer.Option(
        "--redis-url", help="Redis to use (default: VOICEPAY_REDIS_URL).", show_default=False
    ),
]


def _redis_url(option: str | None, settings: Settings) -> str:
    url = option or settings.redis_url
    if not url:
        _err.print(
            "[red]No Redis configured.[/] The console needs the Redis the agent queues hand-offs "
            "in. Set VOICEPAY_REDIS_URL (e.g. redis://localhost:6379/0) or pass --redis-url."
        )
        raise typer.Exit(code=2)
    return url


def _run(url: str, action: Callable[[Redis], Awaitable[T]]) -> T:
    async def run() -> T:
        client = connect(url)
        try:
            return await action(client)
        finally:
            await client.aclose()

    try:
        return asyncio.run(run())
    except RedisError as exc:
        _err.print(f"[red]Redis error:[/] {escape(str(exc))}")
        raise typer.Exit(code=1) from None


@console_app.command("serve")
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8700,
    insecure_cookies: Annotated[
        bool,
        typer.Option(help="Send cookies over plain http (local testing only; refused in prod)."),
    ] = False,
    redis_url: RedisUrlOption = None,
) -> None:
    """Serve the console (put it behind HTTPS: its cookies are Secure)."""
    settings = Settings()
    url = _redis_url(redis_url, settings)
    config = ConsoleConfig()
    if insecure_cookies and settings.environment == "prod":
        _err.print("[red]--insecure-cookies is refused in the prod environment.[/]")
        raise typer.Exit(code=2)
    try:
        secret = session_secret(config, settings.environment)
    except ConsoleConfigError as exc:
        _err.print(f"[red]Cannot start:[/] {escape(str(exc))}")
        raise typer.Exit(code=2) from None
    if config.secret_key is None:
        _err.print(
            "[yellow]No VOICEPAY_CONSOLE__SECRET_KEY: using a random key, sessions end on "
            "restart (dev only).[/]"
        )
    if insecure_cookies:
        config = config.model_copy(update={"secure_cookies": False})
    configure_logging(level="INFO")
    uvicorn.run(
        create_app(config, url, secret),
        host=host,
        port=port,
        log_config=None,
        server_header=False,
        timeout_graceful_shutdown=5,
    )


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    password: str = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    return password


@console_app.command("create-user")
def create_user(
    username: Annotated[str, typer.Argument(help="Login name: one account per person.")],
    role: Annotated[Role, typer.Option(help="agent or supervisor.")] = Role.AGENT,
    queue: Annotated[
        list[str] | None,
        typer.Option(help="Queue an agent works (repeatable; default: the configured ones)."),
    ] = None,
    password_stdin: Annotated[
        bool, typer.Option(help="Read the password from the first line of standard input.")
    ] = False,
    redis_url: RedisUrlOption = None,
) -> None:
    """Create a console user; the password is prompted for (or read from stdin)."""
    settings = Settings()
    url = _redis_url(redis_url, settings)
    config = ConsoleConfig()
    queues = queue if queue else config.default_queues
    if role is Role.SUPERVISOR and not queue:
        queues = []
    password = _read_password(password_stdin)
    try:
        user = _run(
            url,
            lambda redis: UserStore(redis, password_hasher(config)).create(
                username, password, role, queues
            ),
        )
    except UserError as exc:
        _err.print(f"[red]Not created:[/] {escape(str(exc))}", highlight=False)
        raise typer.Exit(code=1) from None
    where = ", ".join(user.queues) or "all queues"
    _out.print(f"[green]Created {user.role.value} {escape(user.username)}[/] ({escape(where)}).")


@console_app.command("export-feedback")
def export_feedback(
    file: Annotated[Path, typer.Argument(help="JSON-lines file to write.", dir_okay=False)],
    redis_url: RedisUrlOption = None,
) -> None:
    """Write every hand-off rating as JSON lines, for the evaluation suite."""
    settings = Settings()
    url = _redis_url(redis_url, settings)
    feedback = _run(url, lambda redis: FeedbackStore(redis, TransferActions(redis)).all())
    count = export_jsonl(feedback, file)
    noun = "rating" if count == 1 else "ratings"
    _out.print(f"[green]Exported {count} {noun}[/] to {escape(str(file))}.")
