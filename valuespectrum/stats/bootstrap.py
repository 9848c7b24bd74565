"""A two-stage weighted bootstrap of pooled ratios and its intervals (numpy + scipy.special).

The data are *entries*: one (value, keyword, screenshot) with a numerator (yes answers, or a
summed p(yes)) and a denominator (answers). Entries are sorted so that each keyword (a
*stratum*) is a run and each value (a *group*) a run of strata. A screenshot retrieved for
several values is several entries but one *unit*.

How a replicate is made, and why:

* **One weight per screenshot.** Each replicate draws one weight per unique screenshot,
  ``Exp(1)`` (Rubin's Bayesian bootstrap), and every entry of that screenshot uses it: in each
  value, keyword and every score built from them (centred, higher-order, std), so their
  replicates keep the covariance that shared screenshots create. Exponential weights are never
  zero all at once, so no keyword's resampled ratio is ever 0/0 (Poisson weights leave a keyword
  of two images empty in 14% of replicates).
* **Smoothing, so small keywords do not collapse.** With two images per keyword, two equal
  answers give a keyword no variation at all (at p(yes) = 0.8 that is 68% of keywords), and the
  interval comes out too narrow (84% coverage at k=2 before this). Each keyword's resample
  therefore also carries pseudo-answers worth ``prior`` answers at the value's own rate, smoothed
  by half an answer each way (Jeffreys), as Gamma weights: for yes/no data a keyword's resampled
  rate is then exactly Beta(yes + prior·t, no + prior·(1 - t)), a posterior that never collapses.
* **Unbiased variance.** A Dirichlet-weighted mean of m draws has (m - 1)/(m + 1) of the sampling
  variance (the plain bootstrap (m - 1)/m); with the prior, the factor is
  m((m + a)² - m)/((m + a)²(m + a + 1)). Each keyword's deviations from their mean are scaled by
  the inverse square root, so the replicate variance is unbiased on average (derived for yes/no
  answers at the value's rate; the n/(n - 1) correction is its a = 0, plain-bootstrap case).
* **Few groups.** A variance estimated from few keywords (or pairs) is itself uncertain, so a
  normal-quantile interval undercovers (91% with ten keywords). Deviations are scaled by
  t(df)/z at the interval's level, with df = keywords - 1 (two-stage) or Σ(images - 1)
  (image-level): the percentile interval then matches Student's where the bootstrap is normal.
* **Two stages.** The image stage (weights above) treats the keywords as fixed: its interval
  covers the value's score over *these* keywords. The keyword stage draws ``Exp(1)`` weights per
  keyword. The variance of the keyword-weighted ratio already contains the within-keyword noise
  once (Cochran: the between-cluster variance estimate is unbiased for the total), so adding
  both stages in full would count it twice; the keyword stage adds only what the image stage
  lacks, scaled by √max(0, 1 - V_images / V_keywords). The two-stage interval covers the value's
  score over its keyword *population* and is never narrower than the image-level one.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

METHODS: tuple[str, ...] = ("two_stage", "images")
PRIOR_ANSWERS = 2.0  # pseudo-answers per keyword (coverage: tests/stats/test_coverage.py)
_CHUNK_ELEMENTS = 20_000_000  # bounds memory per chunk of replicates for large tables


def runs(labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Labels and start positions of the runs of equal consecutive labels."""
    if len(labels) == 0:
        return labels, np.zeros(0, dtype=int)
    change = np.ones(len(labels), dtype=bool)
    change[1:] = labels[1:] != labels[:-1]
    starts = np.flatnonzero(change)
    return labels[starts], starts


@dataclass(frozen=True)
class Layout:
    """Where entries, keywords and values sit: ``unit`` (E,) is each entry's screenshot
    (0..n_units-1); ``strata`` (E,) each entry's keyword index (0..K-1, non-decreasing);
    ``groups`` (K,) each keyword's value index (0..V-1, non-decreasing)."""

    unit: np.ndarray
    strata: np.ndarray
    groups: np.ndarray

    @property
    def n_units(self) -> int:
        return int(self.unit.max()) + 1 if len(self.unit) else 0

    @property
    def n_strata(self) -> int:
        return len(self.groups)

    @property
    def n_groups(self) -> int:
        return int(self.groups.max()) + 1 if len(self.groups) else 0


@dataclass(frozen=True)
class Weights:
    """One replicate set: ``units`` (B, n_units) screenshot weights, ``strata`` (B, K) keyword
    weights, and the generator that draws the smoothing pseudo-answers."""

    units: np.ndarray
    strata: np.ndarray
    rng: np.random.Generator


def draw_weights(layout: Layout, n_boot: int, rng: np.random.Generator) -> Weights:
    """Exp(1) weights per screenshot and per keyword for ``n_boot`` replicates."""
    return Weights(
        rng.standard_exponential((n_boot, layout.n_units)),
        rng.standard_exponential((n_boot, layout.n_strata)),
        rng,
    )


