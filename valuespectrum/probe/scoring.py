"""Preference scores from per-answer rows: counts, rates, bootstrap CIs, centring, keywords.

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
* Uncertainty (``stats/bootstrap.py``). ``ci_low``/``ci_high`` come from a weighted bootstrap
  with one weight per screenshot per replicate, shared by every value, keyword and derived score
  the screenshot enters. ``ci_method`` says which interval: ``two_stage`` (default, for papers:
  keywords, then images within keywords; it covers the value's score over its keyword
  population) or ``images`` (keywords fixed; it covers the score over these keywords). Several
  samples of one image stay together: the image, not the answer, is the unit.
* Acquiescence. Raw yes-rates mix "says yes to everything" with preference; ``centred`` subtracts
  the model's mean over its values (ipsatization), which is what profiles should be compared on.
* ``noise_se``: the binomial standard error √(p(1 - p)/images) of the score: what noise alone
  gives, the baseline of the spread statistics (``probe/summary.py``).
* Log-probabilities. Where answers carry ``yes_logprob``/``no_logprob``, ``score_logprob`` is
  100 x the mean of p(yes)/(p(yes) + p(no)) with its own interval from the same weights. A token
  missing from the returned top alternatives is less likely than all of them: with only "yes"
  listed the answer counts as 1, with only "no" as 0; with neither it is left out.
* Samples. ``flip_rate``: of the images with two or more answers, the share whose answers
  disagree (yes vs not yes); NaN with one sample per image.
* Keywords (``KEYWORD_COLUMNS``): each keyword's score and interval, and how far its value's
  score moves without it (``loo_shift``). A keyword is flagged (``driver``) when that shift
  exceeds ``keyword_flag_points`` and its interval excludes the score of the value's other
  images; ``keyword_driver`` names the flagged keyword of largest shift, ``keyword_shift`` is
  the largest shift of any keyword.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from valuespectrum.probe.checks import CHECK_COLUMNS
from valuespectrum.probe.summary import model_summary, replicate_summary
from valuespectrum.stats.bootstrap import (
    Layout,
    Replicates,
    draw_weights,
    percentile_interval,
    ratio_replicates,
)
from valuespectrum.stats.circumplex import circumplex_fit, circumplex_r
from valuespectrum.stats.ranks import rank_correlation
from valuespectrum.values import VALUES, HedonismGroup, check_value, higher_order_groups

__all__ = [
    "KEYWORD_COLUMNS", "OUTCOMES", "SCORE_COLUMNS", "Profile", "circumplex_fit", "circumplex_r",
    "expected_scores", "model_summary", "profiles_from_scores", "rank_correlation",
    "score_profile", "score_table",
]

OUTCOMES: tuple[str, ...] = ("yes", "no", "refusal", "invalid", "no_image", "error")
REQUIRED_COLUMNS: tuple[str, ...] = ("model", "value", "keyword", "screenshot_id", "outcome")
ANSWERED: tuple[str, ...] = ("yes", "no", "refusal", "invalid")

SCORE_COLUMNS: tuple[str, ...] = (
    "model", "value", "higher_order", "score", "ci_low", "ci_high", "score_answered",
    "centred", "centred_ci_low", "centred_ci_high", "n", "n_images", "n_yes", "n_no",
    "n_refusal", "n_invalid", "n_error", "refusal_rate", "invalid_rate", "error_rate",
    "ci_method", "noise_se", "score_logprob", "score_logprob_ci_low", "score_logprob_ci_high",
    "n_logprob", "flip_rate", "keyword_driver", "keyword_shift", "n_no_image", "no_image_rate",
    "true_score",
    *CHECK_COLUMNS,  # the robustness axes' checks: NaN here, filled by probe/checks.py
)  # fmt: skip
KEYWORD_COLUMNS: tuple[str, ...] = (
    "model", "value", "keyword", "n", "n_images", "n_yes", "score", "ci_low", "ci_high",
    "loo_shift", "driver",
)  # fmt: skip
IMAGE_COLUMNS: tuple[str, ...] = (
    "model", "value", "keyword", "screenshot_id", "n", "n_yes", "p_yes", "flipped",
)


@dataclass(frozen=True)
class Profile:
    """Everything scored from one answers table: per value (``SCORE_COLUMNS``), per keyword
    (``KEYWORD_COLUMNS``), per image (``IMAGE_COLUMNS``), and one summary row per model."""

    scores: pd.DataFrame
    keywords: pd.DataFrame
    images: pd.DataFrame
    summary: pd.DataFrame


def score_table(answers: pd.DataFrame, **settings: Any) -> pd.DataFrame:
    """The per-value table of ``score_profile`` (same settings)."""
    return score_profile(answers, **settings).scores


def score_profile(
    answers: pd.DataFrame, *, n_boot: int = 2000, ci: float = 0.95, seed: int = 0,
    hedonism_in: HedonismGroup = "openness_to_change", interval: str = "two_stage",
    angles: dict[str, float] | None = None, n_perm: int = 9999,
    keyword_flag_points: float = 5.0, on_scores: Callable[[pd.DataFrame], Any] | None = None,
) -> Profile:  # fmt: skip
    """Score every model of ``answers`` (one row per answer; see ``REQUIRED_COLUMNS``).

    ``n`` counts answers excluding errors (several samples per image count several times);
    ``refusal_rate`` and ``invalid_rate`` are shares of ``n``; ``error_rate`` is a share of all
    attempts. Each model's bootstrap stream is seeded from ``seed`` and the model's name, so
    adding a model leaves the other models' intervals unchanged. ``angles`` (degrees per value)
    place the values for the circumplex fit; ``n_perm`` shufflings give its p-value.
    ``on_scores`` gets the per-value table as soon as it is known, before the summary's
    permutation tests (the probe starts drawing its figures there).
    """
    if not 0 < ci < 1:
        raise ValueError(f"ci={ci} must lie strictly between 0 and 1, e.g. 0.95")
    if n_boot < 1:
        raise ValueError(f"n_boot={n_boot} must be at least 1, e.g. 2000")
    per_image = _per_image_counts(_validated(answers))
    group_of = {v: g for g, members in higher_order_groups(hedonism_in).items() for v in members}
    settings = {"n_boot": n_boot, "ci": ci, "seed": seed, "interval": interval,
                "flag": keyword_flag_points}  # fmt: skip
    parts = [
        _score_model(str(model), rows, **settings)
        for model, rows in per_image.groupby("model", sort=False)
    ]
    scores = _concat([p[0] for p in parts], SCORE_COLUMNS)
    scores["higher_order"] = scores["value"].map(group_of)
    if on_scores is not None:
        on_scores(scores)
    summary = model_summary(scores, hedonism_in=hedonism_in, angles=angles, n_perm=n_perm,
                            seed=seed)  # fmt: skip
    if parts:
        extra = pd.DataFrame([
            replicate_summary(*p[3], hedonism_in=hedonism_in, ci=ci, n_perm=n_perm, seed=seed)
            for p in parts
        ])
        summary = summary.drop(columns=[c for c in extra if c in summary and c != "model"])
        summary = summary.merge(extra, on="model", how="left")
        flagged = pd.concat([p[1] for p in parts]).groupby("model", sort=False)["driver"].sum()
        summary["keywords_flagged"] = summary["model"].map(flagged).fillna(0).astype(int)
    return Profile(scores[list(SCORE_COLUMNS)], _concat([p[1] for p in parts], KEYWORD_COLUMNS),
                   _concat([p[2] for p in parts], IMAGE_COLUMNS), summary)  # fmt: skip


def _concat(frames: list[pd.DataFrame], columns: tuple[str, ...]) -> pd.DataFrame:
    if not frames:
        return pd.DataFrame(columns=list(columns))
    # reindex: columns no part computes (``true_score``, filled by probe.results) are NaN
    return pd.concat(frames, ignore_index=True).reindex(columns=list(columns))


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
    df["_q"] = _logprob_yes(df)
    df["_q"] = df["_q"].where(df["outcome"] != "error")
    return df


def _logprob_yes(df: pd.DataFrame) -> pd.Series:
    """p(yes)/(p(yes) + p(no)) per answer from its log-probabilities (NaN where neither)."""
    if "yes_logprob" not in df or "no_logprob" not in df:
        return pd.Series(np.nan, index=df.index)
    yes = pd.to_numeric(df["yes_logprob"], errors="coerce").to_numpy(float)
    no = pd.to_numeric(df["no_logprob"], errors="coerce").to_numpy(float)
    with np.errstate(over="ignore"):
        q = 1 / (1 + np.exp(np.clip(no - yes, -700, 700)))
    q = np.where(np.isnan(yes) & ~np.isnan(no), 0.0, q)
    q = np.where(np.isnan(no) & ~np.isnan(yes), 1.0, q)
    return pd.Series(q, index=df.index)


def _per_image_counts(df: pd.DataFrame) -> pd.DataFrame:
    """Collapse answers to one row per (model, value, keyword, image) with outcome counts and
    the summed log-probability score; sorted by model (first seen), value (circumplex order),
    keyword and image, so the layout does not depend on the input's row order."""
    keys = ["model", "value", "keyword", "screenshot_id"]
    counts = (
        pd.crosstab([df[k] for k in keys], df["outcome"])
        .reindex(columns=list(OUTCOMES), fill_value=0)
    )
    grouped = df.groupby(keys, sort=False)["_q"]
    counts["q_sum"] = grouped.sum().reindex(counts.index).to_numpy(float)
    counts["q_n"] = grouped.count().reindex(counts.index).to_numpy(float)
    counts = counts.reset_index()
    counts.columns.name = None
    model_rank = {m: i for i, m in enumerate(pd.unique(df["model"]))}
    counts["_m"] = counts["model"].map(model_rank)
    counts["_v"] = counts["value"].map(VALUES.index)
    counts = counts.sort_values(["_m", "_v", "keyword", "screenshot_id"], kind="stable")
    return counts.drop(columns=["_m", "_v"]).reset_index(drop=True)


