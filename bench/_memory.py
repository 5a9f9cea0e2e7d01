"""Memory per call: RSS with N VoicePay calls held open mid-capture, in a fresh child process.

:func:`memory_per_call` runs this file as a script (``python bench/_memory.py 1,10,50``); the child
prints one JSON line, ``{"baseline": MB, "1": MB, "10": MB, ...}``.
"""

from __future__ import annotations

import asyncio
import gc
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from _voicepay_turns import bench_settings, voicepay_call

from agent.runtime import open_services
from agent.text_call import TextCall
from evals.scenario import demo_scenarios, load_scenario
from voicepay.redis_client import redis_for

HELD_TURNS = 4  # up to the card number: each held call's capture then waits for the expiry


def rss_mb() -> float:
    """This process's resident set size."""
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


async def held_calls_rss(counts: list[int]) -> dict[str, float]:
    """RSS with calls held open mid-capture, growing to each count (ascending) in turn."""
    settings, scenario = bench_settings(), load_scenario(demo_scenarios()["happy-path"])
    result: dict[str, float] = {}
    async with redis_for(settings) as redis:
        with tempfile.TemporaryDirectory(prefix="voicepay-bench-") as scratch:
            async with open_services(settings, redis, outbox_dir=Path(scratch)) as services:
                for _ in range(3):  # warm up: imports, caches, first-call allocations
                    text_call, _ = await voicepay_call(services, redis, scenario)
                    await text_call.close()
                gc.collect()
                result["baseline"] = rss_mb()
                held: list[TextCall] = []
                for count in counts:
                    opened = await asyncio.gather(
                        *(
                            voicepay_call(services, redis, scenario, turns=HELD_TURNS)
                            for _ in range(count - len(held))
                        )
                    )
                    held += [text_call for text_call, _ in opened]
                    if not all(text_call.call.keypad.waiting_for_key for text_call in held):
                        raise RuntimeError("a held call is not waiting for card keys")
                    gc.collect()
                    result[str(count)] = rss_mb()
                await asyncio.gather(*(text_call.hang_up() for text_call in held))
    return result


def memory_per_call(counts: list[int], cwd: Path) -> dict[str, float]:
    """Run :func:`held_calls_rss` in a fresh interpreter (so this process's heap is not counted)."""
    child = subprocess.run(
        [sys.executable, __file__, ",".join(map(str, counts))],
        check=True,
        capture_output=True,
        text=True,
        cwd=cwd,
    )
    result: dict[str, float] = json.loads(child.stdout.strip().splitlines()[-1])
    return result


if __name__ == "__main__":
    print(json.dumps(asyncio.run(held_calls_rss(sorted({int(n) for n in sys.argv[1].split(",")})))))
