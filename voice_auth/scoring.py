"""Verification scores (cosine, adaptive s-norm) and error rates (FAR, FRR, EER, DET)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

Vector = npt.NDArray[np.float32]
Scores = npt.NDArray[np.float64]


def cosine(a: Vector, b: Vector) -> float:
    """Cosine similarity of two embeddings."""
    denominator = float(np.linalg.norm(a) * np.linalg.norm(b))
    if denominator == 0.0:
        raise ValueError("cosine of a zero vector")
    return float(np.dot(a, b)) / denominator


def mean_embedding(embeddings: list[Vector]) -> Vector:
    """L2-normalised mean of unit embeddings: a speaker model from several utterances."""
    if not embeddings:
        raise ValueError("no embeddings to average")
    mean = np.mean(np.stack(embeddings), axis=0)
    return np.asarray(mean / np.linalg.norm(mean), dtype=np.float32)


@dataclass(frozen=True)
class CohortStats:
    """Mean and spread of one embedding's scores against its closest cohort members."""

    mean: float
    std: float


def cohort_stats(embedding: Vector, cohort: npt.NDArray[np.float32], top_k: int) -> CohortStats:
    """Score ``embedding`` against unit-norm ``cohort`` rows and keep the ``top_k`` highest.

    Adaptive s-norm uses only the most similar impostors, which models the impostors that
    actually threaten this speaker better than the whole cohort does.
    """
    if cohort.ndim != 2 or cohort.shape[0] < 2:
        raise ValueError("the cohort needs at least two embeddings")
    scores = np.asarray(cohort @ (embedding / np.linalg.norm(embedding)), dtype=np.float64)
    k = min(max(2, top_k), scores.size)
    top = np.partition(scores, scores.size - k)[scores.size - k :]
    return CohortStats(mean=float(top.mean()), std=max(float(top.std()), 1e-6))


def s_norm(raw: float, enrolment: CohortStats, test: CohortStats) -> float:
    """Symmetric score normalisation: mean of the z-scores from both sides."""
    return 0.5 * ((raw - enrolment.mean) / enrolment.std + (raw - test.mean) / test.std)


@dataclass(frozen=True)
class ErrorRates:
    """False accept and false reject rates at one threshold (accept when score >= threshold)."""

    threshold: float
    far: float
    frr: float


def _as_scores(values: npt.ArrayLike) -> Scores:
    scores = np.asarray(values, dtype=np.float64).reshape(-1)
    if scores.size == 0:
        raise ValueError("no trials")
    return scores


def error_rates(targets: npt.ArrayLike, impostors: npt.ArrayLike, threshold: float) -> ErrorRates:
    """FAR and FRR of the target and impostor trial scores at ``threshold``."""
    tgt, imp = _as_scores(targets), _as_scores(impostors)
    return ErrorRates(
        threshold=threshold,
        far=float(np.mean(imp >= threshold)),
        frr=float(np.mean(tgt < threshold)),
    )


def det_curve(targets: npt.ArrayLike, impostors: npt.ArrayLike) -> tuple[Scores, Scores, Scores]:
    """Thresholds and the FAR and FRR at each: every distinct score, plus one above them all."""
    tgt, imp = np.sort(_as_scores(targets)), np.sort(_as_scores(impostors))
    everything = np.concatenate([tgt, imp])
    thresholds = np.append(np.unique(everything), np.nextafter(everything.max(), np.inf))
    frr = np.searchsorted(tgt, thresholds, side="left") / tgt.size
    far = 1.0 - np.searchsorted(imp, thresholds, side="left") / imp.size
    return thresholds, np.asarray(far, dtype=np.float64), np.asarray(frr, dtype=np.float64)


def equal_error_rate(targets: npt.ArrayLike, impostors: npt.ArrayLike) -> ErrorRates:
    """The threshold where the larger of FAR and FRR is smallest; its rates bound the EER."""
    thresholds, far, frr = det_curve(targets, impostors)
    best = int(np.argmin(np.maximum(far, frr)))
    return ErrorRates(threshold=float(thresholds[best]), far=float(far[best]), frr=float(frr[best]))


def threshold_for_far(impostors: npt.ArrayLike, max_far: float) -> float:
    """Lowest threshold whose FAR on ``impostors`` does not exceed ``max_far``."""
    imp = np.sort(_as_scores(impostors))
    allowed = int(np.floor(max_far * imp.size + 1e-9))
    if allowed >= imp.size:
        return float(imp[0])
    return float(np.nextafter(imp[imp.size - allowed - 1], np.inf))