@dataclass(frozen=True)
class Replicates:
    """A statistic's point values and replicates, per value (V) and per keyword (K).

    ``groups`` (B, V) are replicates of ``100 * Σnum / Σden`` per value under the chosen method,
    already scaled for small groups; ``strata`` (B, K) those of each keyword's ratio (image
    stage, smoothed and scaled, no t factor). Values and keywords without answers are NaN.
    """

    point: np.ndarray
    groups: np.ndarray
    stratum_point: np.ndarray
    strata: np.ndarray
    df: np.ndarray


def ratio_replicates(
    num: np.ndarray, den: np.ndarray, layout: Layout, weights: Weights, *,
    method: str = "two_stage", ci: float = 0.95, prior: float = PRIOR_ANSWERS,
) -> Replicates:  # fmt: skip
    """Replicates of the pooled ratio per value and per keyword (see the module docstring)."""
    if method not in METHODS:
        raise ValueError(f"interval method {method!r} is not known; use one of {METHODS}")
    num, den = np.asarray(num, float), np.asarray(den, float)
    k_idx, g_idx = layout.strata, layout.groups
    n_k = np.bincount(k_idx, den, layout.n_strata)
    y_k = np.bincount(k_idx, num, layout.n_strata)
    m_k = np.bincount(k_idx, den > 0, layout.n_strata).astype(float)
    n_v = np.bincount(g_idx, n_k, layout.n_groups)
    y_v = np.bincount(g_idx, y_k, layout.n_groups)
    with np.errstate(invalid="ignore", divide="ignore"):
        r_k = np.where(n_k > 0, y_k / n_k, np.nan)
        t_v = np.where(n_v > 0, y_v / n_v, np.nan)
        per_answer = np.where(m_k > 0, n_k / np.maximum(m_k, 1), 0.0)  # answers per image
    smooth = np.nan_to_num((y_v + 0.5) / (n_v + 1.0), nan=0.5)[g_idx]  # Jeffreys, per keyword
    a = prior
    scale_k = np.zeros(layout.n_strata)
    ok = m_k > 0
    mk = m_k[ok]
    inflation = mk * ((mk + a) ** 2 - mk)  # 0 for one image without a prior: nothing to vary
    scale_k[ok] = np.sqrt(np.divide((mk + a) ** 2 * (mk + a + 1), inflation,
                                    out=np.zeros_like(mk), where=inflation > 0))
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_k = np.where(ok, (y_k + a * per_answer * smooth) / (n_k + a * per_answer), 0.0)

    per_stratum = _StratumSums(layout, num, den)
    to_group = _GroupSum(g_idx, layout.n_groups)
    parts_img, parts_kw, parts_k = [], [], []
    n_boot = weights.units.shape[0]
    chunk = max(1, _CHUNK_ELEMENTS // max(layout.n_units + layout.n_strata, 1))
    for start in range(0, n_boot, chunk):
        w = weights.units[start : start + chunk]
        b = w.shape[0]
        p1 = weights.rng.gamma(np.maximum(a * smooth, 1e-12), size=(b, layout.n_strata))
        p0 = weights.rng.gamma(np.maximum(a * (1 - smooth), 1e-12), size=(b, layout.n_strata))
        s_num, s_den = per_stratum(w)
        top = s_num + per_answer * p1
        bottom = s_den + per_answer * (p1 + p0)
        with np.errstate(invalid="ignore", divide="ignore"):
            dev_k = np.where(ok, scale_k * (top / bottom - mean_k), 0.0)  # (b, K)
        parts_img.append(to_group(dev_k * n_k) / np.where(n_v > 0, n_v, 1))
        parts_k.append(np.where(ok, r_k + dev_k, np.nan))
        parts_kw.append(_keyword_stage(weights.strata[start : start + chunk], y_k, n_k,
                                       to_group, t_v))  # fmt: skip
    d_img, d_kw = np.concatenate(parts_img), np.concatenate(parts_kw)
    df_img = np.bincount(g_idx, np.maximum(m_k - 1, 0), layout.n_groups)
    if method == "two_stage":
        v_img, v_kw = d_img.var(axis=0), d_kw.var(axis=0)
        with np.errstate(invalid="ignore", divide="ignore"):
            lam = np.sqrt(np.clip(1 - v_img / v_kw, 0, None))
        lam = np.nan_to_num(lam)
        dev = d_img + lam * d_kw
        keywords = np.bincount(g_idx, n_k > 0, layout.n_groups)
        df = np.where(lam > 0, keywords - 1, df_img).astype(float)
    else:
        dev, df = d_img, df_img.astype(float)
    groups = np.clip(t_v + student_factor(df, ci) * dev, 0, 1)
    strata = np.clip(np.concatenate(parts_k), 0, 1)
    with np.errstate(invalid="ignore", divide="ignore"):  # 100·y/n exactly, as the paper's
        point_v = np.where(n_v > 0, 100 * y_v / n_v, np.nan)
        point_k = np.where(n_k > 0, 100 * y_k / n_k, np.nan)
    return Replicates(point_v, 100 * groups, point_k, 100 * strata, df)


class _StratumSums:
    """Weighted sums of numerator and denominator per keyword for screenshot weights (b, S).

    A matrix product with the (S, K) entry matrix costs b·S·K, a gather of each entry's weight
    and ``np.add.reduceat`` over the keyword runs b·E: the cheaper one is taken (the product
    for the demo's 368 screenshots and 100 keywords, the gather for thousands of keywords)."""

    def __init__(self, layout: Layout, num: np.ndarray, den: np.ndarray) -> None:
        self.layout, self.num, self.den = layout, num, den
        self.dense = layout.n_units * layout.n_strata <= 4 * len(num)
        if self.dense:
            shape = (layout.n_units, layout.n_strata)
            self.to_num, self.to_den = np.zeros(shape), np.zeros(shape)
            np.add.at(self.to_num, (layout.unit, layout.strata), num)
            np.add.at(self.to_den, (layout.unit, layout.strata), den)
        else:
            self.labels, self.starts = runs(layout.strata)

    def __call__(self, w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        if self.dense:
            return w @ self.to_num, w @ self.to_den
        out = []
        entry_w = w[:, self.layout.unit]
        for x in (self.num, self.den):
            sums = np.zeros((w.shape[0], self.layout.n_strata))
            if len(x):
                sums[:, self.labels] = np.add.reduceat(entry_w * x, self.starts, axis=1)
            out.append(sums)
        return out[0], out[1]


class _GroupSum:
    """Sums over the keywords of each value, along the last axis (keywords sorted by value).

    ``np.add.reduceat``: a matrix product with a 0/1 matrix costs 20x more at these sizes."""

    def __init__(self, groups: np.ndarray, n_groups: int) -> None:
        self.labels, self.starts = runs(groups)
        self.n_groups = n_groups

    def __call__(self, x: np.ndarray) -> np.ndarray:
        out = np.zeros((*x.shape[:-1], self.n_groups))
        if x.shape[-1]:
            out[..., self.labels] = np.add.reduceat(x, self.starts, axis=-1)
        return out


def _keyword_stage(h, y_k, n_k, to_group: _GroupSum, t_v) -> np.ndarray:
    """Deviations of the keyword-weighted ratio per value, scaled to unbiased variance."""
    keywords = to_group((n_k > 0).astype(float))
    with np.errstate(invalid="ignore", divide="ignore"):
        scale = np.where(keywords > 1, np.sqrt((keywords + 1) / (keywords - 1)), 0.0)
        dev = scale * (to_group(h * y_k) / to_group(h * n_k) - t_v)
    return np.nan_to_num(dev)


def student_factor(df: np.ndarray, ci: float) -> np.ndarray:
    """t(df)/z at the two-sided level ``ci``; 1 where df is 0 (no data to estimate from)."""
    from scipy.special import ndtri, stdtrit

    q = 1 - (1 - ci) / 2
    df = np.asarray(df, float)
    safe = np.where(df > 0, df, 1.0)
    return np.where(df > 0, stdtrit(safe, q) / ndtri(q), 1.0)


def percentile_interval(boot: np.ndarray, lo: float, hi: float) -> tuple[np.ndarray, np.ndarray]:
    """Percentile interval per column; all-NaN columns (nothing answered) give NaN."""
    boot = np.asarray(boot, float).reshape(len(boot), -1)
    out = np.full((2, boot.shape[1]), np.nan)
    ok = ~np.all(np.isnan(boot), axis=0)
    if ok.any():
        part = boot[:, ok]  # nanquantile loops over columns in Python: only where NaNs are
        gaps = np.isnan(part).any(axis=0)
        q = np.empty((2, part.shape[1]))
        q[:, ~gaps] = np.quantile(part[:, ~gaps], [lo, hi], axis=0)
        if gaps.any():
            q[:, gaps] = np.nanquantile(part[:, gaps], [lo, hi], axis=0)
        out[:, ok] = q
    return out[0], out[1]


def basic_interval(point, boot: np.ndarray, lo: float, hi: float) -> tuple[np.ndarray, ...]:
    """The basic (reverse-percentile) interval ``[2θ - q_hi, 2θ - q_lo]``.

    For a statistic the resampling noise biases upwards, such as a std over noisy scores, the
    replicates sit above the estimate by about that bias; reflecting them removes it to first
    order, so the interval is one for the noise-free quantity.
    """
    q_lo, q_hi = percentile_interval(boot, lo, hi)
    point = np.asarray(point, float)
    return 2 * point - q_hi, 2 * point - q_lo
