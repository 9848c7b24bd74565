"""One summary row per model: level, spread against noise, circumplex structure, groups.

``model_summary`` needs only the per-value scores table (so it also reads published tables and
stored score rows); ``replicate_summary`` adds what needs the bootstrap replicates and the
per-image answers: intervals of the std and of the higher-order scores, the permutation
homogeneity test where chi-square does not hold, and the flip rate.
"""

from __future__ import annotations

import zlib
from typing import Any

import numpy as np
import pandas as pd

from valuespectrum.stats.bootstrap import basic_interval, percentile_interval
from valuespectrum.stats.circumplex import circumplex_fit
from valuespectrum.stats.spread import (
    homogeneity_test,
    noise_corrected_std,
    noise_variance,
)
from valuespectrum.values import HedonismGroup, higher_order_groups


def model_summary(
    scores: pd.DataFrame, hedonism_in: HedonismGroup = "openness_to_change", *,
    angles: dict[str, float] | None = None, n_perm: int = 9999, seed: int = 0,
) -> pd.DataFrame:  # fmt: skip
    """One row per model from its scores table (``scoring.SCORE_COLUMNS``).

    ``std`` is the sample std (ddof=1) over the value scores, the convention that reproduces the
    paper's stds. ``noise_std`` is the std binomial noise alone gives (√ of the mean squared
    ``noise_se``, or of mean p(1 - p)/n without it), ``std_noise_corrected`` √max(0, std² -
    noise_std²). ``homogeneity_p``: chi-square test that all values share one yes-rate (from
    ``n_yes`` and ``n``). ``circumplex_fit`` (share of the centred profile's variance one cosine
    on ``angles`` explains), ``circumplex_p`` (permutation) and ``circumplex_peak``. Each
    higher-order score is the mean of its members' scores; ``*_centred`` subtracts the model's
    mean.
    """
    groups = higher_order_groups(hedonism_in)
    rows = []
    for model, block in scores.groupby("model", sort=False):
        block = block[block["score"].notna()]
        s = pd.Series(block["score"].to_numpy(float), index=block["value"])
        noise = _noise_args(block)
        row: dict[str, Any] = {
            "model": model, "n_values": len(s), "mean": s.mean(), "std": s.std(ddof=1),
            "noise_std": float(np.sqrt(noise_variance(*noise))),
            "std_noise_corrected": noise_corrected_std(*noise),
        }  # fmt: skip
        test = homogeneity_test(block["n_yes"].to_numpy(float), block["n"].to_numpy(float))
        row.update(homogeneity_chi2=test.statistic, homogeneity_df=test.df,
                   homogeneity_p=test.p, homogeneity_method=test.method)  # fmt: skip
        for name, members in groups.items():
            row[name] = s.reindex(members).mean()
        for name in groups:
            row[f"{name}_centred"] = row[name] - row["mean"]
        fit = circumplex_fit(s.to_dict(), angles, n_perm=n_perm,
                             rng=np.random.default_rng([seed, zlib.crc32(str(model).encode())]))
        row.update(circumplex_fit=fit.share, circumplex_p=fit.p, circumplex_peak=fit.peak)
        rows.append(row)
    return pd.DataFrame(rows)


def _noise_args(block: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """(scores, n, per-value noise variances or None) for ``stats.spread``: the variances are
    ``noise_se²`` where the table has any ``noise_se``, else the binomial one from ``n``."""
    scores, n = block["score"].to_numpy(float), block["n"].to_numpy(float)
    if "noise_se" in block and block["noise_se"].notna().any():
        se = block["noise_se"].to_numpy(float)
        return scores, np.where(np.isnan(se), 0.0, n), se**2
    return scores, n, None


def replicate_summary(
    model: str, values: list[str], main, units, *, hedonism_in: HedonismGroup, ci: float,
    n_perm: int, seed: int,
) -> dict[str, Any]:  # fmt: skip
    """What the bootstrap replicates and per-image answers add to ``model_summary``'s row.

    ``std_ci_low``/``std_ci_high``: the basic bootstrap interval of the std over values. The
    replicates' std sits above the estimate by about the resampling noise, so the reflected
    interval is one for the noise-free spread, the quantity ``std_noise_corrected`` estimates
    (clipped at 0). Higher-order intervals are percentile intervals of the members' mean.
    """
    lo_q, hi_q = (1 - ci) / 2, 1 - (1 - ci) / 2
    boot = main.groups  # (B, V), columns in ``values`` order
    ok = ~np.isnan(main.point)
    row: dict[str, Any] = {"model": model}
    if ok.sum() > 1:
        std_boot = np.std(boot[:, ok], axis=1, ddof=1)
        point = float(np.std(main.point[ok], ddof=1))
        lo, hi = basic_interval(point, std_boot[:, None], lo_q, hi_q)
        row["std_ci_low"], row["std_ci_high"] = max(0.0, float(lo[0])), max(0.0, float(hi[0]))
    else:
        row["std_ci_low"] = row["std_ci_high"] = float("nan")
    for name, members in higher_order_groups(hedonism_in).items():
        cols = [values.index(v) for v in members if v in values and ok[values.index(v)]]
        if cols:
            lo, hi = percentile_interval(boot[:, cols].mean(axis=1)[:, None], lo_q, hi_q)
            row[f"{name}_ci_low"], row[f"{name}_ci_high"] = float(lo[0]), float(hi[0])
        else:
            row[f"{name}_ci_low"] = row[f"{name}_ci_high"] = float("nan")
    group, yes, valid, unit = units
    per_value_yes = np.bincount(group, yes, len(values))
    per_value_n = np.bincount(group, valid, len(values))
    test = homogeneity_test(per_value_yes, per_value_n, n_perm=n_perm, units=(group, yes, valid),
                            rng=np.random.default_rng([seed, zlib.crc32(model.encode()), 1]))
    row.update(homogeneity_chi2=test.statistic, homogeneity_df=test.df, homogeneity_p=test.p,
               homogeneity_method=test.method)  # fmt: skip
    first = np.unique(unit, return_index=True)[1]  # a screenshot's answers are the same in
    multi = valid[first] >= 2  # every value it serves: count each screenshot once
    flipped = multi & (yes[first] > 0) & (yes[first] < valid[first])
    row["flip_rate"] = float(flipped.sum() / multi.sum()) if multi.any() else float("nan")
    return row

