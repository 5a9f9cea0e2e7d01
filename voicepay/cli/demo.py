"""``voicepay demo``: a complete simulated payment call, offline, printed as it happens.

``--voice`` plays the same call as audio through the full pipeline (see ``docs/voice-mode.md``) and
writes it as a stereo WAV with its manifest next to the other artefacts.
"""

from __future__ import annotations

import asyncio
import tempfile
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.panel import Panel

from agent.artefacts import LOGS_FILE
from agent.human_desk import SimulatedDesk
from agent.recorder import MANIFEST_FILE, RECORDING_FILE
from agent.runtime import open_services
from evals.scenario import demo_scenarios, load_scenario
from evals.simulated_call import run_scenario
from voicepay.accounts import AccountRepository
from voicepay.cli.console_view import ConsoleView
from voicepay.fixtures import DEMO_ACCOUNTS
from voicepay.logging_setup import configure_logging
from voicepay.redis_client import redis_for
from voicepay.settings import Settings

console = Console(highlight=False)
VOICE_OUT = Path("out") / "demo-voice"
"""Where ``--voice`` writes the call when ``--out`` is not given."""


def demo(
    scenario: Annotated[str, typer.Option(help="Scenario name (see --list).")] = "happy-path",
    lang: Annotated[str | None, typer.Option(help="Run the scenario's en or fr variant.")] = None,
    out: Annotated[Path | None, typer.Option(help="Write the call's artefacts here.")] = None,
    list_: Annotated[bool, typer.Option("--list", help="List the scenarios and exit.")] = False,
    voice: Annotated[
        bool,
        typer.Option(
            "--voice",
            help="Play the call as audio: espeak-ng caller, keys as in-band DTMF tones, Silero "
            f"VAD, offline Whisper, espeak-ng agent; writes {RECORDING_FILE} (default --out: "
            f"{VOICE_OUT}).",
        ),
    ] = False,
) -> None:
    """Run a simulated caller through the real agent, offline unless keys are configured."""
    scenarios = demo_scenarios()
    if list_:
        for name, path in scenarios.items():
            console.print(f"[bold]{name}[/]  {load_scenario(path).description}")
        return
    name = _variant(scenario, lang, scenarios)
    settings = Settings()
    if voice:
        # The scripted caller has no line for the voice ID offer (text mode never makes it).
        no_offer = settings.voice_auth.model_copy(update={"offer_enrolment": False})
        settings = settings.model_copy(update={"voice_auth": no_offer})
        out = out or VOICE_OUT
    with tempfile.TemporaryDirectory(prefix="voicepay-demo-") as scratch:
        out_dir = out or Path(scratch) / "call"
        out_dir.mkdir(parents=True, exist_ok=True)
        configure_logging(level="INFO", json_path=out_dir / LOGS_FILE, console=False)
        summary = asyncio.run(_run(settings, scenarios[name], out_dir, voice))
    _print_outcome(summary, out)
    if summary["outcome"] not in ("paid", "transferred"):
        raise typer.Exit(code=1)


def _variant(scenario: str, lang: str | None, scenarios: dict[str, Path]) -> str:
    name = scenario
    if lang == "fr" and not scenario.endswith("-fr"):
        name = f"{scenario}-fr"
    elif lang == "en":
        name = scenario.removesuffix("-fr")
    if name not in scenarios:
        known = ", ".join(scenarios)
        raise typer.BadParameter(f"no scenario {name!r}; known: {known}")
    return name


async def _run(
    settings: Settings, scenario_path: Path, out_dir: Path, voice: bool
) -> dict[str, Any]:
    scenario = load_scenario(scenario_path)
    console.print(
        Panel.fit(
            f"[bold]{scenario.name}[/] ({scenario.language})\n{scenario.description}\n"
            f"LLM: {settings.llm_provider} · payments: {settings.gateway}"
            + (" · voice: full audio pipeline" if voice else ""),
            title="VoicePay demo call",
        )
    )
    async with redis_for(settings) as redis:
        await AccountRepository(redis, settings.auth.pepper).load_fixture(DEMO_ACCOUNTS)
        humans = SimulatedDesk(accepts=True, after_s=1.0)
        async with open_services(
            settings, redis, outbox_dir=out_dir / "outbox", humans=humans
        ) as services:
            run = await run_scenario(
                services,
                scenario,
                out_dir=out_dir,
                listeners=[ConsoleView(console)],
                mode="voice" if voice else "text",
            )
    return run.summary


def _print_outcome(summary: dict[str, Any], out: Path | None) -> None:
    lines = [f"outcome: [bold]{summary['outcome']}[/]", f"final state: {summary['final_state']}"]
    if summary.get("payment_reference"):
        lines.append(f"paid: {summary['amount']} {summary['currency']}")
        lines.append(f"confirmation: [bold]{summary['confirmation_code']}[/]")
        lines.append(f"processor reference: {summary['payment_reference']}")
    if summary.get("transfer_reason"):
        lines.append(f"transferred: {summary['transfer_reason']}")
    if out is not None:
        lines.append(f"artefacts: {out}")
        if (out / RECORDING_FILE).is_file():
            lines.append(f"recording: {out / RECORDING_FILE} (+ {MANIFEST_FILE})")
    console.print(Panel.fit("\n".join(lines), title="call result"))
