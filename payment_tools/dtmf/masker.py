"""Removes DTMF tones from a caller's audio before anything else hears it (STT, recording, agent).

Output is the input delayed by a fixed look-ahead. While a sample waits in the look-ahead, the
masker inspects the audio after it: 10 ms windows stepping by 1 ms are classified like the
receiver's, and a tone is confirmed once enough consecutive windows agree on one key, their
phase steps put both frequencies within 4.5 %, and two sinusoids explain the stretch (speech does
not). The look-ahead is sized so that this happens before the first sample of the tone leaves, so
the mute starts a guard interval ahead of the tone. The mute then follows the tone with relaxed
tests and ends a guard interval after it. Samples outside mutes pass bit for bit.
"""

from __future__ import annotations

import bisect
import cmath
import math
from dataclasses import dataclass
from typing import TypeVar, cast

import numpy as np
import numpy.typing as npt

from payment_tools.dtmf._bank import SampleBuffer, phase_step
from payment_tools.dtmf._purity import two_tone_purity
from payment_tools.dtmf._windows import WindowAnalyzer, WindowRules, Windows
from payment_tools.dtmf.tones import COL_HZ, ROW_HZ, dbm0_to_power

AnyArray = npt.NDArray[np.generic]
ScalarT = TypeVar("ScalarT", bound=np.generic)


@dataclass(frozen=True)
class MaskerParams:
    """Masker thresholds, looser than the receiver's.

    No tone another receiver could read may survive: SpanDSP accepts tones down to -42 dBm0,
    with 8 dB normal and 4 dB reverse twist, and some 3.5 %-off low-group tones.
    """

    window_ms: float = 10.0
    hop_ms: float = 1.0
    guard_ms: float = 1.0
    min_level_dbm0: float = -45.0
    max_reverse_twist_db: float = 10.0
    max_normal_twist_db: float = 14.0
    min_dominance_db: float = 1.0
    min_energy_ratio: float = 0.55
    hold_energy_ratio: float = 0.3
    hold_misses: int = 3
    min_mean_ratio: float = 0.72
    max_frequency_error: float = 0.045
    min_purity: float = 0.9


@dataclass(slots=True)
class _Candidate:
    key: int
    first: int
    last: int
    checked: bool = False


