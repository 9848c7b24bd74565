"""Preference scores from per-answer rows: counts, rates, bootstrap CIs, centring, circumplex fit.

The paper's score is ``100 * #yes / #images`` and it reports nothing else (paper.md section 4).
We keep that score so our numbers sit next to the paper's, but make its parts visible:

* Denominator. ``score = 100 * n_yes / n`` where ``n = yes + no + refusal + invalid``. A refusal
  or an unparseable answer is still the model's answer to the image and, as in the paper, counts
  as "not yes". An error (timeout, 429, crash) is not an answer at all: it says nothing about the
  model's taste, so it never enters any score, and ``error_rate`` reports how much was lost. A
  ``no_image`` reply ("I can't see any image") is a delivery failure, not an opinion: it is left
  out of every score like an error and counted apart (``n_no_image``, ``no_image_rate``).
  ``score_answered = 100 * yes / (yes + no)`` is the preference among clear answers only, so a
  model that refuses a lot is not read as disliking what it refused.
* Uncertainty. 50 images per value give wide intervals; ``ci_low``/``ci_high`` are percentile
  bootstrap intervals that resample images within each keyword (the retrieval design fixes how
  many images each keyword contributes, so the resample must too). Several samples of one image
  (temperature > 0, the optional ``sample`` column) stay together: the image, not the answer, is
  the unit, and each resample recomputes the same pooled ratio as the score, so the interval is
  centred on it. Keywords are held fixed, so the interval is conditional on the keyword list.
* Acquiescence. Raw yes-rates mix "says yes to everything" with preference; ``centred`` subtracts
  the model's mean over its values (ipsatization), which is what profiles should be compared on.
"""

from __future__ import annotations

import zlib

import numpy as np
import pandas as pd

from valuespectrum.stats.bootstrap import percentile_interval, runs, stratified_ratio_bootstrap
from valuespectrum.stats.circumplex import circumplex_fit, circumplex_r
from valuespectrum.stats.ranks import rank_correlation
from valuespectrum.values import VALUES, HedonismGroup, check_value, higher_order_groups

__all__ = [
    "OUTCOMES", "SCORE_COLUMNS", "circumplex_fit", "circumplex_r", "expected_scores",
    "model_summary", "profiles_from_scores", "rank_correlation", "score_table",
]

OUTCOMES: tuple[str, ...] = ("yes", "no", "refusal", "invalid", "no_image", "error")
REQUIRED_COLUMNS: tuple[str, ...] = ("model", "value", "keyword", "screenshot_id", "outcome")

SCORE_COLUMNS: tuple[str, ...] = (
    "model", "value", "higher_order", "score", "ci_low", "ci_high", "score_answered",
    "centred", "centred_ci_low", "centred_ci_high", "n", "n_images", "n_yes", "n_no",
    "n_refusal", "n_invalid", "n_error", "refusal_rate", "invalid_rate", "error_rate",
    "n_no_image", "no_image_rate",
)  # fmt: skip

def score_table(
    answers: pd.DataFrame,
    *,
    n_boot: int = 2000,
    ci: float = 0.95,
    seed: int = 0,
    hedonism_in: HedonismGroup = "openness_to_change",
) -> pd.DataFrame:
    """One row per (model, value) with the paper's score, its parts, a CI and the centred score.

    Columns are ``SCORE_COLUMNS``. ``n`` counts answers excluding errors (rows, so several
    samples per image count several times); ``refusal_rate`` and ``invalid_rate`` are shares of
    ``n``; ``error_rate`` is a share of all attempts, errors included. ``higher_order`` names the
    value's group under ``hedonism_in``. Each model's bootstrap stream is seeded from ``seed`` and
    the model's name, so adding a model to the table leaves the other models' intervals unchanged.
    """
    if not 0 < ci < 1:
        raise ValueError(f"ci={ci} must lie strictly between 0 and 1, e.g. 0.95")
    if n_boot < 1:
        raise ValueError(f"n_boot={n_boot} must be at least 1, e.g. 2000")
    per_image = _per_image_counts(_validated(answers))
    group_of = {v: g for g, members in higher_order_groups(hedonism_in).items() for v in members}
    tables = [
        _score_model(model, rows, n_boot=n_boot, ci=ci, seed=seed)
        for model, rows in per_image.groupby("model", sort=False)
    ]
    if not tables:
        return pd.DataFrame(columns=list(SCORE_COLUMNS))
    out = pd.concat(tables, ignore_index=True)
    out["higher_order"] = out["value"].map(group_of)
    return out[list(SCORE_COLUMNS)]


