"""Per-turn overhead of VoicePay against a bare LiveKit floor, card-capture latency and memory.

Run from the repository root: ``.venv/bin/python bench/turn_overhead.py`` (see bench/README.md).

* VoicePay (``_voicepay_turns``): happy-path calls in text mode (private Redis, sandbox gateway,
  offline policy), each caller turn timed minus the policy's ``LLMStream._run``.
* Floor (``_floor``): a bare ``AgentSession`` replaying each recorded turn's shape, timed the same
  way. Floor and VoicePay calls alternate so machine noise hits both.
* Last key to masked result: the caller's final key of the card capture to ``capture_result``.
* Memory (``_memory``): RSS growth with N calls held open mid-capture, in a fresh child process.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import importlib.metadata
import os
import platform
import tempfile
import time
import uuid
from pathlib import Path

from _floor import floor_call
from _memory import memory_per_call
from _report import Results, print_profile, report
from _voicepay_turns import bench_settings, voicepay_call
from redis.asyncio import Redis

from agent.runtime import open_services
from evals.scenario import demo_scenarios, load_scenario
from voicepay.redis_client import redis_for

ROOT = Path(__file__).resolve().parent.parent


async def redis_rtt_ms(redis: Redis, rounds: int = 500) -> list[float]:
    """Round trips of a call-state-sized GET, for context: each turn makes several."""
    key = f"voicepay:bench:{uuid.uuid4().hex}"
    await redis.set(key, "x" * 800)
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        await redis.get(key)
        times.append((time.perf_counter() - start) * 1000)
    await redis.delete(key)
    return times


async def measure(calls: int, warmup: int, profile: bool) -> Results:
    """Alternate VoicePay calls and their floor replays; collect the measured ones."""
    settings, scenario = bench_settings(), load_scenario(demo_scenarios()["happy-path"])
    # CPU time, not wall: on a busy machine wall time lands on whichever syscall got preempted.
    results = Results(profiler=cProfile.Profile(time.process_time) if profile else None)
    async with redis_for(settings) as redis:
        results.rtt_ms = await redis_rtt_ms(redis)
        with tempfile.TemporaryDirectory(prefix="voicepay-bench-") as scratch:
            async with open_services(settings, redis, outbox_dir=Path(scratch)) as services:
                for index in range(warmup + calls):
                    measured = index >= warmup
                    text_call, sample = await voicepay_call(
                        services, redis, scenario, profiler=results.profiler if measured else None
                    )
                    state = await text_call.close(outcome="caller_hung_up")
                    if state.outcome != "paid":
                        raise RuntimeError(f"happy path ended {state.outcome!r}, not paid")
                    replay = await floor_call(sample.turns)
                    if measured:
                        results.ours += sample.turns
                        results.floor += replay
                        results.capture_ms += sample.capture_ms
    return results


def main() -> None:
    """Run the benchmark and print the tables."""
    parser = argparse.ArgumentParser(description="VoicePay per-turn overhead benchmark.")
    parser.add_argument("--calls", type=int, default=100, help="measured happy-path calls")
    parser.add_argument("--warmup", type=int, default=5, help="unmeasured calls first")
    parser.add_argument("--concurrent", default="1,10,50", help="memory: calls held open")
    parser.add_argument("--profile", action="store_true", help="cProfile the VoicePay turns")
    args = parser.parse_args()
    counts = sorted({int(n) for n in args.concurrent.split(",")})
    agents, rtc = (importlib.metadata.version(name) for name in ("livekit-agents", "livekit"))
    print(f"cores: {os.cpu_count()} (usable {len(os.sched_getaffinity(0))}); ", end="")
    print(f"Python {platform.python_version()}; livekit-agents {agents}; livekit {rtc}")
    print(f"{args.calls} happy-path calls + {args.warmup} warm-up; ", end="")
    print("load average at start: {:.1f} {:.1f} {:.1f}".format(*os.getloadavg()))
    started = time.perf_counter()
    results = asyncio.run(measure(args.calls, args.warmup, args.profile))
    report(results, memory_per_call(counts, cwd=ROOT), counts)
    if results.profiler is not None:
        print("(--profile: VoicePay turns ran under cProfile; the ratios above are inflated)")
        print_profile(results.profiler, len(results.ours), ROOT)
    print("\nload average at end: {:.1f} {:.1f} {:.1f}; ".format(*os.getloadavg()), end="")
    print(f"run time {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
