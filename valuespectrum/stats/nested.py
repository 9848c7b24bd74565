"""Two-stage (nested) bootstrap: resample groups, then units within each drawn group.

Role-play sessions are nested in personas: a persona's sessions share its tastes, so they are
not independent draws. Resampling personas first and then each drawn persona's own sessions
keeps both sources of variation in the interval (Davison & Hinkley 1997, section 3.8).
numpy only, no I/O.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

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
        ok = used[..., None] & ~np.isnan(drawn)
        total = np.where(ok, drawn, 0.0).sum(axis=2)
        count = ok.sum(axis=2)
        with np.errstate(invalid="ignore", divide="ignore"):
            out[start : start + chunk] = np.where(count > 0, total / count, np.nan)
    return out


def point_means(values: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Each group's mean over all its units, (G, k), NaNs left out."""
    used = np.arange(values.shape[1]) < counts[:, None]
    ok = used[..., None] & ~np.isnan(values)
    total = np.where(ok, values, 0.0).sum(axis=1)
    count = ok.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(count > 0, total / count, np.nan)


def nanmean(a: np.ndarray, axis: int) -> np.ndarray:
    """Mean over ``axis`` leaving NaNs out; NaN (without a warning) where all are NaN."""
    ok = ~np.isnan(a)
    count = ok.sum(axis=axis)
    total = np.where(ok, a, 0.0).sum(axis=axis)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(count > 0, total / count, np.nan)


def draw_groups(n_groups: int, n_boot: int, rng: np.random.Generator) -> np.ndarray:
    return rng.integers(0, n_groups, size=(n_boot, n_groups))


def interval(boot: np.ndarray, level: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
    """Percentile interval over axis 0; columns with no finite resample give NaN."""
    lo, hi = (1 - level) / 2, 1 - (1 - level) / 2
    boot = np.asarray(boot, float)
    if boot.ndim == 1:
        boot = boot[:, None]
    out = np.full((2, boot.shape[1]), np.nan)
    ok = np.isfinite(boot).any(axis=0)
    if ok.any() and len(boot):
        out[:, ok] = np.nanquantile(boot[:, ok], [lo, hi], axis=0)
    return out[0], out[1]
