"""DET curve (FRR against FAR on normal-deviate axes) written as a PNG."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import numpy.typing as npt
from matplotlib.figure import Figure
from scipy.stats import norm

from voice_auth.scoring import ErrorRates, det_curve

_TICKS = [0.001, 0.005, 0.02, 0.05, 0.1, 0.2, 0.4]


def _probit(rates: npt.NDArray[np.float64], floor: float) -> npt.NDArray[np.float64]:
    return np.asarray(norm.ppf(np.clip(rates, floor, 1.0 - floor)), dtype=np.float64)


def plot_det(
    targets: list[float],
    impostors: list[float],
    eer: ErrorRates,
    operating: list[ErrorRates],
    path: Path,
    title: str,
) -> None:
    """Draw the DET curve with its EER point and the operating thresholds, and save it."""
    _, far, frr = det_curve(targets, impostors)
    # Zero error rates have no normal deviate: draw them half a trial below the smallest rate.
    floor = 0.5 / max(len(targets), len(impostors))
    # A bare Figure renders with Agg and leaves pyplot's global state alone.
    fig = Figure(figsize=(5.5, 5.5), dpi=100)
    ax = fig.add_subplot()
    ax.plot(_probit(far, floor), _probit(frr, floor), color="tab:blue", label="DET")
    ax.plot([-10, 10], [-10, 10], color="grey", linewidth=0.6)
    worst = max(eer.far, eer.frr)
    colours = ["tab:green", "tab:orange", "tab:purple"]
    points = [((worst, worst), f"EER {worst:.2%}", "tab:red")] + [
        ((p.far, p.frr), f"threshold {p.threshold:.2f}", colours[i % len(colours)])
        for i, p in enumerate(operating)
    ]
    for rates, label, colour in points:
        x, y = _probit(np.array(rates, dtype=np.float64), floor)
        ax.plot([x], [y], "o", color=colour, label=label)
    ticks = norm.ppf(_TICKS)
    labels = [f"{t:.1%}".replace(".0%", "%") for t in _TICKS]
    ax.set_xticks(ticks, labels)
    ax.set_yticks(ticks, labels)
    limits = (float(norm.ppf(floor)) - 0.2, float(norm.ppf(0.5)))
    ax.set_xlim(*limits)
    ax.set_ylim(*limits)
    ax.set_xlabel(f"false accept rate ({len(impostors)} impostor trials)")
    ax.set_ylabel(f"false reject rate ({len(targets)} target trials)")
    ax.set_title(title, fontsize=10)
    ax.grid(True, alpha=0.3)
    ax.legend(loc="upper right")
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.tight_layout()
    fig.savefig(path)
