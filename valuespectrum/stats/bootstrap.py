"""Stratified bootstrap of pooled ratios and percentile intervals (numpy only, no I/O)."""

from __future__ import annotations

import numpy as np

# Upper bound on elements per bootstrap chunk, to keep memory flat for large tables.
_CHUNK_ELEMENTS = 20_000_000


def runs(labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Labels and start positions of the runs of equal consecutive labels."""
    if len(labels) == 0:
        return labels, np.zeros(0, dtype=int)
    change = np.ones(len(labels), dtype=bool)
    change[1:] = labels[1:] != labels[:-1]
    starts = np.flatnonzero(change)
    return labels[starts], starts


def stratified_ratio_bootstrap(
    yes: np.ndarray,
    valid: np.ndarray,
    offset: np.ndarray,
    size: np.ndarray,
    group_starts: np.ndarray,
    n_boot: int,
    rng: np.random.Generator,
) -> np.ndarray:
    """Stratified bootstrap of ``100 * Σyes / Σvalid`` per group, shape (n_boot, n_groups).

    Position ``j`` of every resample draws an image from ``j``'s own stratum (``offset[j]`` ..
    ``offset[j] + size[j] - 1``), so each keyword keeps its image count in every resample. The
    statistic is the same ratio as the point estimate, so the interval is centred on the score.
    """
    n_images = len(yes)
    chunk = max(1, _CHUNK_ELEMENTS // max(n_images, 1))
    parts = []
    for start in range(0, n_boot, chunk):
        b = min(chunk, n_boot - start)
        idx = offset + (rng.random((b, n_images)) * size).astype(np.int64)
        s_yes = np.add.reduceat(yes[idx], group_starts, axis=1)
        s_valid = np.add.reduceat(valid[idx], group_starts, axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            parts.append(100 * s_yes / np.where(s_valid > 0, s_valid, np.nan))
    return np.concatenate(parts, axis=0)


def percentile_interval(boot: np.ndarray, lo: float, hi: float) -> tuple[np.ndarray, np.ndarray]:
    """Percentile interval per column; all-NaN columns (nothing answered) give NaN."""
    out = np.full((2, boot.shape[1]), np.nan)
    ok = ~np.all(np.isnan(boot), axis=0)
    if ok.any():
        out[:, ok] = np.nanquantile(boot[:, ok], [lo, hi], axis=0)
    return out[0], out[1]
