"""Per-window DTMF evidence: tone powers, energy share and the keypad key each window supports.

A window "supports" a key when one row and one column tone clearly stand out: both loud enough,
together holding most of the window's energy (speech and music spread theirs over many more
frequencies), twist within limits, and each dominating its group. The energy-share test and a
level floor run on every window in a compiled loop, which also ranks each group's tones; the
linear tests run as one matrix product on the few windows that pass. Before that,
:meth:`WindowAnalyzer.tile_candidates` screens a stretch on the windows that do not overlap.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from payment_tools.dtmf._bank import FloatArray, WindowBank
from payment_tools.dtmf._compiled import compiled
from payment_tools.dtmf.tones import COL_HZ, ROW_HZ, dbm0_to_power

IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]
FREQS_HZ = ROW_HZ + COL_HZ
_NONE: IntArray = np.zeros(0, dtype=np.int64)
KEY_ROWS: IntArray = np.array([[r, 8 + r, 4 + c, 12 + c] for r in range(4) for c in range(4)])
"""Spectrum rows of each key's tones: row real, row imaginary, column real, column imaginary."""
_TILE_MARGIN = 1.1
"""Margin of the tile tests over the window tests, for rounding."""


@dataclass(frozen=True)
class WindowRules:
    """Thresholds a window must meet to support a key."""

    min_level_dbm0: float
    max_reverse_twist_db: float
    max_normal_twist_db: float
    min_dominance_db: float
    min_energy_ratio: float


@dataclass(frozen=True, slots=True)
class Evidence:
    """Per window: the complex bin of a key's row tone, of its column tone, and their share."""

    rows: list[complex]
    cols: list[complex]
    ratios: list[float]


@dataclass(frozen=True, slots=True)
class Windows:
    """Evidence for consecutive windows; window ``w`` starts at stream sample ``w * hop``.

    All indices are stream window indices, from ``first`` to ``end - 1``.

    Attributes:
        first: index of the first window.
        length: samples per window.
        spectrum: ``(16, n)`` bins of the 8 DTMF frequencies, real parts then imaginary parts.
        energy: each window's sum of squares, times ``energy_weight``.
        energy_weight: the factor applied to ``energy``.
        hits: indices of the windows that support a key, ascending.
        keys: the key (row * 4 + column) each of those windows supports.
    """

    first: int
    length: int
    spectrum: FloatArray
    energy: FloatArray
    energy_weight: float
    hits: IntArray
    keys: IntArray

    @property
    def end(self) -> int:
        """Index one past the last window."""
        return self.first + len(self.energy)

    def key_ratio(self, window: int, key: int) -> float:
        """Share of the window's energy held by the two tones of ``key``."""
        row, col = divmod(key, 4)
        s: list[float] = self.spectrum[:, window - self.first].tolist()
        tone = s[row] ** 2 + s[8 + row] ** 2 + s[4 + col] ** 2 + s[12 + col] ** 2
        energy = max(float(self.energy[window - self.first]), 1e-30)
        return 2.0 * tone * self.energy_weight / (self.length * energy)

    def evidence(self, lo: int, hi: int, key: int) -> Evidence:
        """Bins of the row and column tones of ``key`` and their energy shares, windows lo .. hi-1.

        Plain Python past one copy out of numpy: a run has tens of windows, where numpy's cost
        per call would dominate.
        """
        s: list[list[float]] = self.spectrum[
            KEY_ROWS[key], lo - self.first : hi - self.first
        ].tolist()
        energy: list[float] = self.energy[lo - self.first : hi - self.first].tolist()
        scale = 2.0 * self.energy_weight / self.length
        ratios = [
            scale * (a * a + b * b + c * c + d * d) / max(e, 1e-30)
            for a, b, c, d, e in zip(*s, energy, strict=True)
        ]
        rows = [complex(a, b) for a, b in zip(s[0], s[1], strict=True)]
        cols = [complex(c, d) for c, d in zip(s[2], s[3], strict=True)]
        return Evidence(rows, cols, ratios)

    def tone_power(self, window: int, key: int) -> tuple[float, float]:
        """Mean-square power of the row and column sines of ``key`` in the window."""
        row, col = divmod(key, 4)
        s: list[float] = self.spectrum[:, window - self.first].tolist()
        scale = 2.0 / self.length**2
        return scale * (s[row] ** 2 + s[8 + row] ** 2), scale * (s[4 + col] ** 2 + s[12 + col] ** 2)


def _tests(
    reverse: float, normal: float, dominance: float, min_bin: float
) -> tuple[FloatArray, npt.NDArray[np.float64]]:
    """The window tests as a matrix and its limits.

    They apply to (second row, second column, strongest row, strongest column) powers: both
    tones loud enough, twist within limits both ways, each tone ahead of its group's next.
    """
    tests = np.array(
        [
            [0.0, 0.0, 1.0, 0.0],
            [0.0, 0.0, 0.0, 1.0],
            [0.0, 0.0, reverse, -1.0],
            [0.0, 0.0, -1.0, normal],
            [-dominance, 0.0, 1.0, 0.0],
            [0.0, -dominance, 0.0, 1.0],
        ],
        dtype=np.float32,
    )
    return tests, np.array([[min_bin], [min_bin], [0.0], [0.0], [0.0], [0.0]])


