"""``voicepay accounts``: seed customer accounts into Redis and look one up."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Annotated, TypeVar

import typer
from pydantic import SecretStr
from redis.exceptions import RedisError
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from voicepay.accounts import Account, AccountRepository, FixtureError
from voicepay.money import Money
from voicepay.redis_client import connect
from voicepay.settings import Settings

T = TypeVar("T")

accounts_app = typer.Typer(
    name="accounts",
    help="Seed customer accounts into Redis and look them up.",
    no_args_is_help=True,
)

_out = Console(soft_wrap=True)
_err = Console(stderr=True, soft_wrap=True)


RedisUrlOption = Annotated[
    str | None,
    typer.Option(
        "--redis-url",
        help="Redis to use (default: VOICEPAY_REDIS_URL).",
        show_default=False,
    ),
]


def _redis_url(option: str | None, settings: Settings) -> str:
    url = option or settings.redis_url
    if not url:
        _err.print(
            "[red]No Redis configured.[/] Without one, a private Redis would start and vanish "
            "with this command, taking the accounts with it. Set VOICEPAY_REDIS_URL "
            "(e.g. redis://localhost:6379/0) or pass --redis-url."
        )
        raise typer.Exit(code=2)
    return url


def _run_with_repository(
    url: str, pepper: SecretStr, action: Callable[[AccountRepository], Awaitable[T]]
) -> T:
    async def run() -> T:
        client = connect(url)
        try:
            return await action(AccountRepository(client, pepper))
        finally:
            await client.aclose()

    try:
        return asyncio.run(run())
    except RedisError as exc:
        _err.print(f"[red]Redis error:[/] {escape(str(exc))}")
        raise typer.Exit(code=1) from None


def _account_table(account: Account) -> Table:
    factor = {"dob": "date of birth", "postcode": "postcode"}[account.knowledge_factor.kind]
    table = Table(title=f"Account {account.number}", show_header=False)
    table.add_column(style="bold")
    table.add_column()
    rows = [
        ("Holder", account.holder_name),
        ("Phone", account.phone),
        ("Email", account.email or "-"),
        ("Balance", Money(account.balance_minor, account.currency).format("en")),
        ("Minimum due", Money(account.minimum_due_minor, account.currency).format("en")),
        ("Due date", account.due_date.isoformat()),
        ("Language", account.language),
        ("Knowledge factor", f"{factor} (stored as a digest)"),
        ("Voiceprint", "enrolled" if account.voiceprint_ref else "none"),
    ]
    for name, value in rows:
        table.add_row(name, value)
    return table


@accounts_app.command("load")
def load(
    file: Annotated[
        Path,
        typer.Argument(help="Fixture file (.yaml, .yml or .json).", dir_okay=False),
    ],
    redis_url: RedisUrlOption = None,
) -> None:
    """Create or replace the accounts of a fixture file in Redis."""
    settings = Settings()
    url = _redis_url(redis_url, settings)
    try:
        count = _run_with_repository(
            url, settings.auth.pepper, lambda repo: repo.load_fixture(file)
        )
    except FixtureError as exc:
        _err.print(f"[red]Invalid fixture:[/] {escape(str(exc))}", highlight=False)
        raise typer.Exit(code=1) from None
    noun = "account" if count == 1 else "accounts"
    _out.print(f"[green]Loaded {count} {noun}[/] from {escape(file.name)}.")


@accounts_app.command("show")
def show(
    number: Annotated[str, typer.Argument(help="Account number.")],
    redis_url: RedisUrlOption = None,
) -> None:
    """Show an account (the knowledge factor's digest is never printed)."""
    settings = Settings()
    url = _redis_url(redis_url, settings)
    account = _run_with_repository(url, settings.auth.pepper, lambda repo: repo.get(number))
    if account is None:
        _err.print(f"[red]No account {escape(number)}.[/]", highlight=False)
        raise typer.Exit(code=1)
    _out.print(_account_table(account))
