"""The benchmark's printed tables: per-turn overhead and CPU, capture latency, memory, profile."""

from __future__ import annotations

import cProfile
import pstats
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from _voicepay_turns import Turn


@dataclass
class Results:
    """Everything one measuring run collected."""

    ours: list[Turn] = field(default_factory=list)
    floor: list[Turn] = field(default_factory=list)
    capture_ms: list[float] = field(default_factory=list)
    rtt_ms: list[float] = field(default_factory=list)
    profiler: cProfile.Profile | None = None


def pct(values: list[float], q: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * len(ordered)) - 1))]


def print_table(title: str, ours: list[Turn], floor: list[Turn], metric: str) -> None:
    """p50/p95 of ``metric`` for VoicePay and the floor, per turn shape and overall."""
    groups: dict[str, tuple[list[float], list[float]]] = defaultdict(lambda: ([], []))
    for mine, bare in zip(ours, floor, strict=True):
        groups[mine.shape][0].append(getattr(mine, metric))
        groups[mine.shape][1].append(getattr(bare, metric))
    rows = sorted(groups.items())
    rows.append(
        ("overall", ([getattr(t, metric) for t in ours], [getattr(t, metric) for t in floor]))
    )
    print(f"\n{title}")
    print(
        f"{'turn shape':<24}{'n':>5} {'ours p50':>9}{'p95':>7} {'floor p50':>10}{'p95':>7}", end=""
    )
    print(f" {'ratio p50':>10}{'p95':>7}")
    for shape, (mine_ms, bare_ms) in rows:
        a50, a95, b50, b95 = (pct(v, q) for v in (mine_ms, bare_ms) for q in (50, 95))
        print(
            f"{shape:<24}{len(mine_ms):>5} {a50:>9.1f}{a95:>7.1f} {b50:>10.1f}{b95:>7.1f}", end=""
        )
        print(f" {a50 / b50:>9.2f}x{a95 / b95:>6.2f}x")


def print_memory(memory: dict[str, float], counts: list[int]) -> None:
    """RSS per number of calls held open, growth per call overall and since the previous count."""
    base, previous = memory["baseline"], (0, memory["baseline"])
    print(f"\nmemory, calls held open mid-capture (fresh process, baseline {base:.0f} MB RSS)")
    for count in counts:
        rss = memory[str(count)]
        marginal = (rss - previous[1]) / (count - previous[0])
        print(f"  N={count:<3} RSS {rss:7.1f} MB  +{rss - base:6.1f} MB  ", end="")
        print(f"{(rss - base) / count:5.2f} MB/call (marginal {marginal:.2f} MB/call)")
        previous = (count, rss)


def report(results: Results, memory: dict[str, float], counts: list[int]) -> None:
    """Print every table."""
    ours, floor = results.ours, results.floor
    title = "per-turn overhead: wall ms, model time excluded (target: ours <= 1.5x floor)"
    print_table(title, ours, floor, "overhead_ms")
    title = "per-turn CPU ms of this process, model CPU excluded (Redis server not counted)"
    print_table(title, ours, floor, "cpu_ms")
    model, rtt = [t.model_s * 1000 for t in ours], results.rtt_ms
    mismatched = sum(mine.shape != bare.shape for mine, bare in zip(ours, floor, strict=True))
    print(f"excluded policy (_run) time per VoicePay turn: p50 {pct(model, 50):.2f} ms, ", end="")
    print(f"p95 {pct(model, 95):.2f} ms; floor turns whose shape differs: {mismatched}")
    print(f"Redis GET round trip (private unix socket): p50 {pct(rtt, 50):.2f} ms, ", end="")
    print(f"p95 {pct(rtt, 95):.2f} ms")
    capture = results.capture_ms
    print(f"\nlast key -> capture_result (masked card), n={len(capture)}: ", end="")
    print(f"p50 {pct(capture, 50):.2f} ms, p95 {pct(capture, 95):.2f} ms (target <= 50 ms)")
    print_memory(memory, counts)


def print_profile(profiler: cProfile.Profile, turns: int, root: Path) -> None:
    """The project's own functions by cumulative time per turn (cProfile, VoicePay turns only)."""
    rows = []
    stats = pstats.Stats(profiler).stats  # type: ignore[attr-defined]
    for (path, line, name), (_, calls, own, cum, _) in stats.items():
        if path.startswith(str(root)) and "/.venv/" not in path and "/bench/" not in path:
            rows.append((cum, own, calls, f"{Path(path).relative_to(root)}:{line} {name}"))
    print("\nproject functions, CPU ms per VoicePay turn under cProfile (async: resumed segments)")
    for cum, own, calls, where in sorted(rows, reverse=True)[:30]:
        print(
            f"  cum {cum * 1000 / turns:7.2f}  own {own * 1000 / turns:6.2f}  {calls:>6}x  {where}"
        )
