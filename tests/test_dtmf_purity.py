from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from payment_tools.dtmf._purity import purities, two_tone_purity

omega = st.floats(0.3, 1.4)


def test_two_sinusoids_are_fully_explained_and_noise_is_not() -> None:
    k = np.arange(400)
    tone = 0.3 * np.cos(0.55 * k + 1.0) + 0.2 * np.cos(0.95 * k + 2.0)
    assert two_tone_purity(tone, (0.55, 0.95)) > 0.999999
    noise = np.random.default_rng(0).normal(0, 0.1, 400)
    assert two_tone_purity(noise, (0.55, 0.95)) < 0.1
    assert two_tone_purity(np.zeros(400), (0.55, 0.95)) == 0.0


@settings(max_examples=30, deadline=None)
@given(st.lists(st.tuples(st.integers(1, 900), omega, omega), min_size=1, max_size=8))
def test_many_stretches_at_once_match_one_at_a_time(spec: list[tuple[int, float, float]]) -> None:
    rng = np.random.default_rng(len(spec))
    k = np.arange(12000)
    x = (np.cos(0.7 * k) + 0.5 * np.cos(1.1 * k + 1) + rng.normal(0, 0.5, len(k))).astype(
        np.float32
    )
    stretches, pos = [], 5
    for n, w1, w2 in spec:
        stretches.append((pos, pos + n, w1, w2))
        pos += n + 3
    together = purities(x, stretches)
    alone = [two_tone_purity(x[a:b].astype(np.float64), (w1, w2)) for a, b, w1, w2 in stretches]
    assert np.allclose(together, alone, rtol=0, atol=1e-9)
