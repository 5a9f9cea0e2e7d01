"""Summaries of finished runs, for every run that ends in one analysed stretch at once.

A run's :class:`~payment_tools.dtmf._runs.Segment` holds the tone's edges, placed to a fraction
of a window from the energy share of the partly covered windows at each end, and the phase steps
of both tones' bins between windows one and three hops apart, which measure their frequency
errors. The sums over a run's windows are compiled loops (:mod:`payment_tools.dtmf._compiled`),
one call for all the runs that end in a stretch.
"""

from __future__ import annotations

import functools
import math

import numpy as np
import numpy.typing as npt

from payment_tools.dtmf._bank import FloatArray, phase_step
from payment_tools.dtmf._compiled import compiled
from payment_tools.dtmf._purity import Stretch
from payment_tools.dtmf._runs import (
    EDGE_WINDOWS,
    LONG_LAG,
    MAX_WINDOWS,
    Run,
    Segment,
    frequency_errors,
)
from payment_tools.dtmf._windows import Windows
from payment_tools.dtmf.tones import COL_HZ, ROW_HZ

IntArray = npt.NDArray[np.int64]


def summarise(runs: list[Run], windows: Windows, hop: int, sample_rate: int) -> list[Segment]:
    """Segments of ``runs``, which end before ``windows`` does (by two windows at least).

    ``windows`` must hold each run's two windows before its first, its evidence (at most
    ``MAX_WINDOWS`` windows from the first) and its two windows after the last.
    """
    if not runs:
        return []
    spans = np.array([(run.key, run.first, run.last) for run in runs])
    scale = 2.0 * windows.energy_weight / windows.length
    steps = _step_table(sample_rate, hop)
    edges, lags, counts = _summaries(
        windows.spectrum, windows.energy, windows.first, scale, spans, steps, hop
    )
    segments = []
    for run, (onset, offset), (row1, col1, row3, col3), count in zip(
        runs, edges.tolist(), lags.tolist(), counts.tolist(), strict=True
    ):
        short, long = (row1, col1), (row3, col3)
        errors = frequency_errors(short, long, run.key, hop, sample_rate)
        segments.append(Segment(run.key, onset, offset, short, long, count, errors))
    return segments


@functools.lru_cache(maxsize=16)
def _step_table(sample_rate: int, hop: int) -> npt.NDArray[np.complex128]:
    """Per key, the nominal phase advance of its two tones over one hop, then over ``LONG_LAG``.

    Bins are referenced to each window's start: these remove the advance between windows.
    """
    table = np.array([sum(_steps(key, sample_rate, hop), ()) for key in range(16)])
    table.flags.writeable = False
    return table


@functools.lru_cache(maxsize=64)
def _steps(key: int, sample_rate: int, hop: int) -> tuple[tuple[complex, ...], tuple[complex, ...]]:
    """Nominal phase advance of the key's two tones over one hop and over ``LONG_LAG`` hops."""
    row, col = divmod(key, 4)
    nominal = (ROW_HZ[row], COL_HZ[col])
    return phase_step(nominal, sample_rate, hop), phase_step(nominal, sample_rate, LONG_LAG * hop)


@compiled
def _share(spectrum: FloatArray, energy: FloatArray, scale: float, key: int, w: int) -> float:
    """Share of window ``w``'s energy held by the two tones of ``key``."""
    row, col = key // 4, key % 4
    a, b = np.float64(spectrum[row, w]), np.float64(spectrum[8 + row, w])
    c, d = np.float64(spectrum[4 + col, w]), np.float64(spectrum[12 + col, w])
    e = max(np.float64(energy[w]), 1e-30)
    return float(scale * (a * a + b * b + c * c + d * d) / e)


@compiled
def _lagged(spectrum: FloatArray, row: int, lo: int, hi: int, lag: int) -> complex:
    """Sum over windows ``lo .. hi - 1`` of a bin times the conjugate of the bin ``lag`` back.

    ``row`` is the spectrum row of the tone's real part; its imaginary part is 8 rows further.
    """
    total = 0j
    for w in range(lo + lag, hi):
        before = w - lag
        later = complex(np.float64(spectrum[row, w]), np.float64(spectrum[8 + row, w]))
        earlier = complex(np.float64(spectrum[row, before]), np.float64(spectrum[8 + row, before]))
        total += later * earlier.conjugate()
    return total


@compiled
def _summaries(
    spectrum: FloatArray,
    energy: FloatArray,
    origin: int,
    scale: float,
    spans: IntArray,
    steps: npt.NDArray[np.complex128],
    hop: int,
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.complex128], IntArray]:
    """Onset and offset, lagged sums and evidence windows of runs ``(key, first, last)``.

    A run's edges are placed to a fraction of a window from the energy share of the partly
    covered windows: up to two before its first and the first, its last and the two after.
    """
    n_runs = spans.shape[0]
    edges = np.empty((n_runs, 2))
    lags = np.empty((n_runs, 4), dtype=np.complex128)
    counts = np.empty(n_runs, dtype=np.int64)
    length = LONG_LAG * hop
    for i in range(n_runs):
        key, first, last = spans[i, 0], spans[i, 1], spans[i, 2]
        lo = first - origin
        hi = min(last + 1, first + MAX_WINDOWS) - origin
        peak = _share(spectrum, energy, scale, key, lo)
        for w in range(lo + 1, hi):
            peak = max(peak, _share(spectrum, energy, scale, key, w))
        n_head = min(lo, EDGE_WINDOWS)
        total, found = 0.0, 0
        for k in range(n_head + 1):
            f = _share(spectrum, energy, scale, key, lo - n_head + k) / peak
            if 0.1 < f < 0.95:
                total += (first - n_head + k) * hop + length * (1.0 - f)
                found += 1
        edges[i, 0] = total / found if found else float(first * hop)
        total, found = 0.0, 0
        for k in range(EDGE_WINDOWS + 1):
            f = _share(spectrum, energy, scale, key, last - origin + k) / peak
            if 0.1 < f < 0.95:
                total += (last + k) * hop + length * f
                found += 1
        edges[i, 1] = total / found if found else float(last * hop + length)
        row, col = key // 4, 4 + key % 4
        lags[i, 0] = _lagged(spectrum, row, lo, hi, 1) * steps[key, 0]
        lags[i, 1] = _lagged(spectrum, col, lo, hi, 1) * steps[key, 1]
        lags[i, 2] = _lagged(spectrum, row, lo, hi, LONG_LAG) * steps[key, 2]
        lags[i, 3] = _lagged(spectrum, col, lo, hi, LONG_LAG) * steps[key, 3]
        counts[i] = hi - lo
    return edges, lags, counts


def purity_stretch(
    seg: Segment, base: int, sample_rate: int, trim: float, longest: int
) -> Stretch | None:
    """Where (relative to buffer index ``base``) and at which frequencies to test the purity.

    The stretch is the segment's last part, at most ``longest`` samples, with ``trim`` samples
    cut off each edge; None if it cannot be measured.
    """
    errors = seg.errors
    if errors is None:
        return None
    row, col = divmod(seg.key, 4)
    stop = round(seg.offset - trim)
    start = max(round(seg.onset + trim), stop - longest)
    if start < base or stop <= start:
        return None
    return (
        start - base,
        stop - base,
        2 * math.pi * ROW_HZ[row] * (1 + errors[0]) / sample_rate,
        2 * math.pi * COL_HZ[col] * (1 + errors[1]) / sample_rate,
    )
