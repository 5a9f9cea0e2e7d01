"""Runs of consecutive windows supporting one key, their summaries, and tones made of them.

When a run ends it is summarised (by :mod:`payment_tools.dtmf._segments`) as a
:class:`Segment`; segments of one key separated by a short interruption make one :class:`Tone`.
"""

from __future__ import annotations

import cmath
import math
from dataclasses import dataclass

from payment_tools.dtmf.tones import COL_HZ, ROW_HZ

EDGE_WINDOWS = 2
"""Windows beyond each end of a run that are read to place the tone's edges."""
LONG_LAG = 3
"""Window lag, in hops, of the fine frequency measurement; also the window length in hops."""
MAX_WINDOWS = 64
"""Windows of a run kept as evidence; a key held longer is judged on its first part."""

_TURN = 2 * math.pi
Lags = tuple[complex, complex]
"""Summed lagged bin products of a key's row and column tones."""


@dataclass(slots=True)
class Segment:
    """A finished run: where its tone lies, what it looked like, and its frequency errors."""

    key: int
    onset: float
    offset: float
    short_lag: Lags
    long_lag: Lags
    windows: int
    errors: tuple[float, float] | None


@dataclass(slots=True)
class Run:
    """A growing run of windows ``first .. last`` that support ``key``."""

    key: int
    first: int
    last: int


@dataclass(slots=True)
class Tone:
    """Segments of one key bridged across short interruptions."""

    key: int
    onset: float
    offset: float
    duration: float
    short_lag: Lags
    long_lag: Lags
    windows: int
    purity: float
    errors: tuple[float, float] | None

    @classmethod
    def of(cls, seg: Segment, purity: float) -> Tone:
        """A tone of one segment, whose samples two sinusoids explain to ``purity``."""
        duration = seg.offset - seg.onset
        return cls(
            seg.key,
            seg.onset,
            seg.offset,
            duration,
            seg.short_lag,
            seg.long_lag,
            seg.windows,
            purity,
            seg.errors,
        )

    def extend(self, seg: Segment, purity: float, hop: int, sample_rate: int) -> None:
        """Bridge a later segment of the same key into this tone."""
        self.offset = seg.offset
        self.duration += max(seg.offset - seg.onset, 0.0)
        self.short_lag = (
            self.short_lag[0] + seg.short_lag[0],
            self.short_lag[1] + seg.short_lag[1],
        )
        self.long_lag = (self.long_lag[0] + seg.long_lag[0], self.long_lag[1] + seg.long_lag[1])
        self.errors = frequency_errors(self.short_lag, self.long_lag, self.key, hop, sample_rate)
        if seg.windows > self.windows:
            self.windows, self.purity = seg.windows, purity


def frequency_errors(
    short_lag: Lags, long_lag: Lags, key: int, hop: int, sample_rate: int
) -> tuple[float, float] | None:
    """Relative frequency errors of the row and column tones, or None if not measurable.

    The one-hop phase step is unambiguous over a wide range but coarse; the three-hop step is
    three times finer and is unwrapped onto the branch nearest the coarse value. Written out
    for both tones: this runs for every tone.
    """
    row_short, col_short = short_lag
    row_long, col_long = long_lag
    if row_short == 0 or col_short == 0 or row_long == 0 or col_long == 0:
        return None
    long_hops = LONG_LAG * hop
    row_fine, col_fine = cmath.phase(row_long), cmath.phase(col_long)
    row_turns = round((cmath.phase(row_short) / hop * LONG_LAG * hop - row_fine) / _TURN)
    col_turns = round((cmath.phase(col_short) / hop * LONG_LAG * hop - col_fine) / _TURN)
    scale = sample_rate / _TURN
    row_omega = (row_fine + _TURN * row_turns) / long_hops
    col_omega = (col_fine + _TURN * col_turns) / long_hops
    return row_omega * scale / ROW_HZ[key // 4], col_omega * scale / COL_HZ[key % 4]