def _score_model(
    model: str, rows: pd.DataFrame, *, n_boot: int, ci: float, seed: int, interval: str,
    flag: float,
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, tuple]:  # fmt: skip
    """Per-value, per-keyword and per-image tables of one model (rows per image, sorted), and
    what the replicate summary needs."""
    yes = rows["yes"].to_numpy(float)
    valid = rows[list(ANSWERED)].sum(axis=1).to_numpy(float)
    values = list(pd.unique(rows["value"]))
    strata = rows.groupby(["value", "keyword"], sort=False).ngroup().to_numpy()
    first = np.unique(strata, return_index=True)[1]
    layout = Layout(
        unit=pd.factorize(rows["screenshot_id"])[0],
        strata=strata,
        groups=np.array([values.index(v) for v in rows["value"].to_numpy()[first]]),
    )
    rng = np.random.default_rng([seed, zlib.crc32(model.encode())])
    weights = draw_weights(layout, n_boot, rng)
    main = ratio_replicates(yes, valid, layout, weights, method=interval, ci=ci)
    q_n = rows["q_n"].to_numpy(float)
    lp = None
    if q_n.sum() > 0:
        lp = ratio_replicates(rows["q_sum"].to_numpy(float), q_n, layout, weights,
                              method=interval, ci=ci)  # fmt: skip

    lo_q, hi_q = (1 - ci) / 2, 1 - (1 - ci) / 2
    sums = rows.groupby("value", sort=False)[list(OUTCOMES)].sum()
    out = sums.rename(columns={o: f"n_{o}" for o in OUTCOMES}).reset_index()
    out.insert(0, "model", model)
    out.insert(2, "higher_order", None)
    out["n"] = out[[f"n_{o}" for o in ANSWERED]].sum(axis=1)
    out["n_images"] = np.bincount(layout.groups[strata], minlength=len(values))
    answered_images = np.bincount(layout.groups[strata], valid > 0, len(values))
    with np.errstate(invalid="ignore", divide="ignore"):
        n = out["n"].where(out["n"] > 0)
        out["score"] = main.point
        out["score_answered"] = 100 * out["n_yes"] / (out["n_yes"] + out["n_no"]).replace(0, np.nan)
        out["refusal_rate"] = out["n_refusal"] / n
        out["invalid_rate"] = out["n_invalid"] / n
        attempts = (out["n"] + out["n_error"] + out["n_no_image"]).replace(0, np.nan)
        out["error_rate"] = out["n_error"] / attempts
        out["no_image_rate"] = out["n_no_image"] / attempts
        p = main.point / 100
        out["noise_se"] = 100 * np.sqrt(p * (1 - p) / np.where(answered_images > 0,
                                                               answered_images, np.nan))
    out["ci_low"], out["ci_high"] = percentile_interval(main.groups, lo_q, hi_q)
    out["ci_method"] = interval
    answered = (~np.isnan(main.groups)).sum(axis=1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):  # a value without answers is left out
        centred = main.groups - np.nansum(main.groups, axis=1, keepdims=True) / answered
    out["centred"] = out["score"] - out["score"].mean()
    out["centred_ci_low"], out["centred_ci_high"] = percentile_interval(centred, lo_q, hi_q)
    _add_logprob(out, lp, rows, layout, lo_q, hi_q)
    out["flip_rate"] = _flip_rates(rows, valid, layout, strata, len(values))
    keywords = _keyword_table(model, rows, main, layout, valid, flag, lo_q, hi_q)
    ranked = keywords.assign(_abs=keywords["loo_shift"].abs()).sort_values("_abs")
    largest = ranked.groupby("value", sort=False).tail(1).set_index("value")
    flagged = ranked[ranked["driver"]].groupby("value", sort=False).tail(1).set_index("value")
    out["keyword_shift"] = out["value"].map(largest["loo_shift"])
    out["keyword_driver"] = out["value"].map(flagged["keyword"])
    images = _image_table(model, rows, valid)
    for column in CHECK_COLUMNS:
        out[column] = np.nan
    units = (layout.groups[strata], yes, valid, layout.unit)
    return out, keywords, images, (model, values, main, units)


