"""``voicepay webhooks serve``: the endpoint Stripe posts payment-link (Checkout) events to.

Its own small process rather than a route of the console: the console is for staff behind a login,
while this endpoint must be reachable by Stripe and authenticates each request by its signature.
"""

from __future__ import annotations

import asyncio
from typing import Annotated

import typer
from aiohttp import web
from rich.console import Console

from agent.runtime import make_gateway
from payment_tools.gateway import StripeGateway
from voicepay.logging_setup import configure_logging
from voicepay.redis_client import connect
from voicepay.settings import Settings
from voicepay.webhooks import WEBHOOK_PATH, WebhookReceiver, build_app

webhooks_app = typer.Typer(
    name="webhooks",
    help="Receive Stripe's payment-link events (signature verified).",
    no_args_is_help=True,
)
_err = Console(stderr=True, soft_wrap=True)


@webhooks_app.command("serve")
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8710,
) -> None:
    """Serve ``POST /webhooks/stripe`` until interrupted."""
    settings = Settings()
    if not settings.redis_url:
        _err.print("[red]No Redis configured.[/] Set VOICEPAY_REDIS_URL to the agent's Redis.")
        raise typer.Exit(code=2)
    if settings.environment == "prod" and settings.webhook_secret_is_placeholder:
        _err.print("[red]VOICEPAY_LINKS__WEBHOOK_SECRET must be set in prod.[/]")
        raise typer.Exit(code=2)
    configure_logging(level="INFO")
    asyncio.run(_serve(settings, settings.redis_url, host, port))


async def _serve(settings: Settings, redis_url: str, host: str, port: int) -> None:
    redis = connect(redis_url)
    # With Stripe, the processor is asked which card paid (brand and last four, for receipts).
    gateway = make_gateway(settings) if settings.gateway == "stripe" else None
    cards = gateway if isinstance(gateway, StripeGateway) else None
    receiver = WebhookReceiver.from_settings(redis, settings, cards=cards)
    runner = web.AppRunner(build_app(receiver))
    await runner.setup()
    await web.TCPSite(runner, host, port).start()
    _err.print(f"Listening on http://{host}:{port}{WEBHOOK_PATH}")
    try:
        await asyncio.Event().wait()
    finally:
        await runner.cleanup()
        if cards is not None:
            await cards.aclose()
        await redis.aclose()
