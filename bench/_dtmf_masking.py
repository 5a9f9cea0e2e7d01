"""Masking measurements: does any tone survive, and does the speech around them pass unchanged?"""

from __future__ import annotations

import time

import numpy as np
import numpy.typing as npt
from _dtmf_corpus import corpus, music_available, speech_available
from _dtmf_q24 import CHANNELS, FS, categories, render
from _dtmf_spandsp import spandsp_keys
from livekit import rtc

from payment_tools.dtmf import DtmfMasker, DtmfMaskingProcessor, mask_signal
from payment_tools.dtmf.channel import telephone_bandpass
from payment_tools.dtmf.tones import KEYS, dtmf_tone

LOOKAHEAD_MS = 20.0


def _db(num: float, den: float) -> float:
    return float("inf") if den <= 0 else 10 * np.log10(num / den)


def _tones_section(lines: list[str]) -> None:
    lines.append(
        "| category | channel | SpanDSP keys before | after | tones fully muted "
        "| most energy left in a tone's first ms |"
    )
    lines.append("|---|---|---|---|---|---|")
    survivors, digit_tones, digit_muted, worst_first = 0, 0, 0, 0.0
    for cat in categories():
        for ch in CHANNELS:
            v = render(cat, ch)
            y = mask_signal(v.samples, FS, LOOKAHEAD_MS)
            assert len(y) == len(v.samples)
            before, after = len(spandsp_keys(v.samples)), len(spandsp_keys(y))
            survivors += after
            muted, first = 0, 0.0
            for tone, onset in zip(cat.tones, v.onsets, strict=True):
                n, ms1 = round(tone.ms * FS / 1000), FS // 1000
                e0 = float(np.sum(v.samples[onset : onset + ms1] ** 2))
                first = max(first, float(np.sum(y[onset : onset + ms1] ** 2)) / max(e0, 1e-30))
                muted += int(not np.any(y[onset : onset + n]))
            if cat.must_detect:
                digit_tones += len(cat.tones)
                digit_muted += muted
                worst_first = max(worst_first, first)
            if ch == "band+mu" or after:
                lines.append(
                    f"| {cat.name} | {ch} | {before} | {after} | {muted}/{len(cat.tones)} "
                    f"| {first:.2g} |"
                )
    lines.append(
        f"\nAll {len(categories()) * len(CHANNELS)} category x channel vectors: SpanDSP keys left "
        f"after masking: {survivors}. Must-detect categories: {digit_muted}/{digit_tones} tones "
        f"muted from their first sample to their last; most energy left in a first ms: "
        f"{worst_first:.2g} of the original. Rows shown: band+mu, and any vector where a key "
        "survived. Must-reject tones (too short, too far off, too weak) need not be muted.\n"
    )
    _extent(lines)


def _extent(lines: list[str]) -> None:
    """How far mutes reach beyond the tones, over a never-silent (noisy) background."""
    cat = next(c for c in categories() if c.noise_dbm0 is not None)
    v = render(cat, "band+mu")
    y = mask_signal(v.samples, FS, LOOKAHEAD_MS)
    before, after = [], []
    for tone, onset in zip(cat.tones, v.onsets, strict=True):
        end = onset + round(tone.ms * FS / 1000)
        pre = y[onset - 80 : onset][::-1]
        post = y[end : end + 80]
        before.append(int(np.argmax(pre != 0)) if np.any(pre) else 80)
        after.append(int(np.argmax(post != 0)) if np.any(post) else 80)
    lines.append(
        f"Mute extent over noise ({cat.name}): starts {np.mean(before) / 8:.1f} ms (max "
        f"{max(before) / 8:.1f} ms) before each tone, ends {np.mean(after) / 8:.1f} ms (max "
        f"{max(after) / 8:.1f} ms) after it.\n"
    )


def _speech_section(lines: list[str], quick: bool) -> None:
    lines.append("| corpus | files | mutes | SNR all (dB) | worst file SNR (dB) |")
    lines.append("|---|---|---|---|---|")
    music = ["music-midi"] if music_available() and not quick else []
    for name in speech_available() + music:
        sig, err, worst, mutes = 0.0, 0.0, np.inf, 0
        items = corpus(name)
        for x in items:
            y = mask_signal(x, FS, LOOKAHEAD_MS)
            e = float(np.sum((y - x) ** 2))
            s = float(np.sum(x**2))
            sig, err = sig + s, err + e
            worst = min(worst, _db(s, e))
            mutes += int(np.count_nonzero(np.diff((y == 0) & (x != 0)) == 1))
        lines.append(f"| {name} | {len(items)} | {mutes} | {_db(sig, err):.1f} | {worst:.1f} |")
    lines.append("\n(inf = bit-exact; mutes = muted stretches where the input was not silent.)\n")