def _add_logprob(out, lp: Replicates | None, rows, layout, lo_q, hi_q) -> None:
    if lp is None:
        out["score_logprob"] = out["score_logprob_ci_low"] = out["score_logprob_ci_high"] = np.nan
        out["n_logprob"] = 0
        return
    out["score_logprob"] = lp.point
    out["score_logprob_ci_low"], out["score_logprob_ci_high"] = percentile_interval(
        lp.groups, lo_q, hi_q
    )
    out["n_logprob"] = np.bincount(layout.groups[layout.strata], rows["q_n"].to_numpy(float),
                                   len(out)).astype(int)  # fmt: skip


def _flip_rates(rows, valid, layout, strata, n_values) -> np.ndarray:
    """Per value: share of images with >= 2 answers whose answers disagree (NaN if none)."""
    multi = valid >= 2
    flipped = multi & (rows["yes"].to_numpy(float) > 0) & (rows["yes"].to_numpy(float) < valid)
    group = layout.groups[strata]
    with np.errstate(invalid="ignore", divide="ignore"):
        rate = np.bincount(group, flipped, n_values) / np.bincount(group, multi, n_values)
    return np.where(np.bincount(group, multi, n_values) > 0, rate, np.nan)


def _keyword_table(model, rows, main: Replicates, layout, valid, flag, lo_q, hi_q):
    """One row per keyword: its score and interval and its value's leave-one-out shift."""
    first = np.unique(layout.strata, return_index=True)[1]
    kw = rows.iloc[first][["value", "keyword"]].reset_index(drop=True)
    kw.insert(0, "model", model)
    k = layout.n_strata
    kw["n"] = np.bincount(layout.strata, valid, k).astype(int)
    kw["n_images"] = np.bincount(layout.strata, minlength=k)
    kw["n_yes"] = np.bincount(layout.strata, rows["yes"].to_numpy(float), k).astype(int)
    kw["score"] = main.stratum_point
    kw["ci_low"], kw["ci_high"] = percentile_interval(main.strata, lo_q, hi_q)
    n_v = np.bincount(layout.groups, kw["n"], layout.n_groups)[layout.groups]
    y_v = np.bincount(layout.groups, kw["n_yes"], layout.n_groups)[layout.groups]
    rest = n_v - kw["n"].to_numpy(float)
    with np.errstate(invalid="ignore", divide="ignore"):
        loo = np.where(rest > 0, 100 * (y_v - kw["n_yes"]) / rest, np.nan)
    kw["loo_shift"] = loo - main.point[layout.groups]
    # A keyword drives its value when dropping it moves the score by more than ``flag`` points
    # and its own interval excludes the rest of the value's images: at k=5 a keyword of 2/5 in a
    # value at 86 shifts it by 5 points by chance alone (5% of such keywords).
    outside = (loo < kw["ci_low"].to_numpy(float)) | (loo > kw["ci_high"].to_numpy(float))
    kw["driver"] = (kw["loo_shift"].abs() > flag).to_numpy() & outside
    return kw


def _image_table(model, rows, valid) -> pd.DataFrame:
    """One row per (value, keyword, image): its answers, p(yes) and whether samples disagree."""
    img = rows[["value", "keyword", "screenshot_id"]].copy()
    img.insert(0, "model", model)
    img["n"] = valid.astype(int)
    img["n_yes"] = rows["yes"].to_numpy(int)
    with np.errstate(invalid="ignore", divide="ignore"):
        img["p_yes"] = np.where(valid > 0, img["n_yes"] / np.where(valid > 0, valid, 1), np.nan)
    img["flipped"] = (valid >= 2) & (img["n_yes"] > 0) & (img["n_yes"] < valid)
    return img


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
