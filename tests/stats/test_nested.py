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
    boot = np.c_[np.arange(101.0), np.full(101, np.nan)]
    lo, hi = nested.interval(boot, 0.9)
    assert (lo[0], hi[0]) == (pytest.approx(5), pytest.approx(95))
    assert np.isnan(lo[1]) and np.isnan(hi[1])
    assert np.isnan(nested.nanmean(np.full((3, 2), np.nan), axis=0)).all()
