"""Our DTMF receiver and masker against SpanDSP's ``dtmf_rx``, side by side.

Run from the repository root after ``scripts/install-dtmf-bench.sh``:
``.venv/bin/python bench/dtmf_vs_spandsp.py [--quick] [--out FILE]``. Prints a Markdown report:
Q.24 categories, talk-off on the real speech in ../shared/data (and music), speed on one core,
report latency, and masking. ``--quick`` skips the music corpus and the timings.
"""

from __future__ import annotations

import os

# One BLAS thread, set before numpy is first imported: the comparison is on one core.
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"

import argparse  # noqa: E402
import platform  # noqa: E402
from pathlib import Path  # noqa: E402

import _dtmf_masking  # noqa: E402
import numpy as np  # noqa: E402
import numpy.typing as npt  # noqa: E402
from _dtmf_corpus import corpus, music_available, speech_available  # noqa: E402
from _dtmf_q24 import CHANNELS, FS, Vector, categories, render  # noqa: E402
from _dtmf_spandsp import spandsp_detect  # noqa: E402
from _dtmf_speed import latency_section, speed_section  # noqa: E402

from payment_tools.dtmf import detect  # noqa: E402

Hits = list[tuple[str, int]]


def ours(x: npt.NDArray[np.float64]) -> Hits:
    return [(h.key, h.start_sample) for h in detect(x, FS)]


def spandsp(x: npt.NDArray[np.float64]) -> Hits:
    return [(h.key, h.start_sample) for h in spandsp_detect(x)]


def judge(v: Vector, hits: Hits) -> tuple[bool, list[float]]:
    """Pass/fail for one vector, and onset errors (ms) when the keys came out right."""
    keys = "".join(k for k, _ in hits)
    if not v.category.must_detect:
        return keys == "", []
    if keys != v.keys:
        return False, []
    return True, [(s - o) * 1000 / FS for (_, s), o in zip(hits, v.onsets, strict=True)]


def q24_section(lines: list[str]) -> None:
    chans = list(CHANNELS)
    lines.append("## Q.24 categories (16 keys x 3, pass = exact key sequence / no key at all)\n")
    head = " | ".join(f"ours {c}" for c in chans) + " | "
    head += " | ".join(f"SpanDSP {c}" for c in chans)
    lines.append(f"| category | {head} |")
    lines.append("|---|" + "---|" * (2 * len(chans)))
    errors: dict[str, list[float]] = {"ours": [], "SpanDSP": []}
    totals = {"ours": [0, 0], "SpanDSP": [0, 0]}
    for cat in categories():
        cells: dict[str, list[str]] = {"ours": [], "SpanDSP": []}
        for ch in chans:
            v = render(cat, ch)
            for name, fn in (("ours", ours), ("SpanDSP", spandsp)):
                hits = fn(v.samples)
                ok, errs = judge(v, hits)
                errors[name] += errs
                totals[name][0] += ok
                totals[name][1] += 1
                cells[name].append(("pass" if ok else "**FAIL**") + f" ({len(hits)})")
        lines.append(f"| {cat.name} | " + " | ".join(cells["ours"] + cells["SpanDSP"]) + " |")
    lines.append("\n(n) = keys reported; each vector plays 48 tones.\n")
    for name in ("ours", "SpanDSP"):
        e = np.abs(np.array(errors[name]))
        lines.append(
            f"- {name}: {totals[name][0]}/{totals[name][1]} category x channel cells pass; "
            f"onset error over {len(e)} tones: mean |err| {e.mean():.2f} ms, "
            f"p95 {np.percentile(e, 95):.2f} ms, max {e.max():.2f} ms"
        )
    lines.append(
        "- SpanDSP reports no onset; its estimate is the block end at which it reports, less two "
        "102-sample blocks.\n"
    )


def talkoff_section(lines: list[str], names: list[str]) -> None:
    lines.append("## Talk-off (speech at -20 dBm0 active level, 300-3400 Hz, mu-law)\n")
    lines.append("| corpus | hours | ours hits | SpanDSP hits | ours /h | SpanDSP /h |")
    lines.append("|---|---|---|---|---|---|")
    total = [0.0, 0.0, 0.0]
    for name in names:
        items = corpus(name)
        hours = sum(len(x) for x in items) / FS / 3600
        a = sum(len(ours(x)) for x in items)
        b = sum(len(spandsp(x)) for x in items)
        total = [total[0] + hours, total[1] + a, total[2] + b]
        lines.append(f"| {name} | {hours:.3f} | {a} | {b} | {a / hours:.1f} | {b / hours:.1f} |")
    h, ta, tb = total
    lines.append(f"| **all** | {h:.3f} | {ta:.0f} | {tb:.0f} | {ta / h:.1f} | {tb / h:.1f} |\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="skip the music corpus and timings")
    parser.add_argument("--repeats", type=int, default=7, help="timing runs (best is kept)")
    parser.add_argument("--out", type=Path, help="also write the report here")
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    speech = speech_available()
    if not speech:
        raise SystemExit("no speech in ../shared/data (set VOICEPAY_SHARED_DATA)")
    music = ["music-midi"] if music_available() and not args.quick else []
    lines = [
        "# DTMF receiver and masker vs SpanDSP dtmf_rx\n",
        f"{platform.processor() or platform.machine()}, Python {platform.python_version()}, "
        f"numpy {np.__version__}; `bench/dtmf_vs_spandsp.py"
        f"{' --quick' if args.quick else ''}`.\n",
    ]
    q24_section(lines)
    talkoff_section(lines, speech + music)
    if not args.quick:
        timed = [x for name in ("librispeech-test-other", "fsdd-digits") for x in corpus(name)]
        speed_section(lines, timed, args.repeats)
        latency_section(lines)
    _dtmf_masking.section(lines, args.quick)
    report = "\n".join(lines)
    print(report)
    if args.out:
        args.out.write_text(report + "\n")


if __name__ == "__main__":
    main()
