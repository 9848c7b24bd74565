"""The circumplex cosine fit: known answers, a least-squares cross-check, shared wedges and the
permutation p-value against an exact enumeration."""

from __future__ import annotations

from itertools import permutations

import numpy as np
import pytest

from valuespectrum.stats.circumplex import circumplex_fit
from valuespectrum.values import CIRCUMPLEX_ANGLES, CIRCUMPLEX_LAYOUTS, VALUES


def cosine(peak: float, amplitude: float = 20.0, angles=CIRCUMPLEX_ANGLES) -> dict[str, float]:
    return {v: 60 + amplitude * np.cos(np.radians(a - peak)) for v, a in angles.items()}


def test_a_pure_cosine_fits_fully_with_its_peak_amplitude_and_a_small_p() -> None:
    fit = circumplex_fit(cosine(peak=144.0))  # Power sits at 4 x 36 degrees
    assert fit.share == pytest.approx(1.0)
    assert fit.peak == "power" and fit.phase == pytest.approx(144.0)
    assert fit.amplitude == pytest.approx(20.0)
    assert fit.p < 0.005


def test_share_is_the_r2_of_a_least_squares_cosine_with_intercept() -> None:
    rng = np.random.default_rng(3)
    angles = CIRCUMPLEX_LAYOUTS["shared_wedge"]  # Conformity and Tradition at one angle
    profile = {v: float(x) for v, x in zip(VALUES, rng.uniform(30, 90, 10), strict=True)}
    theta = np.radians([angles[v] for v in VALUES])
    x = np.array([profile[v] for v in VALUES])
    design = np.column_stack([np.ones(10), np.cos(theta), np.sin(theta)])
    resid = x - design @ np.linalg.lstsq(design, x, rcond=None)[0]
    r2 = 1 - resid @ resid / ((x - x.mean()) @ (x - x.mean()))
    assert circumplex_fit(profile, angles).share == pytest.approx(r2)


def test_equal_steps_give_the_first_fourier_harmonic() -> None:
    rng = np.random.default_rng(4)
    x = rng.uniform(30, 90, 10)
    f = np.fft.rfft(x - x.mean())
    expected = 2 * abs(f[1]) ** 2 / 10 / ((x - x.mean()) @ (x - x.mean()))
    fit = circumplex_fit(dict(zip(VALUES, x, strict=True)))
    assert fit.share == pytest.approx(expected)


def test_shared_wedge_puts_conformity_and_tradition_together() -> None:
    angles = CIRCUMPLEX_LAYOUTS["shared_wedge"]
    assert angles["conformity"] == angles["tradition"]
    assert len(set(angles.values())) == 9
    fit = circumplex_fit(cosine(peak=240.0, angles=angles), angles)
    assert fit.share == pytest.approx(1.0) and fit.peak in ("conformity", "tradition")


def test_permutation_p_matches_exact_enumeration() -> None:
    """Six values: all 720 arrangements enumerated give the exact p; the Monte Carlo p is close."""
    names = VALUES[:6]
    angles = {v: 60.0 * i for i, v in enumerate(names)}
    scores = np.array([70.0, 64.0, 50.0, 47.0, 58.0, 61.0])
    observed = circumplex_fit(dict(zip(names, scores, strict=True)), angles, n_perm=20000,
                              rng=np.random.default_rng(0))  # fmt: skip
    shares = [
        circumplex_fit(dict(zip(names, scores[list(p)], strict=True)), angles, n_perm=99).share
        for p in permutations(range(6))
    ]
    exact = np.mean(np.array(shares) >= observed.share - 1e-12)
    assert observed.p == pytest.approx(exact, abs=0.01)


def test_flat_or_too_small_profiles_give_nan() -> None:
    assert np.isnan(circumplex_fit(dict.fromkeys(VALUES, 50.0)).share)
    assert circumplex_fit(dict.fromkeys(VALUES, 50.0)).peak is None
    assert np.isnan(circumplex_fit({"power": 1.0, "security": 3.0, "hedonism": 2.0}).p)
