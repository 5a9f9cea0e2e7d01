"""Every detection and masked output of the DTMF receiver and masker, to compare two versions.

Run from the repository root after ``scripts/install-dtmf-bench.sh``, once before and once after
a change to ``payment_tools/dtmf``, then compare:

    .venv/bin/python bench/dtmf_detections.py --out /tmp/before.pkl
    .venv/bin/python bench/dtmf_detections.py --out /tmp/after.pkl
    .venv/bin/python bench/dtmf_detections.py --compare /tmp/before.pkl /tmp/after.pkl

Cases: the Q.24 vectors on every channel (keys, onsets and offsets; masked output digests),
the talk-off corpora including music, the speed benchmark's audio streamed in 10 s, 1 s and 20 ms
chunks (``batch_ms`` 0, 100 and 200 at 20 ms) with the chunk each key came out in, odd chunk
sizes with ``drain`` calls, the latency sweep, 16/24/48 kHz, and the masker on mixed audio.
"""

from __future__ import annotations

import argparse
import hashlib
import pickle
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
from _dtmf_corpus import corpus, music_available, speech_available
from _dtmf_q24 import CHANNELS, FS, categories, render
from _dtmf_spandsp import to_pcm16

from payment_tools.dtmf import DtmfDetector, DtmfHit, DtmfMasker, detect, mask_signal
from payment_tools.dtmf.tones import dtmf_tone

Found = list[tuple[Any, ...]]


def _hits(found: list[DtmfHit]) -> Found:
    return [(h.key, h.start_sample, h.end_sample) for h in found]


def _stream(pcm: npt.NDArray[np.int16], chunk: int, batch_ms: float, drain_every: int) -> Found:
    """Keys with the index of the chunk that reported them."""
    det, out = DtmfDetector(FS, batch_ms=batch_ms), []
    for n, i in enumerate(range(0, len(pcm), chunk)):
        out += [(i, *h) for h in _hits(det.process(pcm[i : i + chunk]))]
        if drain_every and n % drain_every == 0:
            out += [(i, "drain", *h) for h in _hits(det.drain())]
    return out + _hits(det.flush())


def _digest(x: npt.NDArray[np.generic]) -> str:
    return hashlib.sha1(x.tobytes()).hexdigest()


def collect() -> dict[tuple[Any, ...], Any]:
    """All cases, keyed by what they are."""
    out: dict[tuple[Any, ...], Any] = {}
    for cat in categories():
        for ch in CHANNELS:
            v = render(cat, ch)
            out["q24", cat.name, ch] = _hits(detect(v.samples, FS))
            out["mask", cat.name, ch] = _digest(mask_signal(to_pcm16(v.samples), FS))
    names = speech_available() + (["music-midi"] if music_available() else [])
    for name in names:
        items = corpus(name)
        out["talk-off", name] = [_hits(detect(x, FS)) for x in items]
        out["mask-corpus", name] = [_digest(mask_signal(to_pcm16(x), FS)) for x in items[:40]]
    speech = [x for name in ("librispeech-test-other", "fsdd-digits") for x in corpus(name)]
    tones = np.concatenate([render(c, "band+mu").samples for c in categories()[:8]])
    pcm = to_pcm16(np.concatenate([*speech, tones]))
    for ms, batch in ((10_000, 200.0), (1000, 200.0), (20, 0.0), (20, 100.0), (20, 200.0)):
        out["stream", ms, batch] = _stream(pcm, FS * ms // 1000, batch, 0)
    tail = pcm[-FS * 120 :]
    for chunk in (37, 333, 4321):
        out["odd", chunk] = _stream(tail, chunk, 200.0, 7)
    for batch_ms in (0.0, 100.0, 200.0):
        for tone_ms in (40, 70, 100):
            tone = dtmf_tone("5", tone_ms * FS // 1000, FS)
            for offset in range(0, 1600, 37):
                x = to_pcm16(np.concatenate([np.zeros(4000 + offset), tone, np.zeros(4000)]))
                out["latency", batch_ms, tone_ms, offset] = _stream(x, FS // 50, batch_ms, 0)
    every_key = render(categories()[0], "clean").samples
    for rate in (16_000, 24_000, 48_000):
        out["rate", rate] = _hits(detect(np.repeat(every_key, rate // FS), rate))
    masker, frames = DtmfMasker(FS), []
    for i in range(0, len(tail), FS // 50):
        frames.append(masker.process(tail[i : i + FS // 50]))
    out["mask-stream", FS // 50] = _digest(np.concatenate([*frames, masker.flush()]))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, help="write the cases here (pickle)")
    parser.add_argument("--compare", type=Path, nargs=2, metavar=("BEFORE", "AFTER"))
    args = parser.parse_args()
    if args.compare:
        before, after = (pickle.loads(p.read_bytes()) for p in args.compare)
        differ = [k for k in before.keys() | after.keys() if before.get(k) != after.get(k)]
        keys = sum(len(v) for k, v in after.items() if k[0] != "talk-off" and isinstance(v, list))
        keys += sum(len(f) for k, v in after.items() if k[0] == "talk-off" for f in v)
        print(f"{len(after)} cases, {keys} keys reported; {len(differ)} cases differ")
        for k in differ[:20]:
            print("differs:", k)
        raise SystemExit(1 if differ else 0)
    if not args.out:
        parser.error("give --out or --compare")
    args.out.write_bytes(pickle.dumps(collect()))


if __name__ == "__main__":
    main()
