from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from voice_auth.scoring import (
    CohortStats,
    cohort_stats,
    cosine,
    det_curve,
    equal_error_rate,
    error_rates,
    mean_embedding,
    s_norm,
    threshold_for_far,
)

scores = st.lists(st.floats(min_value=-5, max_value=5, allow_nan=False), min_size=1, max_size=60)


def unit(v: list[float]) -> np.ndarray:
    a = np.asarray(v, dtype=np.float32)
    return a / np.linalg.norm(a)


def test_cosine_ignores_length_and_rejects_zero_vectors() -> None:
    assert cosine(unit([1, 0]), 5 * unit([1, 0])) == pytest.approx(1.0)
    assert cosine(unit([1, 0]), 2 * unit([0, 1])) == pytest.approx(0.0)
    with pytest.raises(ValueError, match="zero vector"):
        cosine(np.zeros(2, dtype=np.float32), unit([1, 1]))


def test_mean_embedding_is_unit_length_and_between_its_inputs() -> None:
    m = mean_embedding([unit([1, 0]), unit([0, 1])])
    assert np.linalg.norm(m) == pytest.approx(1.0)
    assert m == pytest.approx(unit([1, 1]))


def test_error_rates_count_scores_at_the_threshold_as_accepted() -> None:
    rates = error_rates([0.9, 0.8, 0.5, 0.2], [0.1, 0.5, 0.6], threshold=0.5)
    assert rates.frr == pytest.approx(0.25)
    assert rates.far == pytest.approx(2 / 3)


def test_equal_error_rate_is_zero_when_classes_separate() -> None:
    rates = equal_error_rate([0.8, 0.9, 0.95], [0.1, 0.2, 0.3])
    assert rates.far == rates.frr == 0.0
    assert 0.3 < rates.threshold <= 0.8


def test_equal_error_rate_of_one_overlap() -> None:
    rates = equal_error_rate([0.4, 0.7, 0.8, 0.9], [0.1, 0.2, 0.3, 0.5])
    assert max(rates.far, rates.frr) == pytest.approx(0.25)


def test_equal_error_rate_of_identical_distributions_is_about_half() -> None:
    rng = np.random.default_rng(1)
    rates = equal_error_rate(rng.normal(size=4000), rng.normal(size=4000))
    assert max(rates.far, rates.frr) == pytest.approx(0.5, abs=0.03)


@settings(max_examples=100)
@given(targets=scores, impostors=scores)
def test_det_curve_trades_false_accepts_for_false_rejects(
    targets: list[float], impostors: list[float]
) -> None:
    thresholds, far, frr = det_curve(targets, impostors)
    assert np.all(np.diff(thresholds) > 0)
    assert np.all(np.diff(far) <= 0) and np.all(np.diff(frr) >= 0)
    assert (far[0], frr[0]) == (1.0, 0.0)
    assert (far[-1], frr[-1]) == (0.0, 1.0)


@settings(max_examples=100)
@given(impostors=scores, max_far=st.floats(min_value=0.0, max_value=1.0))
def test_threshold_for_far_is_the_lowest_meeting_the_target(
    impostors: list[float], max_far: float
) -> None:
    threshold = threshold_for_far(impostors, max_far)
    assert error_rates([0.0], impostors, threshold).far <= max_far + 1e-12
    lower = [s for s in impostors if s < threshold]
    if lower:
        assert error_rates([0.0], impostors, max(lower)).far > max_far


def test_cohort_stats_use_only_the_closest_members() -> None:
    cohort = np.stack([unit([1, 0]), unit([1, 1]), unit([0, 1]), unit([-1, 0])])
    stats = cohort_stats(unit([1, 0]), cohort, top_k=2)
    assert stats.mean == pytest.approx((1.0 + np.sqrt(0.5)) / 2)
    with pytest.raises(ValueError, match="at least two"):
        cohort_stats(unit([1, 0]), cohort[:1], top_k=2)


def test_s_norm_is_zero_at_the_cohort_mean_and_symmetric() -> None:
    a, b = CohortStats(0.2, 0.1), CohortStats(0.4, 0.05)
    assert s_norm(0.3, a, b) == pytest.approx(0.5 * (1.0 - 2.0))
    assert s_norm(0.3, a, b) == s_norm(0.3, b, a)
    assert s_norm(0.2, a, CohortStats(0.2, 0.3)) == 0.0
