"""Load benchmark: N concurrent simulated calls against one process; the largest N under a p95.

Run from the repository root: ``.venv/bin/python bench/load/run.py`` (see bench/load/results.md).

Every call is the demo happy path in text mode (offline policy, sandbox gateway, a private
``redis-server`` on a unix socket), played by a caller who thinks ``--think`` seconds (jittered
±50 %) before each turn. Per-turn overhead is a turn's wall time minus the policy's ``_run``,
as in ``bench/turn_overhead.py``; under load it includes waiting for the event loop, which is
what a caller would hear. Without ``--calls`` the benchmark doubles N until the p95 exceeds the
target, then bisects. Memory per call comes from ``bench/_memory.py``: RSS with calls held open
mid-capture, in a fresh process.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

BENCH = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BENCH))

from _load_calls import LoadSample, run_level  # noqa: E402
from _memory import memory_per_call, rss_mb  # noqa: E402
from _report import pct  # noqa: E402
from _voicepay_turns import bench_settings  # noqa: E402
from redis.asyncio import Redis  # noqa: E402
from rich.console import Console  # noqa: E402
from rich.table import Table  # noqa: E402

from agent.call_context import CallServices  # noqa: E402
from agent.runtime import open_services  # noqa: E402
from voicepay.redis_client import redis_for  # noqa: E402


@dataclass(frozen=True)
class Level:
    """The measurements of one concurrency level."""

    calls: int
    turns: int
    p50: float
    p95: float
    p99: float
    worst: float
    paid: int
    made: int
    rss_mb: float
    seconds: float
    cpu_seconds: float

    @property
    def cpu_per_turn_ms(self) -> float:
        """This process's CPU time per caller turn (everything it did, spread over the turns)."""
        return self.cpu_seconds * 1000 / self.turns

    @property
    def utilisation(self) -> float:
        """This process's CPU time over wall time: how busy its one event loop was."""
        return self.cpu_seconds / self.seconds


