"""Two-stage (nested) bootstrap: resample groups, then units within each drawn group.

Role-play sessions are nested in personas: a persona's sessions share its tastes, so they are
not independent draws. Resampling personas first and then each drawn persona's own sessions
keeps both sources of variation in the interval (Davison & Hinkley 1997, section 3.8).

**Few groups.** Role-play runs have about ten personas, and a plain percentile bootstrap over G
groups undercovers there, for the two reasons ``stats/bootstrap.py`` corrects for keywords: the
resampled mean of G groups has (G - 1)/G of the sampling variance, and a variance estimated
from G groups is itself uncertain, so a normal-quantile interval is too short. ``scaled``
therefore stretches each replicate's deviation from the point estimate by
√(G/(G - 1)) · t(G - 1)/z at the interval's level (bootstrap.py's n/(n - 1) correction with a
plain bootstrap, and its ``student_factor``): the percentile interval of the scaled replicates
matches Student's t interval over the groups where the bootstrap is normal. With one group
there is nothing to estimate from and the factor is 1. Coverage of the induction I_avg
interval at ten personas: tests/induce/test_coverage.py. numpy and scipy.special, no I/O.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from valuespectrum.stats.bootstrap import percentile_interval, student_factor

_CHUNK_ELEMENTS = 8_000_000


def padded(groups: Sequence[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Groups of per-unit statistics ``(n_units_g, k)`` as one NaN-padded ``(G, S, k)`` array
    and the unit counts ``(G,)``."""
    k = groups[0].shape[1]
    size = max(len(g) for g in groups)
    out = np.full((len(groups), size, k), np.nan)
    for i, g in enumerate(groups):
        out[i, : len(g)] = g
    return out, np.array([len(g) for g in groups])


def group_means(values: np.ndarray, counts: np.ndarray, picks: np.ndarray,
                rng: np.random.Generator) -> np.ndarray:  # fmt: skip
    """For drawn groups ``picks`` (B, G'), the mean of each over its own resampled units:
    (B, G', k). NaN statistics (a shorter session's missing positions) are left out of a mean;
    a mean over nothing is NaN."""
    b, g = picks.shape
    s, k = values.shape[1], values.shape[2]
    out = np.empty((b, g, k))
    chunk = max(1, _CHUNK_ELEMENTS // max(g * s * k, 1))
    for start in range(0, b, chunk):
        p = picks[start : start + chunk]
        n = counts[p]  # (b', G')
        inner = (rng.random((*p.shape, s)) * n[..., None]).astype(np.int64)
        used = np.arange(s) < n[..., None]  # the first n draws are the resample
        drawn = values[p[..., None], inner]  # (b', G', S, k)
        out[start : start + chunk] = nanmean(np.where(used[..., None], drawn, np.nan), axis=2)
    return out


def point_means(values: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Each group's mean over all its units, (G, k), NaNs left out."""
    used = np.arange(values.shape[1]) < counts[:, None]
    return nanmean(np.where(used[..., None], values, np.nan), axis=1)


def nanmean(a: np.ndarray, axis: int) -> np.ndarray:
    """Mean over ``axis`` leaving NaNs out; NaN (without a warning) where all are NaN."""
    ok = ~np.isnan(a)
    count = ok.sum(axis=axis)
    total = np.where(ok, a, 0.0).sum(axis=axis)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(count > 0, total / count, np.nan)


def draw_groups(n_groups: int, n_boot: int, rng: np.random.Generator) -> np.ndarray:
    return rng.integers(0, n_groups, size=(n_boot, n_groups))


def group_factor(n_groups, level: float | None) -> np.ndarray:
    """√(G/(G - 1)) · t(G - 1)/z at the two-sided ``level`` (without the t factor for None);
    1 where G <= 1."""
    g = np.asarray(n_groups, float)
    safe = np.where(g > 1, g, 2.0)
    factor = np.where(g > 1, np.sqrt(safe / (safe - 1)), 1.0)
    return factor if level is None else factor * student_factor(np.maximum(g - 1, 0), level)


def scaled(boot, point, n_groups, level: float | None) -> np.ndarray:
    """Replicates ``boot`` (B, ...) with their deviations from ``point`` stretched by
    ``group_factor(n_groups, level)`` (see the module docstring); ``n_groups`` may differ per
    column (groups with a finite point)."""
    boot = np.asarray(boot, float)
    return point + group_factor(n_groups, level) * (boot - point)


def interval(boot, point, n_groups, level: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
    """The percentile interval (``bootstrap.percentile_interval``) of the replicates scaled for
    ``n_groups`` groups; columns without a resample give NaN."""
    lo, hi = (1 - level) / 2, 1 - (1 - level) / 2
    return percentile_interval(scaled(boot, point, n_groups, level), lo, hi)
