"""Coverage of the 95% intervals on a simulated respondent with known p(yes) per image.

The respondent's answers are drawn directly with numpy (much faster than the whole pipeline,
and the same arithmetic: ``scoring.score_profile`` hands exactly these arrays to
``ratio_replicates``). Each value has a population of keywords; a keyword's images have
p(yes) around the keyword's mean, which varies around the value's score (the paper's GPT-4o
row). The estimands:

* two-stage interval: the value's score over its keyword *population*, the mean p(yes) of the
  value's keyword distribution (the profile's number);
* image-level interval: the value's score over *these* keywords, the mean of the drawn
  keywords' mean p(yes) (images and answers random, keywords fixed).

Run with ``python -m pytest tests/stats/test_coverage.py --runslow -s`` to see the figures.
"""

from __future__ import annotations

import numpy as np
import pytest

from valuespectrum.stats.bootstrap import (
    Layout,
    draw_weights,
    percentile_interval,
    ratio_replicates,
)

PROFILE = np.array([78, 56, 76, 86, 80, 78, 86, 68, 88, 90]) / 100  # the paper's GPT-4o row
KEYWORDS = 10
SEEDS = 1000
N_BOOT = 1000
KEYWORD_SD = 0.08  # spread of keyword means around the value's score
IMAGE_SD = 0.10  # spread of image p(yes) around the keyword's mean


def _beta(rng: np.random.Generator, mean: np.ndarray, sd: float) -> np.ndarray:
    """Beta draws with the given means and sd (mean clipped into (0.02, 0.98))."""
    mean = np.clip(mean, 0.02, 0.98)
    concentration = np.maximum(mean * (1 - mean) / sd**2 - 1, 0.5)
    return rng.beta(mean * concentration, (1 - mean) * concentration)


def simulate(rng: np.random.Generator, k: int) -> tuple[np.ndarray, np.ndarray]:
    """(truth over these keywords per value, answers): K keywords x k images per value."""
    mu = _beta(rng, np.repeat(PROFILE, KEYWORDS), KEYWORD_SD)
    p = _beta(rng, np.repeat(mu, k), IMAGE_SD)
    answers = (rng.random(p.size) < p).astype(float)
    return mu.reshape(len(PROFILE), KEYWORDS).mean(axis=1), answers


def coverage(k: int, method: str, seeds: int = SEEDS) -> tuple[float, float]:
    """Share of 95% intervals that hold their estimand, and mean width (points)."""
    v = len(PROFILE)
    e = v * KEYWORDS * k
    layout = Layout(np.arange(e), np.repeat(np.arange(v * KEYWORDS), k),
                    np.repeat(np.arange(v), KEYWORDS))  # fmt: skip
    rng = np.random.default_rng([2026, k])
    hits, width = 0, 0.0
    for _ in range(seeds):
        these_keywords, answers = simulate(rng, k)
        truth = 100 * (PROFILE if method == "two_stage" else these_keywords)
        reps = ratio_replicates(answers, np.ones(e), layout, draw_weights(layout, N_BOOT, rng),
                                method=method)  # fmt: skip
        lo, hi = percentile_interval(reps.groups, 0.025, 0.975)
        hits += int(((lo <= truth) & (truth <= hi)).sum())
        width += float((hi - lo).sum())
    return hits / (seeds * v), width / (seeds * v)


@pytest.mark.slow
@pytest.mark.parametrize("method", ["two_stage", "images"])
@pytest.mark.parametrize("k", [2, 5])
def test_95_percent_intervals_cover_93_to_97_percent(k: int, method: str) -> None:
    """10,000 intervals per case (1000 seeds x 10 values): the binomial sd of the measured
    coverage is 0.2 points, so 93-97% is a band of about 9 sd either side of the nominal 95%."""
    covered, width = coverage(k, method)
    print(f"\ncoverage k={k} {method}: {100 * covered:.1f}% (mean width {width:.1f} points)")
    assert 0.93 <= covered <= 0.97
