"""Runs suites of scenarios, K trials each, over N worker processes, into one report.

Every trial gets a fresh Redis database on a private Redis server (one database per worker, flushed
between trials), its own artefact folder, and a seed derived from the run seed, the scenario and the
trial number. A scenario that fails to load or a trial that crashes is reported as an error; it
never stops the suite.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import random
import time
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from multiprocessing import get_context
from pathlib import Path
from typing import Any

from evals.metrics import per_scenario_pass_hat_k, summarise
from evals.scenario import ScenarioError, find_scenarios, load_scenario
from evals.simulated_call import CallMode
from evals.trial import LLMMode, TrialResult, run_trial
from voicepay.redis_client import connect
from voicepay.redis_server import LocalRedisServer

REPORT_SCHEMA = "voicepay-eval-report/1"
_MAX_JOBS = 15


@dataclass(frozen=True)
class RunConfig:
    """What to run and how."""

    suites: tuple[Path, ...]
    out: Path
    trials: int = 1
    llm: LLMMode = "offline"
    jobs: int = 1
    seed: int = 0
    mode: CallMode = "text"


@dataclass(frozen=True)
class TrialSpec:
    """One trial to run."""

    file: Path
    trial: int
    out_dir: Path
    llm: LLMMode
    seed: int
    mode: CallMode = "text"


def _trial_seed(seed: int, file: Path, trial: int) -> int:
    digest = hashlib.sha256(f"{seed}:{file.name}:{trial}".encode()).digest()
    return int.from_bytes(digest[:8], "big")


def run_spec(spec: TrialSpec, redis_url: str) -> TrialResult:
    """Run one trial in this process (used by every worker)."""
    random.seed(spec.seed)
    try:
        scenario = load_scenario(spec.file)
    except ScenarioError as error:
        return TrialResult(
            scenario=spec.file.stem,
            file=str(spec.file),
            trial=spec.trial,
            status="error",
            passed=False,
            task_success=False,
            error=str(error),
        )

    async def go() -> TrialResult:
        redis = connect(redis_url)
        try:
            return await run_trial(
                scenario,
                file=spec.file,
                trial=spec.trial,
                redis=redis,
                out_dir=spec.out_dir,
                llm_mode=spec.llm,
                seed=spec.seed,
                mode=spec.mode,
            )
        finally:
            await redis.aclose()

    return asyncio.run(go())


_WORKER_REDIS_URL = ""


def _init_worker(urls: Any) -> None:
    global _WORKER_REDIS_URL
    logging.getLogger().addHandler(logging.NullHandler())
    _WORKER_REDIS_URL = urls.get()


def _run_in_worker(spec: TrialSpec) -> TrialResult:
    return run_spec(spec, _WORKER_REDIS_URL)


def plan(config: RunConfig) -> list[TrialSpec]:
    """Every trial of every scenario in the suites, in a stable order."""
    return [
        TrialSpec(
            file=file,
            trial=trial,
            out_dir=config.out / "scenarios" / file.stem / f"trial-{trial}",
            llm=config.llm,
            seed=_trial_seed(config.seed, file, trial),
            mode=config.mode,
        )
        for file in find_scenarios(list(config.suites))
        for trial in range(1, config.trials + 1)
    ]


def run_suites(
    config: RunConfig, on_result: Callable[[TrialResult], None] | None = None
) -> dict[str, Any]:
    """Run every trial (artefacts under ``out``) and return the report."""
    specs = plan(config)
    started = time.perf_counter()
    results: list[TrialResult] = []

    def done(result: TrialResult) -> None:
        results.append(result)
        if on_result is not None:
            on_result(result)

    jobs = max(1, min(config.jobs, _MAX_JOBS, len(specs) or 1))
    with LocalRedisServer() as server:
        urls = [f"{server.url}?db={db}" for db in range(1, jobs + 1)]
        if jobs == 1:
            for spec in specs:
                done(run_spec(spec, urls[0]))
        else:
            _run_parallel(specs, urls, done)
    order = {(spec.file.stem, spec.trial): i for i, spec in enumerate(specs)}
    results.sort(key=lambda r: order.get((Path(r.file).stem, r.trial), len(order)))
    return build_report(config, results, time.perf_counter() - started)


def _run_parallel(
    specs: list[TrialSpec], urls: list[str], done: Callable[[TrialResult], None]
) -> None:
    context = get_context("spawn")
    with context.Manager() as manager:
        free_urls = manager.Queue()
        for url in urls:
            free_urls.put(url)
        with ProcessPoolExecutor(
            max_workers=len(urls),
            mp_context=context,
            initializer=_init_worker,
            initargs=(free_urls,),
        ) as pool:
            futures: dict[Future[TrialResult], TrialSpec] = {
                pool.submit(_run_in_worker, spec): spec for spec in specs
            }
            _collect(futures, done)


def _collect(
    futures: dict[Future[TrialResult], TrialSpec], done: Callable[[TrialResult], None]
) -> None:
    for future in as_completed(futures):
        spec = futures[future]
        try:
            done(future.result())
        except Exception as error:
            done(
                TrialResult(
                    scenario=spec.file.stem,
                    file=str(spec.file),
                    trial=spec.trial,
                    status="error",
                    passed=False,
                    task_success=False,
                    error=f"worker crashed: {type(error).__name__}",
                )
            )


def build_report(
    config: RunConfig, results: list[TrialResult], duration_s: float
) -> dict[str, Any]:
    """The report: configuration, summary metrics and every trial, grouped by scenario."""
    scenarios: dict[str, list[TrialResult]] = {}
    for result in results:
        scenarios.setdefault(result.scenario, []).append(result)
    return {
        "schema": REPORT_SCHEMA,
        "config": {
            "suites": [str(s) for s in config.suites],
            "trials": config.trials,
            "llm": config.llm,
            "jobs": config.jobs,
            "seed": config.seed,
            "mode": config.mode,
        },
        "summary": summarise(results, config.trials, duration_s),
        "scenarios": [
            {
                "name": name,
                "file": trials[0].file,
                "trials": len(trials),
                "passed": sum(1 for t in trials if t.passed),
                "pass_hat_k": per_scenario_pass_hat_k(trials, len(trials)),
                "results": [t.model_dump(mode="json") for t in trials],
            }
            for name, trials in scenarios.items()
        ],
    }
