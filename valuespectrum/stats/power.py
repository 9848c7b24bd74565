"""How many images a value needs: a simulated power curve (numpy only, no I/O).

A value's score is the yes-rate over its images, drawn keyword by keyword. Two things make it
miss: which images each keyword happened to retrieve (binomial noise, shrinking with the images)
and which keywords were written (each keyword has its own rate around the value's; that part
shrinks only with more keywords). ``simulate`` draws both from a true profile: each keyword's
rate from a Beta around the value's true rate with the between-keyword spread ``spread`` (as
seen in a run: ``keyword_spread``), then one answer per image, and reports the mean absolute
error and the width of the central interval of the recovered scores: what a calibrated
interval would span at that many images.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


def keyword_spread(yes: np.ndarray, n: np.ndarray, value: np.ndarray) -> float:
    """Between-keyword standard deviation of the yes-rate (0..1), pooled over values.

    One entry per keyword: ``yes`` and ``n`` answers, ``value`` its value's index. Per value,
    the variance of keyword rates around the value's pooled rate minus what binomial noise
    alone gives (method of moments), pooled with weights keywords - 1 and clipped at zero.
    """
    yes, n, value = np.asarray(yes, float), np.asarray(n, float), np.asarray(value)
    num = den = 0.0
    for v in np.unique(value):
        m = (value == v) & (n > 0)
        k = int(m.sum())
        if k < 2:
            continue
        p = yes[m].sum() / n[m].sum()
        rates = yes[m] / n[m]
        excess = rates.var(ddof=1) - np.mean(p * (1 - p) / n[m])
        num += (k - 1) * excess
        den += k - 1
    return float(np.sqrt(max(num / den, 0.0))) if den else 0.0


def allocation(n_images: int, keywords: int) -> np.ndarray:
    """Images per keyword, ``n_images`` spread over ``keywords`` as evenly as possible."""
    keywords = max(1, min(keywords, n_images))
    base, extra = divmod(n_images, keywords)
    return np.array([base + 1] * extra + [base] * (keywords - extra), int)


@dataclass(frozen=True)
class PowerPoint:
    """Per value (V,): ``mae`` the mean |recovered - true| (points), ``width`` the central
    ``ci`` interval's width of the recovered score (points)."""

    mae: np.ndarray
    width: np.ndarray


def simulate(true: np.ndarray, images: np.ndarray, spread: float, *, n_sim: int,
             rng: np.random.Generator, ci: float = 0.95) -> PowerPoint:  # fmt: skip
    """Recover a profile ``n_sim`` times from ``images`` (images per keyword, the same for
    every value) at ``true`` scores (%) with keyword spread ``spread`` (rate SD, 0..1)."""
    p = np.clip(np.asarray(true, float) / 100, 0, 1)[None, :, None]
    m = np.asarray(images, int)
    shape = (n_sim, p.shape[1], len(m))
    if spread > 0:
        inner = np.clip(p * (1 - p), 1e-12, None)
        concentration = np.maximum(inner / spread**2 - 1, 1.0)  # a Beta needs var < p(1 - p)
        a = np.maximum(p * concentration, 1e-9)
        b = np.maximum((1 - p) * concentration, 1e-9)
        q = rng.beta(np.broadcast_to(a, shape), np.broadcast_to(b, shape))
        q = np.where((p == 0) | (p == 1), p, q)
    else:
        q = np.broadcast_to(p, shape)
    score = 100 * rng.binomial(m, q).sum(axis=2) / m.sum()
    error = score - 100 * p[:, :, 0]
    lo, hi = np.quantile(score, [(1 - ci) / 2, 1 - (1 - ci) / 2], axis=0)
    return PowerPoint(np.abs(error).mean(axis=0), hi - lo)
