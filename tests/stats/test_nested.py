"""The two-stage bootstrap draws groups, then units inside each drawn group only."""

from __future__ import annotations

import numpy as np
import pytest

from valuespectrum.stats import nested


def test_units_are_drawn_only_from_their_own_group_and_nans_are_left_out() -> None:
    groups = [np.array([[0.0], [10.0]]), np.array([[100.0]]), np.array([[50.0], [np.nan]])]
    values, counts = nested.padded(groups)
    assert values.shape == (3, 2, 1) and list(counts) == [2, 1, 2]
    rng = np.random.default_rng(0)
    picks = nested.draw_groups(3, 2000, rng)
    means = nested.group_means(values, counts, picks, rng)[..., 0]
    seen = {g: set(np.unique(means[picks == g])) for g in range(3)}
    assert seen[0] == {0.0, 5.0, 10.0}  # two sessions drawn with replacement
    assert seen[1] == {100.0}
    assert {x for x in seen[2] if not np.isnan(x)} == {50.0}  # the NaN unit is left out
    assert list(nested.point_means(values, counts)[:, 0]) == [5.0, 100.0, 50.0]


def test_interval_is_the_percentile_interval_and_nan_where_nothing_is_finite() -> None:
    """With many groups the scaling is about 1: the plain percentile interval."""
    boot = np.c_[np.arange(101.0), np.full(101, np.nan)]
    lo, hi = nested.interval(boot, 50.0, 10**6, 0.9)
    assert (lo[0], hi[0]) == (pytest.approx(5, abs=1e-4), pytest.approx(95, abs=1e-4))
    assert np.isnan(lo[1]) and np.isnan(hi[1])
    assert np.isnan(nested.nanmean(np.full((3, 2), np.nan), axis=0)).all()


def test_few_groups_stretch_deviations_by_the_variance_and_student_factors() -> None:
    """Ten groups: the resampled mean has 9/10 of the variance and t(9)/z is the Student
    widening, so deviations from the point grow by √(10/9)·t(9)/z ≈ 1.216; one group: 1."""
    from scipy import stats

    factor = np.sqrt(10 / 9) * stats.t.ppf(0.975, 9) / stats.norm.ppf(0.975)
    boot = np.arange(101.0)
    lo, hi = nested.interval(boot, 50.0, 10, 0.95)
    assert lo[0] == pytest.approx(50 - factor * 47.5) and hi[0] == pytest.approx(50 + factor * 47.5)
    assert nested.group_factor([1, 10], None) == pytest.approx([1.0, np.sqrt(10 / 9)])
    assert np.array_equal(nested.scaled(boot, 50.0, 1, 0.95), boot)


def test_interval_of_ten_group_means_matches_students_t_interval() -> None:
    """Ten groups of one unit: the scaled percentile interval is the t interval of the mean."""
    from scipy import stats

    x = np.random.default_rng(4).normal(20, 10, 10)
    values, counts = nested.padded([np.array([[v]]) for v in x])
    rng = np.random.default_rng(5)
    boot = nested.group_means(values, counts, nested.draw_groups(10, 20000, rng), rng)
    lo, hi = nested.interval(boot[..., 0].mean(axis=1), x.mean(), 10, 0.95)
    half = stats.t.ppf(0.975, 9) * x.std(ddof=1) / np.sqrt(10)
    assert lo[0] == pytest.approx(x.mean() - half, abs=0.06 * half)
    assert hi[0] == pytest.approx(x.mean() + half, abs=0.06 * half)
