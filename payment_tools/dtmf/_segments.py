"""Summaries of finished runs, for every run that ends in one analysed stretch at once.

A run's :class:`~payment_tools.dtmf._runs.Segment` holds the tone's edges, placed to a fraction
of a window from the energy share of the partly covered windows at each end, and the phase steps
of both tones' bins between windows one and three hops apart, which measure their frequency
errors. Touch-tone dialling ends many runs per second; the evidence of all of them is gathered
and reduced in one set of numpy calls, and only the last few sums are finished in Python.
"""

from __future__ import annotations

import functools
import math

import numpy as np
import numpy.typing as npt

from payment_tools.dtmf._bank import phase_step
from payment_tools.dtmf._purity import Stretch
from payment_tools.dtmf._runs import (
    EDGE_WINDOWS,
    LONG_LAG,
    MAX_WINDOWS,
    Run,
    Segment,
    frequency_errors,
)
from payment_tools.dtmf._windows import KEY_ROWS, Windows
from payment_tools.dtmf.tones import COL_HZ, ROW_HZ

IntArray = npt.NDArray[np.int64]
_FOUR = np.arange(4)


def summarise(runs: list[Run], windows: Windows, hop: int, sample_rate: int) -> list[Segment]:
    """Segments of ``runs``, which end before ``windows`` does (by two windows at least).

    ``windows`` must hold each run's two windows before its first, its evidence (at most
    ``MAX_WINDOWS`` windows from the first) and its two windows after the last.
    """
    if len(runs) <= 1:
        return [_single(run, windows, hop, sample_rate) for run in runs]
    # Per run, two ranges: head and evidence (first - 2 .. first + 63 at most), and the tail
    # (last .. last + 2). Window indices are made local to ``windows``.
    f = windows.first
    heads = [max(r.first - EDGE_WINDOWS, f) - f for r in runs]
    ev_stops = [min(r.last + 1, r.first + MAX_WINDOWS) - f for r in runs]
    tails = [r.last - f for r in runs]
    starts = heads + tails
    stops = ev_stops + [t + EDGE_WINDOWS + 1 for t in tails]
    lengths = [b - a for a, b in zip(starts, stops, strict=True)]
    begins = [0]
    for n in lengths[:-1]:
        begins.append(begins[-1] + n)
    # Window index of each gathered entry, and the spectrum rows of its run's key.
    idx = np.arange(begins[-1] + lengths[-1]) + np.repeat(
        [a - b for a, b in zip(starts, begins, strict=True)], lengths
    )
    rows = np.repeat(KEY_ROWS[[r.key for r in runs] * 2], lengths, axis=0)
    vals = windows.spectrum[rows, idx[:, None]].astype(np.float64)
    # Columns are row real, row imaginary, column real, column imaginary: two complex bins.
    z = vals.view(np.complex128)
    energy = np.maximum(windows.energy[idx], 1e-30)
    # A sine's power is 2|X|^2 / N^2 and a window's is energy / N.
    scale = 2.0 * windows.energy_weight / windows.length
    ratios: list[float] = (np.dot(np.square(vals), np.full(4, scale)) / energy).tolist()
    # Lagged products, lag 1 in columns 0-1 and LONG_LAG in columns 2-3, summed cumulatively:
    # the sum over a run's evidence is then a difference of two entries.
    n = len(z)
    cumulative = np.zeros((n + 1, 4), dtype=np.complex128)
    cumulative[1:n, :2] = z[1:] * z[:-1].conj()
    cumulative[1 : n + 1 - LONG_LAG, 2:] = z[LONG_LAG:] * z[:-LONG_LAG].conj()
    np.cumsum(cumulative, axis=0, out=cumulative)
    # Evidence of run i: positions lo[i] .. lo[i] + count - 1; its lagged pairs start there.
    lo = [begins[i] + r.first - f - heads[i] for i, r in enumerate(runs)]
    count = [ev_stops[i] - (r.first - f) for i, r in enumerate(runs)]
    hi = [
        (a + max(c - 1, 0), a + max(c - 1, 0), a + max(c - LONG_LAG, 0), a + max(c - LONG_LAG, 0))
        for a, c in zip(lo, count, strict=True)
    ]
    keys = [r.key for r in runs]
    steps, nominal = _tables(sample_rate, hop)
    # Bins are referenced to each window's start: remove the nominal advance per lag.
    lags = (cumulative[hi, _FOUR] - cumulative[lo]) * steps[keys]
    errors = _errors(lags, nominal[keys], hop, sample_rate)
    sums: list[list[complex]] = lags.tolist()
    n_runs = len(runs)
    return [
        _segment(
            run,
            ratios[begins[i] : begins[i] + ev_stops[i] - heads[i]],
            run.first - f - heads[i],
            ratios[begins[n_runs + i] : begins[n_runs + i] + EDGE_WINDOWS + 1],
            (sums[i][0], sums[i][1]),
            (sums[i][2], sums[i][3]),
            errors[i],
            hop,
        )
        for i, run in enumerate(runs)
    ]