def _mixed_section(lines: list[str]) -> None:
    """Speech with key presses in its pauses: are the keys gone and the speech intact?"""
    rng = np.random.default_rng(7)
    parts, tone_spans, pos = [], [], 0
    for x in corpus("librispeech-test-other"):
        parts.append(x)
        pos += len(x)
        for key in rng.choice(list(KEYS), 4):
            gap = np.zeros(round(0.06 * FS))
            burst = dtmf_tone(str(key), round(0.07 * FS), FS, level_dbm0=-12.0)
            parts += [gap, burst]
            tone_spans.append((pos + len(gap), pos + len(gap) + len(burst)))
            pos += len(gap) + len(burst)
        parts.append(np.zeros(round(0.06 * FS)))
        pos += round(0.06 * FS)
    x = np.concatenate(parts)
    y = mask_signal(x, FS, LOOKAHEAD_MS)
    outside = np.ones(len(x), dtype=bool)
    for a, b in tone_spans:
        outside[a:b] = False
    snr = _db(float(np.sum(x[outside] ** 2)), float(np.sum((y - x)[outside] ** 2)))
    first = max(float(np.sum(y[a : a + FS // 1000] ** 2)) for a, _ in tone_spans)
    lines.append(
        f"Speech + keys ({len(x) / FS / 60:.1f} min of librispeech-test-other with "
        f"{len(tone_spans)} key presses of 70 ms at -12 dBm0 in the pauses): SpanDSP keys before "
        f"{len(spandsp_keys(x))}, after masking {len(spandsp_keys(y))}; energy left in the first "
        f"ms of any tone {first:.2g}; speech outside the tones: SNR {snr:.1f} dB.\n"
    )


def _frames_speed(frames: list[npt.NDArray[np.int16]], rate: int, processor: bool) -> float:
    """Times real time of the masker alone, or of the whole processor, on one thread's CPU."""
    seconds = sum(len(f) for f in frames) / rate
    if processor:
        proc = DtmfMaskingProcessor()
        audio = [rtc.AudioFrame(f.tobytes(), rate, 1, len(f)) for f in frames]
        start = time.thread_time()
        for frame in audio:
            proc.process(frame)
    else:
        masker = DtmfMasker(rate, LOOKAHEAD_MS)
        start = time.thread_time()
        for f in frames:
            masker.process(f)
    return seconds / (time.thread_time() - start)


def _speed(lines: list[str]) -> None:
    x = np.concatenate(corpus("fsdd-digits"))
    pcm = np.clip(np.round(x * 32768), -32768, 32767).astype(np.int16)
    # LiveKit Agents' default input is 50 ms frames at 24 kHz: the same speech, upsampled.
    up = np.zeros(3 * len(x))
    up[::3] = 3.0 * x
    up24 = np.clip(np.round(telephone_bandpass(up, 3 * FS) * 32768), -32768, 32767)
    pcm24 = up24.astype(np.int16)
    lines.append("| frames | masker x real time | masker + receiver (processor) x real time |")
    lines.append("|---|---|---|")
    for label, audio, rate, size in (
        ("20 ms at 8 kHz", pcm, FS, FS // 50),
        ("50 ms at 24 kHz", pcm24, 3 * FS, 3 * FS // 20),
    ):
        frames = [audio[i : i + size] for i in range(0, len(audio) - size + 1, size)]
        best = [max(_frames_speed(frames, rate, p) for _ in range(3)) for p in (False, True)]
        lines.append(f"| {label} | {best[0]:.0f} | {best[1]:.0f} |")
    lines.append(
        f"\n{len(x) / FS / 60:.1f} min of speech (fsdd-digits), int16 frames, thread CPU time, "
        "best of 3.\n"
    )


def section(lines: list[str], quick: bool) -> None:
    """Append the masking report."""
    m = DtmfMasker(FS, LOOKAHEAD_MS)
    lines.append(
        f"## Masking (look-ahead {m.delay} samples = {m.delay * 1000 / FS:.1f} ms; output "
        "sample-aligned, same length)\n"
    )
    _tones_section(lines)
    _speech_section(lines, quick)
    _mixed_section(lines)
    if not quick:
        _speed(lines)
