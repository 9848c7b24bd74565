"""The two-stage weighted bootstrap: shared screenshot weights, the small-group corrections and
the two stages, against hand-computed variances."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from valuespectrum.config.probe import INTERVALS
from valuespectrum.stats.bootstrap import (
    METHODS,
    Layout,
    basic_interval,
    draw_weights,
    percentile_interval,
    ratio_replicates,
)


def layout(values: int, keywords: int, images: int) -> Layout:
    """Every entry its own screenshot; ``keywords`` per value, ``images`` per keyword."""
    e = values * keywords * images
    return Layout(np.arange(e), np.repeat(np.arange(values * keywords), images),
                  np.repeat(np.arange(values), keywords))  # fmt: skip


def replicates(y, lay, *, n_boot=4000, seed=0, **kw):
    rng = np.random.default_rng(seed)
    return ratio_replicates(np.asarray(y, float), np.ones(len(y)), lay,
                            draw_weights(lay, n_boot, rng), **kw)  # fmt: skip


def test_config_and_bootstrap_name_the_same_methods() -> None:
    assert INTERVALS == METHODS


def test_point_is_the_pooled_score_and_keyword_scores_are_theirs() -> None:
    r = replicates([1, 1, 0, 1, 0, 0], layout(1, 2, 3))
    assert r.point[0] == pytest.approx(50.0)
    assert r.stratum_point == pytest.approx([200 / 3, 100 / 3])


def test_without_prior_pairs_get_the_unbiased_variance() -> None:
    """Keywords of two images, one yes and one no: the Bayesian bootstrap draws U(0, 1) for
    each, variance 1/12; scaled by (m + 1)/(m - 1) = 3 it is 1/4 = s^2/m, the unbiased
    variance of a mean of two (s^2 = 1/2). The plain bootstrap gives half of that (84% coverage
    at k=2). Over K such keywords the value's score has variance 1/(4K)."""
    k = 100
    r = replicates(np.tile([1, 0], k), layout(1, k, 2), n_boot=8000, prior=0.0,
                   method="images")  # fmt: skip
    factor = stats.t.ppf(0.975, k) / stats.norm.ppf(0.975)  # df = K(m - 1)
    assert np.var(r.groups[:, 0] / 100) == pytest.approx(factor**2 / (4 * k), rel=0.05)


def _scaled_beta_var(x, m, a, t):
    """c^2 Var(Beta(x + a t, m - x + a (1 - t))): one keyword's smoothed, scaled variance."""
    alpha, beta = x + a * t, m - x + a * (1 - t)
    c2 = (m + a) ** 2 * (m + a + 1) / (m * ((m + a) ** 2 - m))
    return c2 * alpha * beta / ((alpha + beta) ** 2 * (alpha + beta + 1))


def test_the_smoothing_prior_keeps_the_variance_unbiased_for_binary_answers() -> None:
    """With the prior, a pair of agreeing answers still varies, and averaged over what two
    yes/no answers at p = 0.8 can be (binomial x), the scaled variance is p(1 - p)/m = 0.08."""
    expected = sum(stats.binom.pmf(x, 2, 0.8) * _scaled_beta_var(x, 2, 2.0, 0.8) for x in range(3))
    assert expected == pytest.approx(0.08)
    assert _scaled_beta_var(2, 2, 2.0, 0.8) > 0.02  # two yes: no collapse


def test_bootstrap_variance_is_the_smoothed_one() -> None:
    k = 150
    y = (np.random.default_rng(1).random(2 * k) < 0.8).astype(float)
    r = replicates(y, layout(1, k, 2), n_boot=6000, method="images")
    t = (y.sum() + 0.5) / (len(y) + 1)  # the value's rate, smoothed by half an answer each way
    x = y.reshape(k, 2).sum(axis=1)
    factor = stats.t.ppf(0.975, k) / stats.norm.ppf(0.975)
    expected = factor**2 * _scaled_beta_var(x, 2, 2.0, t).sum() / k**2
    assert np.var(r.groups[:, 0] / 100) == pytest.approx(expected, rel=0.06)


