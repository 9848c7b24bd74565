"""Do the ten scores behave like Schwartz values across profiles? (numpy only, no I/O.)

Across many profiles (models, personas, prompts), values next to each other on Schwartz's
circle should rise and fall together and opposite values against each other. ``circle_test``
measures it the way circumplex studies of the PVQ do, as a Mantel test: Spearman's rho between
each pair's correlation across profiles and the pair's distance on the circle (negative when
neighbours correlate more), with a permutation p-value that shuffles which value sits where
on the circle (one-sided: p = (1 + #{rho* <= rho}) / (1 + n_perm)).
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import combinations

import numpy as np

from valuespectrum.stats.ranks import rankdata


def circle_distances(angles: np.ndarray) -> np.ndarray:
    """(V, V) angular distances in degrees (0..180) between positions on the circle."""
    a = np.asarray(angles, float)
    d = np.abs(a[:, None] - a[None, :]) % 360
    return np.minimum(d, 360 - d)


def centred_rows(x: np.ndarray) -> np.ndarray:
    """Each row minus its mean over the values it has (ipsatized profiles; NaN stays NaN)."""
    x = np.asarray(x, float)
    return x - np.nanmean(x, axis=1, keepdims=True)


def pair_correlations(x: np.ndarray, min_rows: int = 3) -> tuple[np.ndarray, np.ndarray]:
    """Pearson r (V, V) of columns over the rows both have, and how many rows that was.

    NaN where fewer than ``min_rows`` rows are shared or a column is constant over them."""
    x = np.asarray(x, float)
    v = x.shape[1]
    r, n = np.full((v, v), np.nan), np.zeros((v, v), int)
    for i, j in combinations(range(v), 2):
        ok = ~np.isnan(x[:, i]) & ~np.isnan(x[:, j])
        n[i, j] = n[j, i] = int(ok.sum())
        if ok.sum() < min_rows:
            continue
        a, b = x[ok, i] - x[ok, i].mean(), x[ok, j] - x[ok, j].mean()
        if min(a @ a, b @ b) > 1e-9:  # points: anything smaller is rounding, not variation
            r[i, j] = r[j, i] = float(a @ b / np.sqrt((a @ a) * (b @ b)))
    return r, n


@dataclass(frozen=True)
class CircleTest:
    """``rho``: Spearman between pair correlation and circle distance (expected negative);
    ``p``: its one-sided permutation p-value; ``kept``: indices of the values used."""

    rho: float
    p: float
    n_pairs: int
    n_perm: int
    kept: tuple[int, ...]


def complete_values(r: np.ndarray) -> list[int]:
    """Values left after dropping, one at a time, the value with the most undefined pairs,
    until every pair among the rest has a correlation (so every permutation sees the same
    pairs)."""
    keep = list(range(len(r)))
    while len(keep) > 1:
        sub = np.isnan(r[np.ix_(keep, keep)]) & ~np.eye(len(keep), dtype=bool)
        if not sub.any():
            break
        keep.pop(int(np.argmax(sub.sum(axis=1))))
    return keep


def circle_test(r: np.ndarray, angles: np.ndarray, *, n_perm: int = 9999,
                rng: np.random.Generator | None = None) -> CircleTest:  # fmt: skip
    """The Mantel test of ``r`` (V, V pair correlations) against the circle at ``angles``
    (degrees per value). Values with undefined pairs are dropped first (``complete_values``);
    fewer than four values left gives NaN."""
    keep = complete_values(np.asarray(r, float))
    if len(keep) < 4:
        return CircleTest(np.nan, np.nan, 0, n_perm, tuple(keep))
    r = np.asarray(r, float)[np.ix_(keep, keep)]
    pos = np.asarray(angles, float)[keep]
    i, j = np.triu_indices(len(keep), 1)
    corr_rank = rankdata(r[i, j])
    # Permuting values among positions permutes pairs among position-pairs: the multiset of
    # distances, hence their ranks, is unchanged; only who gets which rank moves.
    dist_rank = np.zeros((len(keep), len(keep)))
    dist_rank[i, j] = rankdata(circle_distances(pos)[i, j])
    dist_rank = dist_rank + dist_rank.T
    x = corr_rank - corr_rank.mean()
    if x @ x == 0 or np.ptp(dist_rank[i, j]) == 0:
        return CircleTest(np.nan, np.nan, len(i), n_perm, tuple(keep))

    def rho_of(d: np.ndarray) -> np.ndarray:
        d = d - d.mean(axis=-1, keepdims=True)
        return (d @ x) / np.sqrt((d * d).sum(axis=-1) * (x @ x))

    observed = float(rho_of(dist_rank[i, j]))
    rng = rng or np.random.default_rng(0)
    perms = np.argsort(rng.random((n_perm, len(keep))), axis=1)
    null = rho_of(dist_rank[perms[:, i], perms[:, j]])
    p = (1 + int((null <= observed + 1e-12).sum())) / (1 + n_perm)
    return CircleTest(observed, float(p), len(i), n_perm, tuple(keep))
