"""Rank statistics over value profiles (numpy only, no I/O; scipy.stats takes 1 s to import)."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np


def rankdata(x) -> np.ndarray:
    """Ranks 1..n with ties given their average rank (as ``scipy.stats.rankdata``)."""
    _, inverse, counts = np.unique(np.asarray(x, dtype=float), return_inverse=True,
                                   return_counts=True)
    last = np.cumsum(counts)
    return (last - (counts - 1) / 2.0)[inverse]


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
