"""How much a model's ten scores differ, measured against what binomial noise alone gives.

A model that likes everything equally still shows a spread: at 50 images and p(yes) ≈ 0.8 each
score has a noise std of √(0.8·0.2/50) ≈ 5.7 points, and so does the std over ten such scores.
``noise_corrected_std`` subtracts that noise variance; ``homogeneity_test`` asks whether the ten
yes-rates can be told from one common rate at all (numpy and scipy.special only, no I/O).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

MIN_EXPECTED = 5.0  # the usual rule for trusting the chi-square approximation


def noise_variance(scores, n, variances=None) -> float:
    """Mean noise variance of the scores (points²): mean(100² · p(1 - p) / n).

    ``variances`` (optional, points², e.g. the scores table's ``noise_se²``) is each score's own
    noise variance, used where it is finite in place of the binomial one. A score that is NaN, or
    has no answers (n = 0) and no variance of its own, is left out of the mean; NaN if none is
    left.
    """
    p = np.asarray(scores, float) / 100
    n = np.broadcast_to(np.asarray(n, float), p.shape)
    own = np.full(p.shape, np.nan) if variances is None else np.asarray(variances, float)
    with np.errstate(invalid="ignore", divide="ignore"):
        binomial = np.where(n > 0, 1e4 * p * (1 - p) / np.where(n > 0, n, 1), np.nan)
    var = np.where(np.isfinite(own), own, binomial)
    ok = ~np.isnan(p) & np.isfinite(var)
    if not ok.any():
        return float("nan")
    return float(np.mean(var[ok]))


def noise_corrected_std(scores, n, variances=None) -> float:
    """√max(0, s² - mean(p(1 - p)/n)) in points: the spread the noise does not explain.

    ``s`` is the sample std (ddof=1) of the scores; ``n`` the answers (images) behind each, or
    ``variances`` their own noise variances (see ``noise_variance``). E[s²] = sd² + mean noise
    variance when the scores are independent, so this is the moment estimate of sd, the std of
    the noise-free scores, truncated at zero. NaN with fewer than two scores or no noise
    estimate.
    """
    s = np.asarray(scores, float)
    s = s[~np.isnan(s)]
    noise = noise_variance(scores, n, variances)
    if len(s) < 2 or np.isnan(noise):
        return float("nan")
    return float(np.sqrt(max(0.0, s.var(ddof=1) - noise)))


@dataclass(frozen=True)
class Homogeneity:
    """Are the yes-rates distinguishable from one rate? ``p`` small: yes."""

    statistic: float  # Pearson's X² of the 2 x V table (yes, not yes)
    df: int
    p: float
    method: str  # "chi-square" | "permutation"


def chi_square(yes, n) -> tuple[float, int]:
    """Pearson's X² for the 2 x V table of yes and not-yes counts, and its df (V - 1)."""
    yes, n = np.asarray(yes, float), np.asarray(n, float)
    ok = n > 0
    yes, n = yes[ok], n[ok]
    total = n.sum()
    rate = yes.sum() / total if total else float("nan")
    if len(n) < 2 or rate in (0.0, 1.0) or rate != rate:
        return 0.0, max(len(n) - 1, 0)
    e_yes, e_no = n * rate, n * (1 - rate)
    x2 = ((yes - e_yes) ** 2 / e_yes + (n - yes - e_no) ** 2 / e_no).sum()
    return float(x2), len(n) - 1


def homogeneity_test(
    yes, n, *, rng: np.random.Generator | None = None, n_perm: int = 9999,
    units: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None,
) -> Homogeneity:  # fmt: skip
    """Test that all values share one yes-rate.

    With one answer per image and every expected count at least 5, Pearson's chi-square on the
    2 x V table (V - 1 df; what ``scipy.stats.chi2_contingency`` gives). Otherwise a Monte Carlo
    permutation test of the same statistic: ``units`` = (value index, yes, answers) per image
    entry; images are shuffled among the values (each keeps its own answers, so several samples
    of one image stay together), p = (1 + #{X²* ≥ X²}) / (1 + n_perm). A screenshot shared by
    two values makes their rates alike, so both tests are conservative then.
    """
    from scipy.special import chdtrc

    yes, n = np.asarray(yes, float), np.asarray(n, float)
    x2, df = chi_square(yes, n)
    if df < 1:
        return Homogeneity(x2, df, float("nan"), "chi-square")
    ok = n > 0
    rate = yes[ok].sum() / n[ok].sum()
    small = min((n[ok] * rate).min(), (n[ok] * (1 - rate)).min()) < MIN_EXPECTED
    several = units is not None and bool((units[2] > 1).any())
    if units is None or not (small or several):
        return Homogeneity(x2, df, float(chdtrc(df, x2)) if x2 > 0 else 1.0, "chi-square")
    rng = rng or np.random.default_rng(0)
    group, u_yes, u_n = (np.asarray(a) for a in units)
    order = np.argsort(group[u_n > 0], kind="stable")
    group = group[u_n > 0][order]
    u_yes, u_n = u_yes[u_n > 0][order].astype(float), u_n[u_n > 0][order].astype(float)
    _, starts = np.unique(group, return_index=True)
    at_least = 0
    for rows in _chunks(n_perm, len(group)):  # the same stream as one (n_perm, units) draw
        perms = np.argsort(rng.random((rows, len(group))), axis=1)  # one shuffle per row
        y_p = np.add.reduceat(u_yes[perms], starts, axis=1)
        n_p = np.add.reduceat(u_n[perms], starts, axis=1)
        e_y, e_n = n_p * rate, n_p * (1 - rate)
        with np.errstate(invalid="ignore", divide="ignore"):
            stat = np.nansum((y_p - e_y) ** 2 / e_y + (n_p - y_p - e_n) ** 2 / e_n, axis=1)
        at_least += int((stat >= x2 - 1e-9).sum())
    return Homogeneity(x2, df, (1 + at_least) / (1 + n_perm), "permutation")


def _chunks(n_rows: int, width: int, cells: int = 1 << 18) -> list[int]:
    """Row counts of blocks of about ``cells`` entries: a block's arrays stay in the CPU's
    cache instead of a fresh 20 MB each (drawn row by row, the numbers are the same)."""
    step = max(1, cells // max(width, 1))
    return [min(step, n_rows - start) for start in range(0, n_rows, step)]


def spread_summary(profile: Mapping[str, float], n: Mapping[str, float] | float = 50) -> dict:
    """The spread of one profile (value -> % yes) against its binomial noise.

    ``n`` is the images per value (the paper's 50 by default, or per value). Returns ``std``
    (ddof=1, the paper's), ``noise_std`` (√ of the mean binomial variance), ``std_noise_corrected``
    and the chi-square homogeneity test on counts rebuilt as score·n/100 (``homogeneity_p``).
    Works on published tables, which give scores only.
    """
    values = [v for v, s in profile.items() if s == s]
    scores = np.array([profile[v] for v in values], float)
    sizes = np.array([n[v] if isinstance(n, Mapping) else n for v in values], float)
    test = homogeneity_test(np.round(scores * sizes / 100), sizes)
    return {
        "std": float(np.std(scores, ddof=1)) if len(scores) > 1 else float("nan"),
        "noise_std": float(np.sqrt(noise_variance(scores, sizes))),
        "std_noise_corrected": noise_corrected_std(scores, sizes),
        "homogeneity_chi2": test.statistic,
        "homogeneity_df": test.df,
        "homogeneity_p": test.p,
    }
