"""``voicepay eval``: run conversation evals offline and compare runs."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Annotated, Literal

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

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
) -> None:
    """Run every scenario K times through the real agent; exit 1 on a card-data leak."""
    from evals.report_files import write_report
    from evals.runner import RunConfig, plan, run_suites

    logging.getLogger().addHandler(logging.NullHandler())
    config = RunConfig(suites=tuple(suites), out=out, trials=trials, llm=llm, jobs=jobs, seed=seed)
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
