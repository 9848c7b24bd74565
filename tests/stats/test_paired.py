"""Paired rates: a change on a handful of screenshots is not called beyond noise, a consistent
change on many is; order reversals need a real swap of values that were apart."""

from __future__ import annotations

import numpy as np

from valuespectrum.stats.paired import interval, order_reversals, rate_replicates


def shift_interval(changed: int, images: int = 50) -> tuple[float, float]:
    """Both sides answer ``images`` screenshots alike except ``changed`` that flip to yes."""
    ref = np.zeros(images)
    other = ref.copy()
    other[:changed] = 1
    unit = np.r_[np.arange(images), np.arange(images)]
    group = np.r_[np.zeros(images, int), np.ones(images, int)]
    rates = rate_replicates(np.r_[ref, other], np.ones(2 * images), unit, group, 2,
                            n_boot=4000, rng=np.random.default_rng(0))  # fmt: skip
    lo, hi = interval(rates.boot[:, 1:] - rates.boot[:, :1])
    return float(lo[0]), float(hi[0])


def test_one_to_three_changed_screenshots_never_exclude_zero_and_ten_do():
    for changed in (1, 2, 3):
        assert shift_interval(changed)[0] == 0.0
    lo, hi = shift_interval(10)
    assert 0 < lo < 20 < hi


def test_a_swap_is_a_reversal_only_when_beyond_noise_and_the_values_were_apart():
    rng = np.random.default_rng(0)
    ref, other = np.array([60.0, 40.0]), np.array([40.0, 60.0])
    tight = rng.normal(0, 2, (2000, 2))
    loose = rng.normal(0, 30, (2000, 2))
    assert [(r.a, r.b) for r in order_reversals(ref, other, ref + tight, other + tight)] == [(0, 1)]
    assert order_reversals(ref, other, ref + loose, other + loose) == []
    assert order_reversals(ref, np.array([50.0, 50.0]), ref + tight, ref + tight) == []  # a tie
    assert order_reversals(ref, other, None, None) == []