def _errors(
    lags: npt.NDArray[np.complex128], nominal: npt.NDArray[np.float64], hop: int, sample_rate: int
) -> list[tuple[float, float] | None]:
    """:func:`~payment_tools.dtmf._runs.frequency_errors` of many runs at once.

    ``lags`` is ``(n, 4)``: one-hop then ``LONG_LAG``-hop products of the row and column tones.
    """
    # np.angle and np.round, without their Python wrappers: this runs once per analysis.
    phase = np.arctan2(lags.imag, lags.real)
    long_hops = LONG_LAG * hop
    turns = np.rint((phase[:, :2] * LONG_LAG - phase[:, 2:]) / (2 * np.pi))
    relative = (phase[:, 2:] + 2 * np.pi * turns) * (sample_rate / (2 * np.pi * long_hops))
    measurable: list[bool] = np.all(lags != 0, axis=1).tolist()
    pairs: list[list[float]] = (relative / nominal).tolist()
    return [(p[0], p[1]) if ok else None for p, ok in zip(pairs, measurable, strict=True)]


@functools.lru_cache(maxsize=16)
def _tables(
    sample_rate: int, hop: int
) -> tuple[npt.NDArray[np.complex128], npt.NDArray[np.float64]]:
    """Per key, the nominal phase steps and the nominal row and column frequencies.

    Steps are over one hop (row, column), then over ``LONG_LAG`` hops (row, column).
    """
    steps = np.array([sum(_steps(key, sample_rate, hop), ()) for key in range(16)])
    nominal = np.array([(ROW_HZ[key // 4], COL_HZ[key % 4]) for key in range(16)])
    steps.flags.writeable = nominal.flags.writeable = False
    return steps, nominal


def _single(run: Run, windows: Windows, hop: int, sample_rate: int) -> Segment:
    """:func:`summarise` for one run, in plain Python past one copy out of numpy."""
    head = max(run.first - EDGE_WINDOWS, windows.first)
    stop = run.last + EDGE_WINDOWS + 1
    first, end = run.first - head, min(run.last + 1, run.first + MAX_WINDOWS) - head
    if run.last - run.first < MAX_WINDOWS:
        # One copy covers the head, the evidence and the tail.
        got = windows.evidence(head, stop, run.key)
        tail = got.ratios[run.last - head :]
    else:
        got = windows.evidence(head, head + end, run.key)
        tail = windows.evidence(run.last, stop, run.key).ratios
    rows, cols = got.rows[first:end], got.cols[first:end]
    # Bins are referenced to each window's start: remove the nominal advance per lag.
    step, long_step = _steps(run.key, sample_rate, hop)
    short = (_lagged(rows, 1) * step[0], _lagged(cols, 1) * step[1])
    long = (_lagged(rows, LONG_LAG) * long_step[0], _lagged(cols, LONG_LAG) * long_step[1])
    errors = frequency_errors(short, long, run.key, hop, sample_rate)
    return _segment(run, got.ratios[:end], first, tail, short, long, errors, hop)


def _lagged(bins: list[complex], lag: int) -> complex:
    """Sum of each bin times the conjugate of the bin ``lag`` windows earlier."""
    total = 0j
    for earlier, later in zip(bins, bins[lag:], strict=False):
        total += later * earlier.conjugate()
    return total


@functools.lru_cache(maxsize=64)
def _steps(key: int, sample_rate: int, hop: int) -> tuple[tuple[complex, ...], tuple[complex, ...]]:
    """Nominal phase advance of the key's two tones over one hop and over ``LONG_LAG`` hops."""
    row, col = divmod(key, 4)
    nominal = (ROW_HZ[row], COL_HZ[col])
    return phase_step(nominal, sample_rate, hop), phase_step(nominal, sample_rate, LONG_LAG * hop)


def _segment(
    run: Run,
    head_and_evidence: list[float],
    n_head: int,
    tail: list[float],
    short_lag: tuple[complex, complex],
    long_lag: tuple[complex, complex],
    errors: tuple[float, float] | None,
    hop: int,
) -> Segment:
    """One run's segment, from its energy shares and its lagged bin products and errors."""
    length = LONG_LAG * hop
    evidence = head_and_evidence[n_head:]
    peak = max(evidence)
    onsets = [
        (run.first - n_head + k) * hop + length * (1.0 - f)
        for k, r in enumerate(head_and_evidence[: n_head + 1])
        if 0.1 < (f := r / peak) < 0.95
    ]
    offsets = [
        (run.last + k) * hop + length * f
        for k, r in enumerate(tail)
        if 0.1 < (f := r / peak) < 0.95
    ]
    return Segment(
        key=run.key,
        onset=sum(onsets) / len(onsets) if onsets else float(run.first * hop),
        offset=sum(offsets) / len(offsets) if offsets else float(run.last * hop + length),
        short_lag=short_lag,
        long_lag=long_lag,
        windows=len(evidence),
        errors=errors,
    )


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