class Bench:
    """Runs levels against one set of services, keeping every result."""

    def __init__(self, services: CallServices, redis: Redis, args: argparse.Namespace) -> None:
        self.services = services
        self.redis = redis
        self.args = args
        self.levels: dict[int, Level] = {}

    async def level(self, calls: int, console: Console) -> Level:
        """Measure ``calls`` concurrent callers (once per N; later asks reuse the result)."""
        if calls in self.levels:
            return self.levels[calls]
        gc.collect()
        started, cpu_started = time.perf_counter(), time.process_time()
        sample: LoadSample = await run_level(
            self.services,
            self.redis,
            calls,
            rounds=self.args.rounds,
            think_s=self.args.think,
            seed=calls,
        )
        values = sample.overhead_ms
        result = Level(
            calls=calls,
            turns=len(values),
            p50=pct(values, 50),
            p95=pct(values, 95),
            p99=pct(values, 99),
            worst=max(values),
            paid=sample.paid,
            made=sample.calls,
            rss_mb=rss_mb(),
            seconds=time.perf_counter() - started,
            cpu_seconds=time.process_time() - cpu_started,
        )
        self.levels[calls] = result
        verdict = "ok" if result.p95 < self.args.target else "over"
        console.print(
            f"N={calls:<4} turns {result.turns:<5} p50 {result.p50:6.1f}  p95 {result.p95:6.1f}  "
            f"p99 {result.p99:6.1f} ms  paid {result.paid}/{result.made}  "
            f"CPU {result.utilisation:.0%} ({result.seconds:.0f} s, load "
            f"{os.getloadavg()[0]:.1f}) {verdict}"
        )
        return result

    async def search(self, console: Console) -> int:
        """The largest N whose p95 stays under the target: double, then bisect."""
        good, bad = 0, None
        calls = self.args.start
        while bad is None and calls <= self.args.max_calls:
            if (await self.level(calls, console)).p95 < self.args.target:
                good, calls = calls, calls * 2
            else:
                bad = calls
        if bad is None:
            return good
        while bad - good > max(2, good // 10):
            middle = (good + bad) // 2
            if (await self.level(middle, console)).p95 < self.args.target:
                good = middle
            else:
                bad = middle
        return good


async def measure(args: argparse.Namespace, console: Console) -> tuple[Bench, int | None]:
    """Run the requested levels (or the search) against one process's services."""
    settings = bench_settings()
    async with redis_for(settings) as redis:
        with tempfile.TemporaryDirectory(prefix="voicepay-load-") as scratch:
            async with open_services(settings, redis, outbox_dir=Path(scratch)) as services:
                bench = Bench(services, redis, args)
                await run_level(services, redis, 2, rounds=1, think_s=0.05, seed=0)  # warm up
                if args.gc_freeze:
                    # What a worker can do after start-up: move the long-lived heap (libraries,
                    # models) out of the collector's reach, so a full collection stops costing
                    # ~200 ms in the middle of a turn.
                    gc.collect()
                    gc.freeze()
                if args.calls:
                    for calls in sorted({int(n) for n in args.calls.split(",")}):
                        await bench.level(calls, console)
                    return bench, None
                return bench, await bench.search(console)


def print_results(
    console: Console, bench: Bench, best: int | None, memory: dict[str, float]
) -> None:
    """The per-level table, the answer and the memory table."""
    target = bench.args.target
    freeze = ", gc frozen after warm-up" if bench.args.gc_freeze else ""
    title = f"per-turn overhead under load (think {bench.args.think} s per turn{freeze})"
    table = Table(title=title)
    columns = ("N calls", "turns", "p50 ms", "p95 ms", "p99 ms", "max ms", "paid", "RSS MB")
    for column in (*columns, "CPU ms/turn", "CPU busy"):
        table.add_column(column, justify="right")
    for level in sorted(bench.levels.values(), key=lambda lv: lv.calls):
        style = None if level.p95 < target else "red"
        table.add_row(
            str(level.calls),
            str(level.turns),
            f"{level.p50:.1f}",
            f"{level.p95:.1f}",
            f"{level.p99:.1f}",
            f"{level.worst:.1f}",
            f"{level.paid}/{level.made}",
            f"{level.rss_mb:.0f}",
            f"{level.cpu_per_turn_ms:.1f}",
            f"{level.utilisation:.0%}",
            style=style,
        )
    console.print(table)
    if best is not None:
        console.print(f"largest N with p95 < {target:.0f} ms: [bold]{best}[/bold]")
    if not memory:
        return
    memory_table = Table(title="memory, calls held open mid-capture (fresh process)")
    for column in ("N calls", "RSS MB", "growth MB", "MB per call"):
        memory_table.add_column(column, justify="right")
    base = memory["baseline"]
    for key in sorted((k for k in memory if k != "baseline"), key=int):
        grown = memory[key] - base
        memory_table.add_row(key, f"{memory[key]:.1f}", f"{grown:.1f}", f"{grown / int(key):.2f}")
    console.print(memory_table)


def main() -> None:
    """Parse options, run the benchmark and print its tables."""
    parser = argparse.ArgumentParser(description="VoicePay load benchmark (one process).")
    parser.add_argument("--calls", default="", help="measure these N (comma list), no search")
    parser.add_argument("--think", type=float, default=3.0, help="caller think time per turn, s")
    parser.add_argument("--rounds", type=int, default=2, help="calls each caller makes per level")
    parser.add_argument("--target", type=float, default=50.0, help="p95 target, ms")
    parser.add_argument("--start", type=int, default=10, help="search: first N")
    parser.add_argument("--max-calls", type=int, default=640, help="search: largest N tried")
    parser.add_argument("--memory", default="1,10,100", help="memory: calls held open")
    parser.add_argument("--gc-freeze", action="store_true", help="gc.freeze() after warm-up")
    args = parser.parse_args()
    console = Console()
    console.print(
        f"cores: {os.cpu_count()} (usable {len(os.sched_getaffinity(0))}); load average "
        + "{:.1f} {:.1f} {:.1f}".format(*os.getloadavg())
    )
    started = time.perf_counter()
    bench, best = asyncio.run(measure(args, console))
    counts = sorted({int(n) for n in args.memory.split(",")})
    try:
        memory = memory_per_call(counts, cwd=BENCH.parent)
    except subprocess.CalledProcessError as failed:
        console.print(f"memory measurement failed:\n{failed.stderr[-2000:]}")
        memory = {}
    print_results(console, bench, best, memory)
    console.print(
        "load average at end: {:.1f} {:.1f} {:.1f}; ".format(*os.getloadavg())
        + f"run time {time.perf_counter() - started:.0f} s"
    )


if __name__ == "__main__":
    main()
