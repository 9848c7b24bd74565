"""Scores of one probe result and the metrics logged for it (pure: no store, tracker or stage)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from valuespectrum.probe.scoring import model_summary, rank_correlation, score_table


@dataclass(frozen=True)
class ProbeScores:
    """The scores table, the model summary row, and rho against a known true profile."""

    scores: Any  # pandas DataFrame, columns scoring.SCORE_COLUMNS
    summary: Any  # pandas Series: mean, std, circumplex_r, higher-order scores
    rho: float | None


def score_answers(
    frame, *, n_boot: int, seed: int, hedonism_in: str, true_profile: Mapping[str, float] | None,
    scores=None,
) -> ProbeScores:
    """Score ``frame`` (one row per answer), or take the already computed ``scores``."""
    if scores is None:
        scores = score_table(frame, n_boot=n_boot, seed=seed, hedonism_in=hedonism_in)
    summary = model_summary(scores, hedonism_in=hedonism_in).iloc[0]
    rho = None
    if true_profile:
        rho = rank_correlation({r.value: r.score for r in scores.itertuples()}, true_profile)
    return ProbeScores(scores, summary, rho)


# Per-value columns of the scores table and their metric names, ``<name>/<value>``: all begin
# with "score" so that MLflow, which sorts chart sections by name, shows the scores first.
PER_VALUE = {
    "score": "score", "ci_low": "score_ci_low", "ci_high": "score_ci_high",
    "centred": "score_centred", "n": "score_n",
}
SUMMARY = (
    "mean", "std", "circumplex_r",
    "openness_to_change", "self_enhancement", "conservation", "self_transcendence",
)


def profile_metrics(result: ProbeScores, frame) -> dict[str, float]:
    """The profile as flat metrics: per value ``score/<value>``, ``score_ci_low/<value>``,
    ``score_ci_high/<value>``, ``score_centred/<value>``, ``score_n/<value>`` (answers behind
    the score); ``summary/<name>``: mean, std, circumplex_r, the four higher-order scores, the
    error / refusal / invalid rates and rho_true_profile; the answer outcomes as
    ``usage/n_<outcome>``."""
    metrics: dict[str, float] = {}
    for r in result.scores.itertuples():
        for column, name in PER_VALUE.items():
            metrics[f"{name}/{r.value}"] = float(getattr(r, column))
    counts = frame["outcome"].value_counts()
    n_all = len(frame)
    for outcome in ("yes", "no", "refusal", "invalid", "error"):
        metrics[f"usage/n_{outcome}"] = float(counts.get(outcome, 0))
    for key in SUMMARY:
        metrics[f"summary/{key}"] = float(result.summary[key])
    for outcome in ("error", "refusal", "invalid"):
        metrics[f"summary/{outcome}_rate"] = counts.get(outcome, 0) / n_all if n_all else 0.0
    if result.rho is not None:
        metrics["summary/rho_true_profile"] = result.rho
    return metrics
