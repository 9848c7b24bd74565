"""Rank statistics over value profiles (numpy/scipy only, no I/O)."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
from scipy.stats import rankdata


def rank_correlation(a: Mapping[str, float], b: Mapping[str, float]) -> float:
    """Spearman rho over the values both profiles score (ties get average ranks).

    Used to compare a profile with the paper's or two models' profiles where only the ordering
    is comparable (different yes-rate baselines). NaN with fewer than two shared values or when
    either side is constant.
    """
    shared = [k for k in a if k in b and a[k] == a[k] and b[k] == b[k]]
    if len(shared) < 2:
        return float("nan")
    ra = rankdata([a[k] for k in shared])
    rb = rankdata([b[k] for k in shared])
    if ra.std() == 0 or rb.std() == 0:
        return float("nan")
    return float(np.corrcoef(ra, rb)[0, 1])