def test_student_factor_widens_intervals_from_few_keywords() -> None:
    """Ten keywords of one image each: the two-stage spread is (t_9 / z) times the normal one."""
    rng = np.random.default_rng(2)
    y = (rng.random(10) < 0.6).astype(float)
    lay = layout(1, 10, 1)
    wide = replicates(y, lay, n_boot=20000, ci=0.95, method="two_stage")
    assert wide.df[0] == 9
    factor = stats.t.ppf(0.975, 9) / stats.norm.ppf(0.975)
    var_keywords = np.var(y, ddof=1) / 10  # the unbiased variance of the mean of ten
    spread = np.std(wide.groups[:, 0] / 100)
    assert spread == pytest.approx(factor * np.sqrt(var_keywords), rel=0.05)


def test_two_stage_adds_only_what_the_image_stage_lacks() -> None:
    """Keywords all alike: the keyword stage adds nothing (both methods agree). Keywords all
    different: the two-stage interval is far wider."""
    alike = np.tile([1, 0, 1, 1, 0], 10)  # every keyword 3/5
    img = replicates(alike, layout(1, 10, 5), method="images")
    two = replicates(alike, layout(1, 10, 5), method="two_stage")
    assert np.std(two.groups) == pytest.approx(np.std(img.groups), rel=0.05)
    apart = np.repeat([1, 0], 25)  # five keywords all yes, five all no
    img = replicates(apart, layout(1, 10, 5), method="images")
    two = replicates(apart, layout(1, 10, 5), method="two_stage")
    assert np.std(two.groups) > 2.5 * np.std(img.groups)


def test_a_screenshot_has_one_weight_in_every_value_it_serves() -> None:
    """Two values built from the same ten screenshots (same answers) move together in the
    replicates: without the smoothing prior exactly; with it nearly (each keyword draws its own
    pseudo-answers). Drawn apart, they would not be correlated at all."""
    y = np.tile([1, 0, 1, 1, 0, 1, 0, 1, 1, 0], 2).astype(float)
    shared = Layout(np.tile(np.arange(10), 2), np.repeat([0, 1], 10), np.array([0, 1]))
    apart = layout(2, 1, 10)

    def run(lay, **kw):
        w = draw_weights(lay, 4000, np.random.default_rng(0))
        return ratio_replicates(y, np.ones(20), lay, w, method="images", **kw).groups

    exact = run(shared, prior=0.0)
    assert np.array_equal(exact[:, 0], exact[:, 1])
    assert np.corrcoef(run(shared).T)[0, 1] > 0.75
    assert abs(np.corrcoef(run(apart).T)[0, 1]) < 0.1


def test_answers_without_a_denominator_and_empty_values() -> None:
    """An image with errors only has no answers: it neither scores nor counts as an image."""
    num = np.array([1, 0, 0, 0], float)
    den = np.array([1, 1, 0, 0], float)  # the second value has only errors
    lay = layout(2, 1, 2)
    r = ratio_replicates(num, den, lay, draw_weights(lay, 200, np.random.default_rng(0)))
    assert r.point[0] == 50.0 and np.isnan(r.point[1])
    assert np.isnan(r.groups[:, 1]).all() and not np.isnan(r.groups[:, 0]).any()


def test_unknown_method() -> None:
    with pytest.raises(ValueError, match="use one of"):
        replicates([1, 0], layout(1, 1, 2), method="poisson")


def test_percentile_and_basic_intervals() -> None:
    boot = np.column_stack([np.arange(101.0), np.full(101, np.nan)])
    lo, hi = percentile_interval(boot, 0.025, 0.975)
    assert (lo[0], hi[0]) == pytest.approx((2.5, 97.5)) and np.isnan(lo[1])
    lo, hi = basic_interval(60.0, boot[:, :1], 0.025, 0.975)  # 2·60 - q_hi, 2·60 - q_lo
    assert (lo[0], hi[0]) == pytest.approx((22.5, 117.5))
