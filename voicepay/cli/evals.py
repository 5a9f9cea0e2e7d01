"""``voicepay eval``: run conversation evals offline and compare runs."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Literal

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

if TYPE_CHECKING:
    from evals.diff import DiffResult, ScenarioDiff

eval_app = typer.Typer(help="Run conversation evals and compare runs.", no_args_is_help=True)
console = Console(highlight=False)


@eval_app.command("run")
def run(
    suites: Annotated[list[Path], typer.Argument(help="Scenario files or folders.", exists=True)],
    out: Annotated[Path, typer.Option(help="Where to write report.json, report.html, artefacts.")],
    trials: Annotated[int, typer.Option(min=1, max=50, help="Trials per scenario (pass^k).")] = 1,
    llm: Annotated[Literal["offline", "openai"], typer.Option(help="The model under test.")] = (
        "offline"
    ),
    jobs: Annotated[int, typer.Option(min=1, max=15, help="Worker processes.")] = 1,
    seed: Annotated[int, typer.Option(help="Run seed; trials derive theirs from it.")] = 0,
    mode: Annotated[
        Literal["text", "voice"],
        typer.Option(
            help="text: typed speech and SIP keys (fast). voice: the full audio pipeline offline "
            "(espeak-ng caller, in-band DTMF keys, Silero VAD, Whisper STT), each call recorded "
            "and the recording scanned for card data."
        ),
    ] = "text",
) -> None:
    """Run every scenario K times through the real agent; exit 1 on a card-data leak."""
    from evals.report_files import write_report
    from evals.runner import RunConfig, plan, run_suites

    logging.getLogger().addHandler(logging.NullHandler())
    config = RunConfig(
        suites=tuple(suites), out=out, trials=trials, llm=llm, jobs=jobs, seed=seed, mode=mode
    )
    total = len(plan(config))
    with Progress(
        TextColumn("[bold]evals[/]"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[failed]} failed"),
        TimeElapsedColumn(),
        console=console,
    ) as progress:
        task = progress.add_task("evals", total=total, failed=0)
        failed = 0

        def on_result(result: object) -> None:
            nonlocal failed
            failed += 0 if getattr(result, "passed", False) else 1
            progress.update(task, advance=1, failed=failed)

        report = run_suites(config, on_result)
    write_report(report, out)
    _print_summary(report["summary"], out)
    if report["summary"]["leaks"]:
        console.print("[red bold]card data leaked: the run fails[/]")
        raise typer.Exit(code=1)


def _print_summary(summary: dict[str, object], out: Path) -> None:
    table = Table(title="eval summary", show_header=False)
    for key in (
        "scenarios",
        "trials",
        "passed",
        "pass_rate",
        "pass_hat_k",
        "leaks",
        "errors",
        "containment_rate",
        "policy_violations",
        "duration_s",
    ):
        table.add_row(key, json.dumps(summary[key]))
    console.print(table)
    console.print(f"report: {out / 'report.json'}  ·  {out / 'report.html'}")


@eval_app.command("diff")
def diff(
    base: Annotated[
        Path, typer.Argument(metavar="BASE", help="Run folder or report.json.", exists=True)
    ],
    new: Annotated[
        Path, typer.Argument(metavar="NEW", help="Run folder or report.json.", exists=True)
    ],
    fail_on: Annotated[
        list[str] | None,
        typer.Option(
            "--fail-on",
            help="Gate limit NAME=VALUE or NAME=VALUE% (repeatable), e.g. pass_rate=0.02, "
            "latency_p95_ms=25%, leaks=0, scenario_regressions=0, policy_violations=0.",
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the diff as JSON.")] = False,
) -> None:
    """Compare two runs per scenario and metric; exit 1 when the gate fails."""
    from evals.diff import Threshold, diff_reports
    from evals.report_files import read_report

    try:
        thresholds = [Threshold.parse(text) for text in fail_on or []]
    except ValueError as error:
        raise typer.BadParameter(str(error), param_hint="--fail-on") from None
    try:
        result = diff_reports(read_report(base), read_report(new), thresholds)
    except (OSError, ValueError) as error:
        console.print(f"[red]cannot compare: {error}[/]")
        raise typer.Exit(code=2) from None
    if as_json:
        typer.echo(result.model_dump_json(indent=2))
    else:
        _print_diff(result)
    if result.failed:
        raise typer.Exit(code=1)


_COLOUR = {"regression": "red", "improvement": "green", "added": "cyan", "removed": "yellow"}


def _print_diff(result: DiffResult) -> None:
    scenarios = [
        s for s in result.scenarios if s.verdict != "unchanged" or s.base_outcomes != s.new_outcomes
    ]
    _print_table(
        f"scenarios: {len(scenarios)} of {len(result.scenarios)} changed",
        ("scenario", "verdict", "passed", "what changed"),
        [
            (
                s.name,
                _verdict(s.verdict),
                f"{_ratio(s.base_passed, s.base_trials)} -> {_ratio(s.new_passed, s.new_trials)}",
                "\n".join(_scenario_details(s)),
            )
            for s in scenarios
        ],
    )
    metrics = [m for m in result.metrics if m.verdict in ("regression", "improvement")]
    _print_table(
        f"metrics: {len(metrics)} of {len(result.metrics)} changed",
        ("metric", "base", "new", "verdict"),
        [(m.name, _number(m.base), _number(m.new), _verdict(m.verdict)) for m in metrics],
    )
    for note in result.notes:
        console.print(f"[yellow]note:[/] {note}")
    console.print(f"gate: {', '.join(result.thresholds)}")
    for reason in result.reasons:
        console.print(f"[red]x[/] {reason}")
    console.print("[red bold]gate failed[/]" if result.failed else "[green]gate passed[/]")


def _print_table(title: str, columns: tuple[str, ...], rows: list[tuple[str, ...]]) -> None:
    if not rows:
        console.print(title)
        return
    table = Table(*columns, title=title)
    for row in rows:
        table.add_row(*row)
    console.print(table)


def _verdict(verdict: str) -> str:
    colour = _COLOUR.get(verdict)
    return f"[{colour}]{verdict}[/]" if colour else verdict


def _ratio(passed: int | None, trials: int | None) -> str:
    return "-" if passed is None or trials is None else f"{passed}/{trials}"


def _scenario_details(scenario: ScenarioDiff) -> list[str]:
    lines = [f"now failing: {name}" for name in scenario.newly_failing]
    lines += [f"now passing: {name}" for name in scenario.newly_passing]
    lines += [f"new leak: {leak}" for leak in scenario.new_leaks]
    if scenario.base_outcomes != scenario.new_outcomes:
        before, after = _counts(scenario.base_outcomes), _counts(scenario.new_outcomes)
        lines.append(f"outcomes: {before} -> {after}")
    lines += [
        f"pass^{k}: {_number(before_k)} -> {_number(after_k)}"
        for k, (before_k, after_k) in scenario.pass_hat_k.items()
        if before_k != after_k and k != "1"
    ]
    return lines


def _counts(counts: dict[str, int]) -> str:
    return ", ".join(f"{name} x{count}" for name, count in sorted(counts.items())) or "-"


def _number(value: float | None) -> str:
    return "-" if value is None else f"{value:g}"
