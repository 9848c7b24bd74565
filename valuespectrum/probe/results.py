"""Scores of one probe result and the metrics logged for it (pure: no store, tracker or stage)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from valuespectrum.probe.scoring import rank_correlation, score_profile


@dataclass(frozen=True)
class ProbeScores:
    """The scores, keyword and image tables, the model summary row, and rho against a known
    true profile."""

    scores: Any  # pandas DataFrame, columns scoring.SCORE_COLUMNS
    summary: Any  # pandas Series: mean, std and its noise baseline, tests, higher-order scores
    rho: float | None
    keywords: Any = None  # pandas DataFrame, columns scoring.KEYWORD_COLUMNS
    images: Any = None  # pandas DataFrame, columns scoring.IMAGE_COLUMNS
    settings: Mapping[str, Any] | None = None  # the scoring settings (interval method, ...)


def score_answers(
    frame, *, true_profile: Mapping[str, float] | None, **settings: Any
) -> ProbeScores:
    """Score ``frame`` (one row per answer) with ``scoring.score_profile``'s ``settings``."""
    profile = score_profile(frame, **settings)
    scores = profile.scores
    rho = None
    if true_profile:
        rho = rank_correlation({r.value: r.score for r in scores.itertuples()}, true_profile)
    return ProbeScores(scores, profile.summary.iloc[0], rho, profile.keywords, profile.images,
                       dict(settings))  # fmt: skip


# Per-value columns of the scores table and their metric names, ``<name>/<value>``: all begin
# with "score" so that MLflow, which sorts chart sections by name, shows the scores first.
PER_VALUE = {
    "score": "score", "ci_low": "score_ci_low", "ci_high": "score_ci_high",
    "centred": "score_centred", "n": "score_n",
}
# Logged only where the answers carry them (log-probabilities; several samples per image).
PER_VALUE_OPTIONAL = {
    "score_logprob": "score_logprob", "score_logprob_ci_low": "score_logprob_ci_low",
    "score_logprob_ci_high": "score_logprob_ci_high", "flip_rate": "score_flip_rate",
}
SUMMARY = (
    "mean", "std", "std_ci_low", "std_ci_high", "std_noise_corrected", "noise_std",
    "homogeneity_p", "circumplex_fit", "circumplex_p", "keywords_flagged",
    "openness_to_change", "self_enhancement", "conservation", "self_transcendence",
)  # fmt: skip
SUMMARY_OPTIONAL = ("flip_rate",)


def profile_metrics(result: ProbeScores, frame) -> dict[str, float]:
    """The profile as flat metrics: per value ``score/<value>``, ``score_ci_low/<value>``,
    ``score_ci_high/<value>``, ``score_centred/<value>``, ``score_n/<value>`` (answers behind
    the score), and where available ``score_logprob[_ci_low|_ci_high]/<value>`` and
    ``score_flip_rate/<value>``; ``summary/<name>``: mean, std with its interval, the
    noise-corrected std and the noise std, the homogeneity p, the circumplex fit and its p, the
    flagged keywords, the four higher-order scores, the error / refusal / invalid rates,
    flip_rate and rho_true_profile; the answer outcomes as ``usage/n_<outcome>``."""
    metrics: dict[str, float] = {}
    for r in result.scores.itertuples():
        for column, name in PER_VALUE.items():
            metrics[f"{name}/{r.value}"] = float(getattr(r, column))
        for column, name in PER_VALUE_OPTIONAL.items():
            x = getattr(r, column)
            if x is not None and x == x:
                metrics[f"{name}/{r.value}"] = float(x)
    counts = frame["outcome"].value_counts()
    n_all = len(frame)
    for outcome in ("yes", "no", "refusal", "invalid", "error"):
        metrics[f"usage/n_{outcome}"] = float(counts.get(outcome, 0))
    for key in SUMMARY:
        metrics[f"summary/{key}"] = float(result.summary[key])
    for key in SUMMARY_OPTIONAL:
        x = result.summary.get(key)
        if x is not None and x == x:
            metrics[f"summary/{key}"] = float(x)
    for outcome in ("error", "refusal", "invalid"):
        metrics[f"summary/{outcome}_rate"] = counts.get(outcome, 0) / n_all if n_all else 0.0
    if result.rho is not None:
        metrics["summary/rho_true_profile"] = result.rho
    return metrics
