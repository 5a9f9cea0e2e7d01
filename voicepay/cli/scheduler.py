"""``voicepay scheduler``: charge due plan instalments and settle promises, once or in a loop.

Any number may run at once against the same Redis: each plan is charged under a lock and with
idempotency keys, so an instalment is never charged twice (see :mod:`voicepay.scheduler`).
"""

from __future__ import annotations

import asyncio
import tempfile
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Annotated

import typer
from redis.exceptions import RedisError
from rich.console import Console
from rich.markup import escape

from voicepay.accounts import AccountRepository
from voicepay.email_sender import make_email_sender
from voicepay.logging_setup import configure_logging
from voicepay.money import Money
from voicepay.plans import InstalmentStatus, PlanStore
from voicepay.promises import PromiseStore, PromiseToPay, settle_promises
from voicepay.receipts import ReceiptSender
from voicepay.redis_client import connect
from voicepay.scheduler import InstalmentLine, PlanReceipts, SchedulerRun, charge_due_instalments
from voicepay.settings import Settings
from voicepay.sms import TwilioSmsSender, make_sms_sender

_out = Console(soft_wrap=True, highlight=False)
_err = Console(stderr=True, soft_wrap=True, highlight=False)
# The worker's outbox, so offline receipts of calls and of instalments land together.
_OUTBOX = Path(tempfile.gettempdir()) / "voicepay-outbox"
_STYLE = {
    InstalmentStatus.PAID: "green",
    InstalmentStatus.DECLINED: "yellow",
    InstalmentStatus.PENDING: "yellow",
    InstalmentStatus.FAILED: "red",
}


def scheduler(
    once: Annotated[bool, typer.Option("--once", help="Run once and exit.")] = False,
    interval: Annotated[
        float, typer.Option("--interval", min=1, help="Seconds between runs when looping.")
    ] = 300.0,
    today: Annotated[
        datetime | None,
        typer.Option(
            "--today",
            formats=["%Y-%m-%d"],
            help="Charge as of this day (YYYY-MM-DD) instead of today's UTC date.",
            show_default=False,
        ),
    ] = None,
    redis_url: Annotated[
        str | None,
        typer.Option(
            "--redis-url", help="Redis to use (default: VOICEPAY_REDIS_URL).", show_default=False
        ),
    ] = None,
    receipts: Annotated[
        bool, typer.Option(help="Send a receipt for each instalment charged.")
    ] = True,
    outbox: Annotated[
        Path, typer.Option(help="Outbox folder of the offline text-message and e-mail senders.")
    ] = _OUTBOX,
) -> None:
    """Charge due plan instalments and settle promises whose date passed; print what was done.

    Loop (the default) so that a charge with an unknown outcome is asked again within minutes.
    """
    settings = Settings()
    url = redis_url or settings.redis_url
    if not url:
        _err.print("[red]No Redis configured.[/] Set VOICEPAY_REDIS_URL or pass --redis-url.")
        raise typer.Exit(code=2)
    # Warnings only: each instalment already gets its printed line. Installs the PII filter.
    configure_logging(level="WARNING")
    day = today.date() if today is not None else None
    try:
        asyncio.run(
            _serve(
                settings,
                url,
                day,
                once=once,
                interval_s=interval,
                outbox=outbox,
                receipts=receipts,
            )
        )
    except KeyboardInterrupt:
        raise typer.Exit(code=0) from None
    except RedisError as exc:
        _err.print(f"[red]Redis error:[/] {escape(str(exc))}")
        raise typer.Exit(code=1) from None


async def _serve(
    settings: Settings,
    url: str,
    today: date | None,
    *,
    once: bool,
    interval_s: float,
    outbox: Path,
    receipts: bool,
) -> None:
    # Imported here: the call runtime is heavy, and only this command needs it.
    from agent.runtime import make_gateway

    redis = connect(url)
    gateway = make_gateway(settings)
    sms = make_sms_sender(settings.sms, outbox)
    plan_receipts = PlanReceipts(
        sender=ReceiptSender(sms, make_email_sender(settings.email, outbox)),
        merchant=settings.payments.merchant_name,
        channels=settings.receipts.channels,
    )
    plans, promises = PlanStore(redis), PromiseStore(redis)
    accounts = AccountRepository(redis, settings.auth.pepper)
    try:
        while True:
            day = today or datetime.now(UTC).date()
            try:
                run = await charge_due_instalments(
                    today=day,
                    plans=plans,
                    gateway=gateway,
                    accounts=accounts,
                    settings=settings.plans,
                    receipts=plan_receipts if receipts else None,
                )
                settled = await settle_promises(today=day, promises=promises, accounts=accounts)
            except RedisError as exc:
                if once:
                    raise
                _err.print(f"[red]Redis error, retrying next run:[/] {escape(str(exc))}")
            else:
                _report(day, run, settled)
            if once:
                return
            await asyncio.sleep(interval_s)
    finally:
        await gateway.aclose()
        if isinstance(sms, TwilioSmsSender):
            await sms.aclose()
        await redis.aclose()


def _line(line: InstalmentLine) -> str:
    amount = Money(line.amount_minor, line.currency).format("en")
    text = f"plan {line.plan_id} instalment {line.number}: {line.status.value} {amount}"
    if line.reference:
        text += f" reference {line.reference}"
    if line.error:
        text += f" ({line.error})"
    return text


def _promise_line(promise: PromiseToPay) -> str:
    amount = Money(promise.amount_minor, promise.currency).format("en")
    return f"promise {promise.promise_id} of {amount} due {promise.due}: {promise.status.value}"


def _report(day: date, run: SchedulerRun, settled: list[PromiseToPay]) -> None:
    for line in run.lines:
        _out.print(f"[{_STYLE.get(line.status, 'default')}]{escape(_line(line))}[/]")
    for promise in settled:
        _out.print(escape(_promise_line(promise)))
    _out.print(
        f"{day}: charged {run.charged}, declined {run.declined}, unknown {run.unknown}, "
        f"gave up {run.gave_up}, busy {run.busy}; promises settled {len(settled)}"
    )
