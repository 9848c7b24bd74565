from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import rankdata as scipy_rankdata
from scipy.stats import spearmanr

from valuespectrum.stats.ranks import rank_correlation, rankdata


@pytest.mark.parametrize("seed", range(5))
def test_average_ranks_match_scipy_with_ties(seed: int) -> None:
    x = np.random.default_rng(seed).integers(0, 6, size=25).astype(float)
    assert np.allclose(rankdata(x), scipy_rankdata(x))


def test_rank_correlation_is_spearman_over_shared_values() -> None:
    a = {"x": 1.0, "y": 2.0, "z": 2.0, "w": 5.0, "v": float("nan")}
    b = {"x": 3.0, "y": 1.0, "z": 4.0, "w": 9.0, "u": 1.0}
    keys = ["x", "y", "z", "w"]
    expected = spearmanr([a[k] for k in keys], [b[k] for k in keys]).statistic
    assert rank_correlation(a, b) == pytest.approx(expected)
