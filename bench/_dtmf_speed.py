"""Receiver speed against SpanDSP on one core, and how long a key takes to be reported.

Both receivers get the same 16-bit PCM in the same chunks, one call per chunk, and are timed
on this thread's CPU clock (``time.thread_time``), interleaved, best of ``repeats``. numpy's
BLAS is held to one thread by the environment the main script sets before importing numpy, and
the process is pinned to one CPU.
"""

from __future__ import annotations

import time

import numpy as np
import numpy.typing as npt
from _dtmf_q24 import FS, categories, render
from _dtmf_spandsp import SpanDsp, to_pcm16

from payment_tools.dtmf import DtmfDetector
from payment_tools.dtmf.tones import dtmf_tone

CHUNKS_MS = (10_000, 1000, 20)


def _ours(pcm: npt.NDArray[np.int16], chunk: int) -> float:
    det = DtmfDetector(FS)
    start = time.thread_time()
    for i in range(0, len(pcm), chunk):
        det.process(pcm[i : i + chunk])
    det.flush()
    return time.thread_time() - start


def _spandsp(pcm: npt.NDArray[np.int16], chunk: int) -> float:
    rx = SpanDsp()
    start = time.thread_time()
    for i in range(0, len(pcm), chunk):
        rx.feed(pcm[i : i + chunk])
    elapsed = time.thread_time() - start
    rx.close()
    return elapsed


def speed_section(lines: list[str], speech: list[npt.NDArray[np.float64]], repeats: int) -> None:
    """Append the speed table: x real time of both receivers at each chunk size."""
    tones = np.concatenate([render(c, "band+mu").samples for c in categories()[:8]])
    pcm = to_pcm16(np.concatenate([*speech, tones]))
    seconds = len(pcm) / FS
    lines.append(
        f"## Speed on one core ({seconds / 60:.1f} min: speech and 8 categories of tones, "
        f"best of {repeats})\n"
    )
    lines.append("| chunk | ours x real time | SpanDSP x real time | ours / SpanDSP |")
    lines.append("|---|---|---|---|")
    for ms in CHUNKS_MS:
        chunk = FS * ms // 1000
        ours = spandsp = float("inf")
        for _ in range(repeats):
            ours = min(ours, _ours(pcm, chunk))
            spandsp = min(spandsp, _spandsp(pcm, chunk))
        lines.append(
            f"| {ms} ms | {seconds / ours:.0f} | {seconds / spandsp:.0f} | {spandsp / ours:.2f} |"
        )
    parts = (("speech only", to_pcm16(np.concatenate(speech))), ("tones only", to_pcm16(tones)))
    for label, audio in parts:
        ours = spandsp = float("inf")
        for _ in range(repeats):
            ours = min(ours, _ours(audio, FS))
            spandsp = min(spandsp, _spandsp(audio, FS))
        secs = len(audio) / FS
        lines.append(
            f"| 1000 ms, {label} ({secs / 60:.1f} min) | {secs / ours:.0f} | "
            f"{secs / spandsp:.0f} | {spandsp / ours:.2f} |"
        )
    lines.append(
        "\nOurs: numpy, float32, OpenBLAS on one thread, with the loops over windows and over each "
        "tone's samples compiled by numba (compiled before the timings: a first use compiles for "
        "a few seconds, later processes load numba's on-disk cache); default `batch_ms=200` (20 "
        "ms frames are analysed ten at a time; every 40 ms while a run is open; and as soon as a "
        "finished tone can be judged); SpanDSP: C via ctypes (float build of libspandsp2 0.0.6). "
        "Same int16 input, same chunks, one call per chunk, thread CPU time, process pinned to "
        "one CPU.\n"
    )


def latency_section(lines: list[str]) -> None:
    """Append when, fed 20 ms frames, the receiver reports a key after its tone ends."""
    lines.append("## Report latency with 20 ms frames (tone end to the frame that reports it)\n")
    lines.append("| batch_ms | tone | min ms | mean ms | max ms |")
    lines.append("|---|---|---|---|---|")
    for batch_ms in (0.0, 100.0, 200.0):
        for tone_ms in (40, 70, 100):
            n = tone_ms * FS // 1000
            delays = []
            for offset in range(0, 1600, 37):
                lead = 4000 + offset
                x = np.concatenate([np.zeros(lead), dtmf_tone("5", n, FS), np.zeros(4000)])
                pcm = to_pcm16(x)
                det = DtmfDetector(FS, batch_ms=batch_ms)
                for i in range(0, len(pcm), FS // 50):
                    if det.process(pcm[i : i + FS // 50]):
                        delays.append((i + FS // 50 - lead - n) * 1000 / FS)
                        break
            d = np.array(delays)
            lines.append(
                f"| {batch_ms:.0f} | {tone_ms} ms | {d.min():.1f} | {d.mean():.1f} | "
                f"{d.max():.1f} |"
            )
    lines.append(
        "\n`batch_ms=0` analyses every frame: its figures are the receiver's own delay (the "
        "bridging interval plus two windows). The default is 200 ms. `DtmfMaskingProcessor` "
        "also analyses every frame while its masker is muting a tone, so on live audio keys "
        "come with about the `batch_ms=0` delay.\n"
    )
