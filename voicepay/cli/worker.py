"""``voicepay worker``: run the LiveKit agent worker that answers phone calls."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer


class WorkerMode(StrEnum):
    """How the worker runs."""

    DEV = "dev"
    START = "start"


def worker(
    mode: Annotated[WorkerMode, typer.Argument(help="dev: development mode; start: production.")],
    log_level: Annotated[str, typer.Option(help="Log level.")] = "INFO",
) -> None:
    """Connect to LiveKit (LIVEKIT_URL, LIVEKIT_API_KEY, LIVEKIT_API_SECRET) and take calls.

    Calls reach the worker by explicit dispatch to the agent name (VOICEPAY_AGENT_NAME, default
    ``voicepay-inbound``), set in the SIP dispatch rule; see docs/telephony.md.
    """
    from livekit.agents.__main__ import main as livekit_main

    import agent.worker

    argv = ["start", str(Path(agent.worker.__file__)), "--log-level", log_level]
    if mode is WorkerMode.DEV:
        argv.append("--dev")
    raise typer.Exit(code=livekit_main(argv))
