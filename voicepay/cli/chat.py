"""``voicepay chat``: be the caller yourself, typing speech and keypad keys in the terminal."""

from __future__ import annotations

import asyncio
import getpass
import tempfile
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from voicepay.cli.console_view import ConsoleView

console = Console(highlight=False)

HELP = (
    "Type what the caller says. When the agent waits for the keypad, type the keys (hidden, "
    "e.g. 4242424242424242#). Commands: /keys KEYS, /hangup, /quit."
)


def chat(
    lang: Annotated[str, typer.Option(help="Call language: en or fr.")] = "en",
    out: Annotated[Path | None, typer.Option(help="Write the call's artefacts here.")] = None,
) -> None:
    """Talk to the real agent as a caller, in text mode, offline unless keys are configured."""
    asyncio.run(_chat(lang, out))


async def _chat(lang: str, out: Path | None) -> None:
    from agent.artefacts import ArtefactWriter
    from agent.human_desk import SimulatedDesk
    from agent.runtime import open_call, open_services
    from agent.text_call import TextCall
    from voicepay.accounts import AccountRepository
    from voicepay.fixtures import DEMO_ACCOUNTS
    from voicepay.redis_client import redis_for
    from voicepay.settings import Settings

    settings = Settings()
    console.print(f"[dim]{HELP}[/]")
    with tempfile.TemporaryDirectory(prefix="voicepay-chat-") as scratch:
        out_dir = out or Path(scratch)
        async with redis_for(settings) as redis:
            await AccountRepository(redis, settings.auth.pepper).load_fixture(DEMO_ACCOUNTS)
            humans = SimulatedDesk(accepts=True, after_s=2.0)
            async with open_services(
                settings, redis, outbox_dir=out_dir / "outbox", humans=humans
            ) as services:
                call = await open_call(services, language=lang)
                writer = ArtefactWriter(out_dir)
                call.events.subscribe(writer)
                call.events.subscribe(ConsoleView(console))
                text_call = TextCall(call)
                await text_call.start()
                await _converse(text_call)
                writer.finish(await text_call.close(outcome="caller_hung_up"))


async def _converse(text_call: object) -> None:
    from agent.text_call import TextCall

    assert isinstance(text_call, TextCall)
    while not text_call.over:
        try:
            if text_call.call.keypad.waiting_for_key:
                keys = await asyncio.to_thread(getpass.getpass, "keypad (hidden)> ")
                await text_call.press(keys.strip())
                continue
            line = (await asyncio.to_thread(input, "you> ")).strip()
        except EOFError:
            line = "/hangup"
        if line in ("/quit", "/hangup"):
            await text_call.hang_up()
            return
        if line.startswith("/keys"):
            await text_call.press(line.removeprefix("/keys").strip())
        elif line:
            await text_call.say(line)