class WindowAnalyzer:
    """Classifies the overlapping windows of a stretch of samples."""

    def __init__(
        self, sample_rate: int, hop: int, blocks_per_window: int, rules: WindowRules
    ) -> None:
        """Prepare the analyser.

        Args:
            sample_rate: samples per second.
            hop: sub-block length, which is also the step between windows.
            blocks_per_window: sub-blocks in one window.
            rules: what a window must show to support a key.
        """
        self.hop = hop
        self.span = blocks_per_window
        self.length = hop * blocks_per_window
        # Thresholds in raw units: a sine's power is 2|X|^2 / N^2, a window's is energy / N.
        self._weight = rules.min_energy_ratio * self.length / 2.0
        self._bank = WindowBank(
            FREQS_HZ, sample_rate, hop, blocks_per_window, self._weight, _TILE_MARGIN
        )
        self._min_bin = dbm0_to_power(rules.min_level_dbm0) * self.length**2 / 2.0
        self._tile_min_bin = self._min_bin * self._bank.tile_power_gain / _TILE_MARGIN
        self._floor = np.float32(2.0 * self._min_bin)
        self._tile_floor = np.float32(2.0 * self._tile_min_bin)
        reverse = 10.0 ** (rules.max_reverse_twist_db / 10.0)
        normal = 10.0 ** (rules.max_normal_twist_db / 10.0)
        dominance = 10.0 ** (rules.min_dominance_db / 10.0)
        self._tests, self._limits = _tests(reverse, normal, dominance, self._min_bin)
        margin = _TILE_MARGIN
        self._tile_tests, self._tile_limits = _tests(
            reverse * margin, normal * margin, dominance / margin, self._tile_min_bin
        )

    def tile_candidates(self, samples: FloatArray) -> list[int]:
        """Which of the non-overlapping windows of ``samples`` might support a key.

        Number ``j`` stands for the window ``j * span`` sub-blocks in; any run of ``span`` or
        more supporting windows includes one such window. They are held to the tests of
        :meth:`analyze`, with a 10 % margin for rounding; a run of one or two windows, too
        short to be a key on its own, can go unnoticed.
        """
        spectrum, energy = self._bank.analyze_tiles(samples)
        shared, ranked, _ = _rank(spectrum, energy, self._tile_floor)
        if not len(shared):
            return []
        found: list[int] = shared[_passes(ranked, self._tile_tests, self._tile_limits)].tolist()
        return found

    def analyze(self, samples: FloatArray, first: int) -> Windows:
        """Windows of ``samples``, whose first sample starts window ``first``."""
        spectrum, energy = self._bank.analyze(samples)
        candidates, ranked, keys = _rank(spectrum, energy, self._floor)
        if len(candidates):
            picked = _passes(ranked, self._tests, self._limits)
            hits, keys = candidates[picked] + first, keys[picked]
        else:
            hits = keys = _NONE
        return Windows(first, self.length, spectrum, energy, self._weight, hits, keys)


def _passes(ranked: FloatArray, tests: FloatArray, limits: npt.NDArray[np.float64]) -> BoolArray:
    """Which windows meet every test; they are linear in the ranked powers (one matrix product)."""
    ok: BoolArray = np.logical_and.reduce(tests @ ranked >= limits, axis=0)
    return ok


@compiled
def _rank(
    spectrum: FloatArray, energy: FloatArray, floor: np.float32
) -> tuple[IntArray, FloatArray, IntArray]:
    """The windows past the gate, their ranked powers and the key their strongest tones make.

    The gate: the strongest row and column tones hold enough of the window's energy and pass a
    floor implied by the level test. Ranked powers are, per window, the second row and column
    tones, then the strongest (``(4, n)``); ties go to the lower frequency.
    """
    n = spectrum.shape[1]
    candidates = np.empty(n, dtype=np.int64)
    ranked = np.empty((4, n), dtype=np.float32)
    keys = np.empty(n, dtype=np.int64)
    power = np.empty(8, dtype=np.float32)
    count = 0
    for w in range(n):
        for f in range(8):
            power[f] = spectrum[f, w] * spectrum[f, w] + spectrum[8 + f, w] * spectrum[8 + f, w]
        row, col = _strongest(power, 0), _strongest(power, 4)
        if power[row] + power[4 + col] >= max(energy[w], floor):
            candidates[count] = w
            ranked[0, count] = _second(power, 0, row)
            ranked[1, count] = _second(power, 4, col)
            ranked[2, count], ranked[3, count] = power[row], power[4 + col]
            keys[count] = row * 4 + col
            count += 1
    return candidates[:count], ranked[:, :count].copy(), keys[:count]


@compiled
def _strongest(power: FloatArray, group: int) -> int:
    """Index within the group (four tones from ``group``) of its strongest; ties go lower."""
    best = 0
    for j in range(1, 4):
        if power[group + j] > power[group + best]:
            best = j
    return best


@compiled
def _second(power: FloatArray, group: int, best: int) -> float:
    """Power of the second strongest tone of the group whose strongest is ``best``."""
    second: float = power[group + (1 if best == 0 else 0)]
    for j in range(4):
        if j != best and power[group + j] > second:
            second = power[group + j]
    return second