def _validated(answers: pd.DataFrame) -> pd.DataFrame:
    """Check columns and vocabularies, so that a typo fails loudly instead of scoring as 'no'."""
    missing = [c for c in REQUIRED_COLUMNS if c not in answers.columns]
    if missing:
        raise ValueError(f"answers lack columns {missing}; required: {list(REQUIRED_COLUMNS)}")
    bad = sorted(set(answers["outcome"].astype(str)) - set(OUTCOMES))
    if bad:
        raise ValueError(f"unknown outcomes {bad}; allowed: {list(OUTCOMES)}")
    for value in answers["value"].unique():
        check_value(str(value))
    df = answers.copy()
    df["keyword"] = df["keyword"].fillna("").astype(str)
    return df


def _per_image_counts(df: pd.DataFrame) -> pd.DataFrame:
    """Collapse answers to one row per (model, value, keyword, image) with outcome counts.

    Rows are sorted by model, value (circumplex order) and keyword, so the bootstrap layout and
    the output order do not depend on the input's row order; models keep first-seen order.
    """
    keys = ["model", "value", "keyword", "screenshot_id"]
    counts = (
        pd.crosstab([df[k] for k in keys], df["outcome"])
        .reindex(columns=list(OUTCOMES), fill_value=0)
        .reset_index()
    )
    counts.columns.name = None
    model_rank = {m: i for i, m in enumerate(pd.unique(df["model"]))}
    counts["_m"] = counts["model"].map(model_rank)
    counts["_v"] = counts["value"].map(VALUES.index)
    counts = counts.sort_values(["_m", "_v", "keyword", "screenshot_id"], kind="stable")
    return counts.drop(columns=["_m", "_v"]).reset_index(drop=True)


def _score_model(
    model: str, rows: pd.DataFrame, *, n_boot: int, ci: float, seed: int
) -> pd.DataFrame:
    """Scores and bootstrap intervals for one model's values (rows already per image, sorted)."""
    yes = rows["yes"].to_numpy(float)
    valid = rows[["yes", "no", "refusal", "invalid"]].sum(axis=1).to_numpy(float)
    _, value_starts = runs(rows["value"].to_numpy())
    _, s_starts = runs(rows.groupby(["value", "keyword"], sort=False).ngroup().to_numpy())
    s_sizes = np.diff(np.append(s_starts, len(rows)))
    offset = np.repeat(s_starts, s_sizes)
    size = np.repeat(s_sizes, s_sizes)

    rng = np.random.default_rng([seed, zlib.crc32(str(model).encode())])
    boot = stratified_ratio_bootstrap(yes, valid, offset, size, value_starts, n_boot, rng)
    lo_q, hi_q = (1 - ci) / 2, 1 - (1 - ci) / 2
    with np.errstate(invalid="ignore"):  # a value with nothing answered leaves the model's mean
        answered = (~np.isnan(boot)).sum(axis=1, keepdims=True)
        centred_boot = boot - np.nansum(boot, axis=1, keepdims=True) / answered

    # First-seen order = circumplex order of the sorted rows = column order of ``boot``.
    sums = rows.groupby("value", sort=False)[list(OUTCOMES)].sum()
    out = sums.rename(columns={o: f"n_{o}" for o in OUTCOMES}).reset_index()
    out.insert(0, "model", model)
    out["n"] = out[["n_yes", "n_no", "n_refusal", "n_invalid"]].sum(axis=1)
    out["n_images"] = np.diff(np.append(value_starts, len(rows)))
    with np.errstate(invalid="ignore", divide="ignore"):
        out["score"] = 100 * out["n_yes"] / out["n"].where(out["n"] > 0)
        out["score_answered"] = 100 * out["n_yes"] / (out["n_yes"] + out["n_no"]).replace(0, np.nan)
        out["refusal_rate"] = out["n_refusal"] / out["n"].where(out["n"] > 0)
        out["invalid_rate"] = out["n_invalid"] / out["n"].where(out["n"] > 0)
        attempts = (out["n"] + out["n_error"] + out["n_no_image"]).replace(0, np.nan)
        out["error_rate"] = out["n_error"] / attempts
        out["no_image_rate"] = out["n_no_image"] / attempts
    out["ci_low"], out["ci_high"] = percentile_interval(boot, lo_q, hi_q)
    out["centred"] = out["score"] - out["score"].mean()
    out["centred_ci_low"], out["centred_ci_high"] = percentile_interval(centred_boot, lo_q, hi_q)
    return out


