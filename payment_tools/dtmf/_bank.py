"""Sample buffering and a DFT bank at the DTMF frequencies, vectorised over many windows.

Windows are ``span`` sub-blocks of ``hop`` samples and step by one sub-block. One real matrix
product gives, for every sub-block, its contribution to each of the ``span`` windows it belongs
to (a basis per position in the window); a window's bins are then a sum of ``span`` shifted
slices. The layout is frequency-major (bins x windows) so that every later reduction runs over
long contiguous rows. Bins are referenced to each window's first sample: the phase step between
windows ``L`` hops apart is ``L * hop * omega`` for a tone at ``omega``, which is what measures a
tone's frequency error.

Samples are buffered in 16-bit PCM units (full scale 32768) so that int16 audio, the usual
input, is copied without arithmetic; the bank's basis and energy weights undo the scale.
"""

from __future__ import annotations

import cmath
import functools
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float32]
PCM_FULL_SCALE = 32768.0


class SampleBuffer:
    """Recent samples of a stream as float32 PCM units, addressed by stream sample index."""

    def __init__(self, capacity: int = 1 << 14) -> None:
        """Create an empty buffer; it grows as needed."""
        self._data = np.zeros(capacity, dtype=np.float32)
        self._capacity = capacity
        self.base = 0
        """Stream index of the oldest sample held."""
        self.end = 0
        """Stream index one past the newest sample."""
        self._len = 0
        self._keep = 0

    def append(self, samples: npt.NDArray[np.generic]) -> None:
        """Add mono samples (a 1-D array): integer 16-bit PCM, or float in [-1, 1]."""
        start = self._len
        end = self._len = start + len(samples)
        if end > self._capacity:
            self._len = start
            self._make_room(end - start)
            start, end = self._len, self._len + len(samples)
            self._len = end
        if samples.dtype.kind == "f":
            np.multiply(samples, PCM_FULL_SCALE, out=self._data[start:end], casting="same_kind")
        else:
            self._data[start:end] = samples
        self.end = self.base + end

    def release(self, before: int) -> None:
        """Allow samples before stream index ``before`` to be dropped."""
        self._keep = max(self._keep, before)

    def view(self, start: int, stop: int) -> FloatArray:
        """Samples ``start .. stop - 1`` (stream indices); they must still be held."""
        return self._data[start - self.base : stop - self.base]

    def _make_room(self, n: int) -> None:
        drop = min(max(self._keep - self.base, 0), self._len)
        kept = self._len - drop
        data = self._data
        # Most of the buffer stays free after a move, so that moves stay rare.
        if 4 * (kept + n) > len(data):
            data = np.zeros(4 * (kept + n), dtype=np.float32)
        data[:kept] = self._data[drop : self._len]
        self._data, self.base, self._len = data, self.base + drop, kept
        self._capacity = len(data)


class WindowBank:
    """DFT bins and energies of overlapping windows of a stretch of buffered samples."""

    def __init__(
        self,
        freqs_hz: Sequence[float],
        sample_rate: int,
        hop: int,
        span: int,
        energy_weight: float = 1.0,
        tile_margin: float = 1.0,
    ) -> None:
        """Prepare the bank.

        Args:
            freqs_hz: probe frequencies.
            sample_rate: samples per second.
            hop: sub-block length in samples, the step between windows.
            span: sub-blocks per window (at least 2).
            energy_weight: factor applied to every energy, so that callers can compare them
                with bin powers without another pass over the windows.
            tile_margin: extra factor on the bin powers of :meth:`analyze_tiles`.
        """
        self.hop, self.span = hop, span
        self.n_freqs = len(freqs_hz)
        freqs = np.asarray(freqs_hz, dtype=np.float64)
        n = np.arange(hop * span, dtype=np.float64)
        arg = 2.0 * np.pi * np.outer(n, freqs) / sample_rate
        window = np.concatenate([np.cos(arg), -np.sin(arg)], axis=1) / PCM_FULL_SCALE
        # Row block j (2 * n_freqs rows) maps a sub-block to its bins at position j of a window.
        per_position = np.concatenate(list(window.reshape(span, hop, -1)), axis=1)
        self._basis = np.ascontiguousarray(per_position.T, dtype=np.float32)
        weight = energy_weight / PCM_FULL_SCALE**2
        self._weights = np.full(span, weight, dtype=np.float32)
        # Tiles are compared with their raw energy: the weight moves into their bins.
        self.tile_power_gain = tile_margin / weight
        """Factor between the bin powers of :meth:`analyze_tiles` and true ones."""
        tile_basis = window.T * np.sqrt(self.tile_power_gain)
        self._tile_basis = np.ascontiguousarray(tile_basis, dtype=np.float32)
        self._tile_ones = np.ones(hop * span, dtype=np.float32)

    def analyze(self, samples: FloatArray) -> tuple[FloatArray, FloatArray]:
        """Bins and weighted energies of every whole window in ``samples`` (the first at 0).

        Returns:
            Bins ``(2 * n_freqs, n)``, real parts then imaginary parts, and energies ``(n,)``
            (sums of squares times ``energy_weight``), for the ``n`` windows that fit.
        """
        m = len(samples) // self.hop
        k = m - self.span + 1
        w = 2 * self.n_freqs
        if k <= 0:
            return np.zeros((w, 0), dtype=np.float32), np.zeros(0, dtype=np.float32)
        blocks = samples[: m * self.hop].reshape(m, self.hop)
        parts = np.dot(self._basis, blocks.T)
        spectrum = parts[:w, :k] + parts[w : 2 * w, 1 : k + 1]
        for j in range(2, self.span):
            spectrum += parts[j * w : (j + 1) * w, j : j + k]
        # Few numpy calls matter more than arithmetic here (np.dot has less overhead than
        # einsum); one convolution sums the block energies over each window.
        hop = self.hop
        block_energy = np.dot(np.square(blocks), self._tile_ones[:hop])
        energy = np.convolve(block_energy, self._weights, mode="valid")
        return spectrum, energy

    def analyze_tiles(self, samples: FloatArray) -> tuple[FloatArray, FloatArray]:
        """Like :meth:`analyze`, for every ``span``-th window only (windows that do not overlap).

        A third of the work at three sub-blocks per window, and enough to find any steady tone.
        Energies come out unweighted and bin powers times :attr:`tile_power_gain`, so that the
        comparisons between them are those of :meth:`analyze` (times ``tile_margin``), one pass
        cheaper.
        """
        length = self.hop * self.span
        tiles = samples[: len(samples) // length * length].reshape(-1, length)
        return np.dot(self._tile_basis, tiles.T), np.dot(np.square(tiles), self._tile_ones)


@functools.lru_cache(maxsize=256)
def phase_step(freqs_hz: tuple[float, ...], sample_rate: int, samples: int) -> tuple[complex, ...]:
    """Phase factors removing the nominal advance of each probe over ``samples`` samples."""
    return tuple(cmath.exp(-2j * cmath.pi * f * samples / sample_rate) for f in freqs_hz)
