"""Spread against binomial noise and the homogeneity test, by hand and against scipy; and what
they say about the paper's own table."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import chi2_contingency

from valuespectrum.report.paper import INTRINSIC, PAPER_STD
from valuespectrum.stats.spread import (
    chi_square,
    homogeneity_test,
    noise_corrected_std,
    noise_variance,
    spread_summary,
)


def test_noise_at_fifty_images_and_p_08_is_about_5_7_points() -> None:
    assert np.sqrt(noise_variance([80.0] * 10, [50] * 10)) == pytest.approx(5.657, abs=1e-3)


def test_noise_corrected_std_by_hand() -> None:
    scores, n = [70.0, 90.0], [100, 100]  # s^2 = 200; noise mean(21, 9) = 15
    assert noise_corrected_std(scores, n) == pytest.approx(np.sqrt(185))
    assert noise_corrected_std([80.0, 81.0], [10, 10]) == 0.0  # noise explains it all
    assert np.isnan(noise_corrected_std([80.0], [10]))


@pytest.mark.parametrize("model", sorted(INTRINSIC))
def test_chi_square_matches_scipy_on_the_papers_table(model: str) -> None:
    yes = np.array(list(INTRINSIC[model].values())) / 2  # 50 images per value
    n = np.full(10, 50.0)
    expected, p_expected = chi2_contingency(np.array([yes, n - yes]))[:2]
    test = homogeneity_test(yes, n)
    assert (test.statistic, test.df, test.method) == (pytest.approx(expected), 9, "chi-square")
    assert test.p == pytest.approx(p_expected)
    assert chi_square(yes, n)[0] == pytest.approx(expected)


def test_permutation_agrees_with_chi_square_where_both_hold() -> None:
    yes = np.array([40, 25, 30, 35, 38, 30, 28, 33, 36, 31], float)
    n = np.full(10, 50.0)
    units = (np.repeat(np.arange(10), 50),
             np.concatenate([[1] * int(y) + [0] * int(50 - y) for y in yes]),
             np.ones(500))  # fmt: skip
    chi = homogeneity_test(yes, n)
    units2 = (*units[:2], units[2] * 2)  # two agreeing samples per image: permutation
    perm = homogeneity_test(yes * 2, n * 2, units=(units2[0], units[1] * 2, units2[2]),
                            n_perm=4000, rng=np.random.default_rng(0))  # fmt: skip
    assert perm.method == "permutation"
    # Each image's two samples count once as a unit, so the permutation p is that of the
    # 50-image table, not of the doubled counts chi-square would see.
    assert perm.p == pytest.approx(chi.p, abs=0.03)
    assert homogeneity_test(yes * 2, n * 2).p < chi.p / 5  # what pooling the samples would claim


def test_small_counts_use_the_permutation_test() -> None:
    yes, n = np.array([5, 0, 0], float), np.array([5, 5, 5], float)
    units = (np.repeat(np.arange(3), 5), np.array([1] * 5 + [0] * 10), np.ones(15))
    test = homogeneity_test(yes, n, units=units, n_perm=2000, rng=np.random.default_rng(0))
    assert test.method == "permutation"
    # exact: only the 3 arrangements with all five yes in one value reach this X^2
    exact = 3 / (15 * 14 * 13 * 12 * 11 / 120)
    assert test.p == pytest.approx(exact, abs=0.004)


def _one_draw_p(yes, n, units, n_perm: int, seed: int) -> float:
    """The permutation p-value from one (n_perm, units) draw of shuffle keys: what the test
    computed before it went through its shuffles block by block."""
    group, u_yes, u_n = units
    order = np.argsort(group, kind="stable")
    group, u_yes, u_n = group[order], u_yes[order], u_n[order]
    rate = yes.sum() / n.sum()
    x2 = chi_square(yes, n)[0]
    starts = np.unique(group, return_index=True)[1]
    perms = np.argsort(np.random.default_rng(seed).random((n_perm, len(group))), axis=1)
    y_p, n_p = (np.add.reduceat(a[perms], starts, axis=1) for a in (u_yes, u_n))
    stat = ((y_p - n_p * rate) ** 2 / (n_p * rate)
            + (n_p - y_p - n_p * (1 - rate)) ** 2 / (n_p * (1 - rate))).sum(axis=1)
    return (1 + int((stat >= x2 - 1e-9).sum())) / (1 + n_perm)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_shuffles_drawn_block_by_block_give_the_p_value_of_one_draw(seed: int) -> None:
    """Reported p-values do not depend on how the shuffles are split into blocks: 2,500
    shuffles of 900 images (several blocks, the last one short) give exactly the p-value of
    one draw of every shuffle key."""
    rng = np.random.default_rng(100 + seed)
    group = rng.integers(0, 10, 900)
    u_n = np.full(900, 3.0)  # three samples per image: the permutation test
    u_yes = np.minimum(u_n, rng.binomial(3, 0.55 + 0.004 * group)).astype(float)
    yes, n = np.bincount(group, u_yes, 10), np.bincount(group, u_n, 10)
    test = homogeneity_test(yes, n, units=(group, u_yes, u_n), n_perm=2500,
                            rng=np.random.default_rng(seed))  # fmt: skip
    assert test.method == "permutation"
    assert test.p == _one_draw_p(yes, n, (group, u_yes, u_n), 2500, seed)


def test_one_rate_everywhere_is_not_rejected_and_degenerate_tables_are_nan() -> None:
    assert homogeneity_test(np.full(10, 40.0), np.full(10, 50.0)).p == 1.0
    assert np.isnan(homogeneity_test(np.array([3.0]), np.array([5.0])).p)


def test_the_papers_stds_against_their_noise() -> None:
    """spread_summary reproduces every published std and says which spreads binomial noise
    alone could give: Gemini 2.0 Flash's std (4.02) is below its noise (4.4)."""
    summaries = {m: spread_summary(p) for m, p in INTRINSIC.items()}
    for model, reported in PAPER_STD.items():
        assert summaries[model]["std"] == pytest.approx(reported, abs=0.1)
    gemini = summaries["gemini-2.0-flash"]
    assert gemini["noise_std"] == pytest.approx(4.43, abs=0.01)
    assert gemini["std_noise_corrected"] == 0.0 and gemini["homogeneity_p"] > 0.5
    assert summaries["gpt-4o"]["std_noise_corrected"] == pytest.approx(8.66, abs=0.01)
    assert summaries["blip-2"]["homogeneity_p"] < 1e-6
    assert summaries["deepseek-vl2"]["homogeneity_p"] > 0.2