def expected_scores(expectations: pd.DataFrame) -> pd.DataFrame:
    """The score each value should get when every answer row is drawn with known probabilities.

    ``expectations`` has one row per answer row the score counts (model, value, and ``p_yes``
    and ``p_counted``: the probabilities that this answer is a "yes" and that it enters ``n``,
    i.e. is no ``no_image`` reply). The result, one row per (model, value) with ``expected``,
    is the score's own pooled ratio ``100 * Σyes / Σn`` with expectations in place of counts:
    the same weighting as ``score_table``, so a recovered score and its CI can be held against
    it. A simulated respondent knows these probabilities (its own p(yes) on each image).
    """
    missing = [c for c in ("model", "value", "p_yes", "p_counted") if c not in expectations]
    if missing:
        raise ValueError(f"expectations lack columns {missing}")
    sums = expectations.groupby(["model", "value"], sort=False)[["p_yes", "p_counted"]].sum()
    with np.errstate(invalid="ignore", divide="ignore"):
        expected = 100 * sums["p_yes"] / sums["p_counted"].where(sums["p_counted"] > 0)
    return expected.rename("expected").reset_index()


def profiles_from_scores(
    scores: pd.DataFrame, column: str = "score"
) -> dict[str, dict[str, float]]:
    """``model -> value -> column`` mapping, the shape plots and ``rank_correlation`` take."""
    return {
        str(model): dict(zip(rows["value"], rows[column].astype(float), strict=True))
        for model, rows in scores.groupby("model", sort=False)
    }


def model_summary(
    scores: pd.DataFrame, hedonism_in: HedonismGroup = "openness_to_change"
) -> pd.DataFrame:
    """One row per model: mean, std (ddof=1), higher-order scores and circumplex consistency.

    ``std`` is the sample std over the model's value scores, the convention that reproduces the
    paper's reported stds. Each higher-order score is the mean of its members' scores; the
    ``*_centred`` versions subtract the model's mean, so they read as "above/below this model's
    usual yes-rate". ``circumplex_r`` and ``circumplex_fit`` are described in their functions.
    """
    groups = higher_order_groups(hedonism_in)
    rows = []
    for model, profile in profiles_from_scores(scores).items():
        s = pd.Series(profile, dtype=float).dropna()
        row: dict[str, object] = {
            "model": model,
            "n_values": len(s),
            "mean": s.mean(),
            "std": s.std(ddof=1),
        }
        for name, members in groups.items():
            row[name] = s.reindex(members).mean()
        for name in groups:
            row[f"{name}_centred"] = row[name] - row["mean"]
        row["circumplex_r"] = circumplex_r(profile)
        row["circumplex_fit"], row["circumplex_peak"] = circumplex_fit(profile)
        rows.append(row)
    return pd.DataFrame(rows)


