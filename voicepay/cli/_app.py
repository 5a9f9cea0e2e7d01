"""Root typer application; each command group lives in its own module."""

from __future__ import annotations

import typer

from voicepay.cli.accounts import accounts_app
from voicepay.cli.chat import chat
from voicepay.cli.console import console_app
from voicepay.cli.demo import demo
from voicepay.cli.dtmf import dtmf_app
from voicepay.cli.evals import eval_app
from voicepay.cli.kpis import kpis
from voicepay.cli.scheduler import scheduler
from voicepay.cli.transcribe import transcribe
from voicepay.cli.voice_auth import voice_auth_app, voiceprint_app
from voicepay.cli.webhooks import webhooks_app
from voicepay.cli.worker import worker

app = typer.Typer(
    name="voicepay",
    help="VoicePay: a voice agent that takes card payments without exposing a digit.",
    no_args_is_help=True,
    add_completion=False,
)
app.command()(demo)
app.command()(chat)
app.command()(worker)
app.command()(transcribe)
app.command()(kpis)
app.command()(scheduler)
app.add_typer(accounts_app, name="accounts")
app.add_typer(eval_app, name="eval")
app.add_typer(console_app, name="console")
app.add_typer(dtmf_app, name="dtmf")
app.add_typer(voice_auth_app, name="voice-auth")
app.add_typer(voiceprint_app, name="voiceprint")
app.add_typer(webhooks_app, name="webhooks")


def main() -> None:
    """Console-script entry point."""
    app()
