"""How much of a stretch of audio two steady sinusoids explain.

A DTMF tone is two sinusoids of constant frequency and level; a least-squares fit of both, at
the measured frequencies, leaves only noise. Voiced speech and music that happen to put two
harmonics on DTMF frequencies leave their other harmonics and their pitch drift behind.

The fit is the projection onto cos and sin at both frequencies. The projections take one pass
over the samples; the 4 x 4 Gram matrix of the basis has closed forms (sums of geometric
series) and is solved written out. Both are compiled (:mod:`payment_tools.dtmf._compiled`):
numpy's cost per call would dominate at this size.
"""

from __future__ import annotations

import cmath
import math

import numpy as np
import numpy.typing as npt

from payment_tools.dtmf._compiled import compiled


@compiled
def _geometric(theta: float, n: int) -> complex:
    """Sum of exp(1j * theta * k) for k = 0 .. n - 1."""
    step = cmath.exp(1j * theta)
    if abs(1.0 - step) < 1e-12:
        return complex(n)
    return (1.0 - cmath.exp(1j * theta * n)) / (1.0 - step)


@compiled
def _explained(omegas: tuple[float, float], n: int, p: tuple[float, float, float, float]) -> float:
    """``p @ inv(G) @ p`` for the Gram matrix G of cos(w1 k), cos(w2 k), sin(w1 k), sin(w2 k).

    G comes from sums of geometric series (cos a cos b = (cos(a - b) + cos(a + b)) / 2, and so
    on); the 4 x 4 Cholesky solve is written out. Returns -1 if G is not positive definite.
    """
    w1, w2 = omegas
    d = _geometric(w1 - w2, n)
    t11, t22, t12 = _geometric(2 * w1, n), _geometric(2 * w2, n), _geometric(w1 + w2, n)
    half_n = 0.5 * n
    # Rows and columns: cos w1, cos w2, sin w1, sin w2.
    g00, g11 = half_n + 0.5 * t11.real, half_n + 0.5 * t22.real
    g22, g33 = half_n - 0.5 * t11.real, half_n - 0.5 * t22.real
    g01 = 0.5 * (d.real + t12.real)
    g23 = 0.5 * (d.real - t12.real)
    g02, g13 = 0.5 * t11.imag, 0.5 * t22.imag
    # sum cos(wi k) sin(wj k) = (sin((wi + wj) k) - sin((wi - wj) k)) / 2
    g03 = 0.5 * (t12.imag - d.imag)
    g12 = 0.5 * (t12.imag + d.imag)
    tiny = 1e-12 * half_n
    a00 = g00
    if a00 <= tiny:
        return -1.0
    l00 = math.sqrt(a00)
    l10, l20, l30 = g01 / l00, g02 / l00, g03 / l00
    a11 = g11 - l10 * l10
    if a11 <= tiny:
        return -1.0
    l11 = math.sqrt(a11)
    l21, l31 = (g12 - l20 * l10) / l11, (g13 - l30 * l10) / l11
    a22 = g22 - l20 * l20 - l21 * l21
    if a22 <= tiny:
        return -1.0
    l22 = math.sqrt(a22)
    l32 = (g23 - l30 * l20 - l31 * l21) / l22
    a33 = g33 - l30 * l30 - l31 * l31 - l32 * l32
    if a33 <= tiny:
        return -1.0
    l33 = math.sqrt(a33)
    # Forward substitution L y = p; then p @ inv(G) @ p = |y|^2.
    y0 = p[0] / l00
    y1 = (p[1] - l10 * y0) / l11
    y2 = (p[2] - l20 * y0 - l21 * y1) / l22
    y3 = (p[3] - l30 * y0 - l31 * y1 - l32 * y2) / l33
    return y0 * y0 + y1 * y1 + y2 * y2 + y3 * y3


def two_tone_purity(samples: npt.NDArray[np.float64], omegas: tuple[float, float]) -> float:
    """Share of the energy of ``samples`` explained by sinusoids at ``omegas`` (rad/sample)."""
    n = len(samples)
    total = float(samples @ samples)
    if n < 8 or total <= 0.0:
        return 0.0
    # exp(-1j w k) by repeated multiplication: far cheaper than exp, and exact to ~1e-12 here.
    phases = np.empty((2, n), dtype=np.complex128)
    phases[:, 0] = 1.0
    phases[:, 1:] = np.exp(-1j * np.array(omegas))[:, None]
    proj: list[complex] = (np.cumprod(phases, axis=1) @ samples).tolist()
    # sum x cos(w k) = Re(sum x exp(-1j w k)); sum x sin(w k) = -Im(...).
    explained = _explained(omegas, n, (proj[0].real, proj[1].real, -proj[0].imag, -proj[1].imag))
    return max(explained, 0.0) / total


_BLOCK = 32
Stretch = tuple[int, int, float, float]
"""Samples ``start .. stop - 1`` of a buffer, and the two frequencies to fit (rad/sample)."""


def purities(samples: npt.NDArray[np.float32], stretches: list[Stretch]) -> list[float]:
    """:func:`two_tone_purity` of several stretches of ``samples``, in one compiled call."""
    if not stretches:
        return []
    found: list[float] = _purities(samples, np.array(stretches, dtype=np.float64)).tolist()
    return found


@compiled
def _purities(
    samples: npt.NDArray[np.float32], stretches: npt.NDArray[np.float64]
) -> npt.NDArray[np.float64]:
    """Purities of stretches given as rows ``(start, stop, w1, w2)``.

    The projections run a phase factor along the samples, set anew from ``exp`` every
    ``_BLOCK`` samples so that no rounding accumulates along it.
    """
    out = np.zeros(len(stretches))
    for i in range(len(stretches)):
        start, stop = int(stretches[i, 0]), int(stretches[i, 1])
        w1, w2 = stretches[i, 2], stretches[i, 3]
        n = stop - start
        step1, step2 = cmath.exp(complex(0.0, -w1)), cmath.exp(complex(0.0, -w2))
        total, p1, p2 = 0.0, 0j, 0j
        for block in range(0, n, _BLOCK):
            phase1 = cmath.exp(complex(0.0, -w1 * block))
            phase2 = cmath.exp(complex(0.0, -w2 * block))
            for k in range(start + block, start + min(block + _BLOCK, n)):
                x = np.float64(samples[k])
                total += x * x
                p1 += x * phase1
                p2 += x * phase2
                phase1 *= step1
                phase2 *= step2
        if n < 8 or total <= 0.0:
            continue
        # sum x cos(w k) = Re(sum x exp(-1j w k)); sum x sin(w k) = -Im(...).
        explained = _explained((w1, w2), n, (p1.real, p2.real, -p1.imag, -p2.imag))
        out[i] = max(explained, 0.0) / total
    return out