class DtmfMasker:
    """Streaming DTMF remover with a fixed delay of ``lookahead_ms``.

    Output samples have the input's dtype (16-bit PCM stays 16-bit PCM) and values: muted
    stretches are zero, everything else is the input, delayed by :attr:`delay` samples.
    """

    def __init__(
        self, sample_rate: int, lookahead_ms: float = 20.0, params: MaskerParams | None = None
    ) -> None:
        """Create a masker.

        Args:
            sample_rate: samples per second (8000 or more).
            lookahead_ms: output delay; at most 20 ms is needed, and at least 14 ms is allowed.
            params: thresholds; the defaults suit telephone audio.

        Raises:
            ValueError: if the sample rate is below 8 kHz or the look-ahead too short.
        """
        if sample_rate < 8000:
            raise ValueError("sample_rate must be at least 8000")
        self.params = p = params or MaskerParams()
        self.sample_rate = sample_rate
        self.delay = round(lookahead_ms * sample_rate / 1000)
        """Output delay in samples."""
        self._hop = round(p.hop_ms * sample_rate / 1000)
        span = round(p.window_ms / p.hop_ms)
        self._length = span * self._hop
        self._guard = round(p.guard_ms * sample_rate / 1000)
        # A run confirmed at its Nth window must be known before its first window is emitted.
        self._confirm = (self.delay - self._length - self._guard) // self._hop + 1
        if self._confirm < 4:
            raise ValueError("lookahead_ms too short for the masker's windows")
        # A candidate is checked on at most its (confirm + 2)th window, gaps included.
        self._lookback = self._confirm + 2
        rules = WindowRules(
            p.min_level_dbm0,
            p.max_reverse_twist_db,
            p.max_normal_twist_db,
            p.min_dominance_db,
            p.min_energy_ratio,
        )
        self._analyzer = WindowAnalyzer(sample_rate, self._hop, span, rules)
        self._min_power = dbm0_to_power(p.min_level_dbm0)
        self._buffer = SampleBuffer()
        self._line: AnyArray | None = None
        self._next = 0
        self._candidate: _Candidate | None = None
        self._tone_key = -1
        self._tone_last = 0
        self._misses = 0
        self._mutes: list[list[float]] = []

    @property
    def muting(self) -> bool:
        """Whether a tone is being followed or a mute is still to leave the look-ahead."""
        return self._tone_key >= 0 or bool(self._mutes)

    def process(self, chunk: npt.NDArray[ScalarT]) -> npt.NDArray[ScalarT]:
        """Consume mono audio; return as many samples, delayed by :attr:`delay`, tones muted.

        Keep to one dtype per stream: int16 PCM, or float in [-1, 1].
        """
        x = chunk if chunk.ndim == 1 else chunk.reshape(-1)
        self._buffer.append(x)
        stop = self._buffer.end // self._hop - self._analyzer.span + 1
        if stop > self._next:
            first = max(self._next - self._lookback, 0)
            samples = self._buffer.view(first * self._hop, self._buffer.end)
            self._track(self._analyzer.analyze(samples, first))
            self._next = stop
            self._buffer.release((self._next - self._lookback) * self._hop)
        return cast(npt.NDArray[ScalarT], self._emit(x))

    def flush(self) -> AnyArray:
        """Return the last :attr:`delay` samples, judged as if silence followed."""
        dtype = np.float64 if self._line is None else self._line.dtype
        tail = self.process(np.zeros(self.delay + self._length, dtype=dtype))
        return tail[: self.delay]

    def _track(self, windows: Windows) -> None:
        """Follow a muted tone window by window; otherwise visit only key-supporting windows."""
        hits, keys = windows.hits.tolist(), windows.keys.tolist()
        k, j = self._next, 0
        while k < windows.end:
            if self._tone_key >= 0:
                self._hold(windows, k)
                k += 1
                continue
            j = bisect.bisect_left(hits, k, j)
            if j == len(hits):
                break
            k = hits[j]
            self._grow(windows, k, keys[j])
            k += 1

    def _hold(self, windows: Windows, k: int) -> None:
        pr, pc = windows.tone_power(k, self._tone_key)
        ratio = windows.key_ratio(k, self._tone_key)
        if ratio >= self.params.hold_energy_ratio and min(pr, pc) >= self._min_power:
            self._tone_last, self._misses = k, 0
            return
        self._misses += 1
        if self._misses > self.params.hold_misses:
            self._mutes[-1][1] = self._tone_last * self._hop + self._length + self._guard
            self._tone_key = -1
            self._candidate = None

    def _grow(self, windows: Windows, k: int, key: int) -> None:
        cand = self._candidate
        # One failed window (noise, leakage of a strong twin) does not restart the count.
        if cand is None or cand.key != key or k - cand.last > 2:
            cand = self._candidate = _Candidate(key, k, k)
        cand.last = k
        if cand.checked or k - cand.first + 1 < self._confirm:
            return
        cand.checked = True
        if self._is_tone(windows, cand.first, k + 1, key):
            self._mutes.append([cand.first * self._hop - self._guard, math.inf])
            self._tone_key, self._tone_last, self._misses = key, k, 0

    def _is_tone(self, windows: Windows, lo: int, hi: int, key: int) -> bool:
        evidence = windows.evidence(lo, hi, key)
        if sum(evidence.ratios) / len(evidence.ratios) < self.params.min_mean_ratio:
            return False
        row, col = divmod(key, 4)
        nominal_hz = (ROW_HZ[row], COL_HZ[col])
        steps = phase_step(nominal_hz, self.sample_rate, self._hop)
        omegas = []
        for bins, step, hz in zip((evidence.rows, evidence.cols), steps, nominal_hz, strict=True):
            lagged = sum((b * a.conjugate() for a, b in zip(bins, bins[1:], strict=False)), 0j)
            omega = cmath.phase(lagged * step) / self._hop
            nominal = 2 * math.pi * hz / self.sample_rate
            if abs(omega / nominal) > self.params.max_frequency_error:
                return False
            omegas.append(nominal + omega)
        start = (lo + hi) // 2 * self._hop
        stop = (hi - 1) * self._hop + self._length
        stretch = self._buffer.view(start, stop).astype(np.float64)
        return two_tone_purity(stretch, (omegas[0], omegas[1])) >= self.params.min_purity

    def _emit(self, x: AnyArray) -> AnyArray:
        """The ``len(x)`` samples leaving the look-ahead, with mutes applied."""
        if self._line is None:
            self._line = np.zeros(self.delay, dtype=x.dtype if x.dtype.kind in "iuf" else float)
        line = np.concatenate([self._line, x])
        n = len(x)
        out, self._line = line[:n], line[n:]
        end = self._buffer.end - self.delay
        start = end - n
        for mute in self._mutes:
            a, b = max(mute[0], start), min(mute[1], end)
            if a < b:
                out[int(a) - start : int(math.ceil(b)) - start] = 0
        self._mutes = [m for m in self._mutes if m[1] > end]
        return out


def mask_signal(
    samples: npt.NDArray[ScalarT], sample_rate: int, lookahead_ms: float = 20.0
) -> npt.NDArray[ScalarT]:
    """Mask a whole recording; the result has the same length, alignment and dtype."""
    masker = DtmfMasker(sample_rate, lookahead_ms)
    out = np.concatenate([masker.process(samples), masker.flush()])
    return cast(npt.NDArray[ScalarT], out[masker.delay :])
