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


def profile_metrics(result: ProbeScores, frame) -> dict[str, float]:
    """Per-value scores, outcome counts and rates, and the summary, as flat metrics."""
    metrics: dict[str, float] = {}
    for r in result.scores.itertuples():
        metrics[r.value] = r.score
        metrics[f"{r.value}_centred"] = r.centred
    counts = frame["outcome"].value_counts()
    n_all = len(frame)
    for outcome in ("yes", "no", "refusal", "invalid", "error"):
        metrics[f"n_{outcome}"] = float(counts.get(outcome, 0))
    for outcome in ("error", "refusal", "invalid"):
        metrics[f"{outcome}_rate"] = counts.get(outcome, 0) / n_all if n_all else 0.0
    for key in (
        "mean", "std", "circumplex_r", "openness_to_change", "self_enhancement",
        "conservation", "self_transcendence",
    ):
        metrics[key] = float(result.summary[key])
    if result.rho is not None:
        metrics["rho_true_profile"] = result.rho
    return metrics
