"""Scores of one probe result and the metrics logged for it (pure: no store, tracker or stage)."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from valuespectrum.probe.axes import KEYED
from valuespectrum.probe.judge import agreement
from valuespectrum.probe.plan import ANSWER_COLUMNS
from valuespectrum.probe.scoring import expected_scores, rank_correlation, score_profile


@dataclass(frozen=True)
class ProbeScores:
    """The scores, keyword and image tables, the model summary row, and rho against a known
    true profile.

    For a simulated respondent, ``mae`` is the mean absolute error against its true profile,
    ``expected`` the score each value should get from its own p(yes) on the images it was shown
    (``scoring.expected_scores``; also the ``true_score`` column of ``scores``) and
    ``expected_in_ci`` how many values' CIs hold it.
    """

    scores: Any  # pandas DataFrame, columns scoring.SCORE_COLUMNS
    summary: Any  # pandas Series: mean, std and its noise baseline, tests, higher-order scores
    rho: float | None
    keywords: Any = None  # pandas DataFrame, columns scoring.KEYWORD_COLUMNS
    images: Any = None  # pandas DataFrame, columns scoring.IMAGE_COLUMNS
    settings: Mapping[str, Any] | None = None  # the scoring settings (interval method, ...)
    mae: float | None = None
    expected: dict[str, float] | None = None
    expected_in_ci: int | None = None
    mae_expected: float | None = None


def score_answers(
    frame, *, true_profile: Mapping[str, float] | None, expectations=None, on_scores=None,
    **settings: Any,
) -> ProbeScores:
    """Score ``frame`` (one row per answer) with ``scoring.score_profile``'s ``settings``;
    ``expectations`` (see ``scoring.expected_scores``) adds the known-truth check;
    ``on_scores`` is ``score_profile``'s."""
    result = score_profile(frame, on_scores=on_scores, **settings)
    scores = result.scores
    profile = {r.value: float(r.score) for r in scores.itertuples()}
    rho = mae = None
    if true_profile:
        rho = rank_correlation(profile, true_profile)
        mae = _mae(profile, true_profile)
    base = ProbeScores(scores, result.summary.iloc[0], rho, result.keywords, result.images,
                       dict(settings), mae)  # fmt: skip
    if expectations is None:
        return base
    table = expected_scores(expectations)
    expected = dict(zip(table["value"], table["expected"].astype(float), strict=True))
    scores = scores.assign(true_score=scores["value"].map(expected).astype(float))
    inside = sum(
        int(r.ci_low <= expected[r.value] <= r.ci_high)
        for r in scores.itertuples() if r.value in expected
    )
    return dataclasses.replace(base, scores=scores, expected=expected, expected_in_ci=inside,
                               mae_expected=_mae(profile, expected))  # fmt: skip


def with_checks(result: ProbeScores, checks) -> ProbeScores:
    """``result`` with the robustness checks (``checks.CHECK_COLUMNS``, NaN where not run)
    as columns of its scores table."""
    from valuespectrum.probe.checks import CHECK_COLUMNS

    scores, measured = result.scores.copy(), checks.per_value.set_index("value")
    for column in CHECK_COLUMNS:
        scores[column] = scores["value"].map(measured[column]).astype(float)
    return dataclasses.replace(result, scores=scores)


def _mae(profile: Mapping[str, float], other: Mapping[str, float]) -> float:
    shared = [v for v in profile if v in other and profile[v] == profile[v]]
    return sum(abs(profile[v] - other[v]) for v in shared) / len(shared) if shared else float("nan")


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
OUTCOME_COUNTS = ("yes", "no", "refusal", "invalid", "no_image", "error")


def profile_metrics(result: ProbeScores, frame) -> dict[str, float]:
    """The profile as flat metrics: per value ``score/<value>``, ``score_ci_low/<value>``,
    ``score_ci_high/<value>``, ``score_centred/<value>``, ``score_n/<value>`` (answers behind
    the score), where available ``score_logprob[_ci_low|_ci_high]/<value>`` and
    ``score_flip_rate/<value>``, and ``score_expected/<value>`` (simulated respondent);
    ``summary/<name>``: mean, std with its interval, the noise-corrected std and the noise std,
    the homogeneity p, the circumplex fit and its p, the flagged keywords, the four higher-order
    scores, the error / refusal / invalid / no_image rates, flip_rate, rho_true_profile,
    mae_true_profile, expected_in_ci and mae_expected; the answer outcomes as
    ``usage/n_<outcome>``; and ``parsing_metrics``."""
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
    for outcome in OUTCOME_COUNTS:
        metrics[f"usage/n_{outcome}"] = float(counts.get(outcome, 0))
    for key in SUMMARY:
        metrics[f"summary/{key}"] = float(result.summary[key])
    for key in SUMMARY_OPTIONAL:
        x = result.summary.get(key)
        if x is not None and x == x:
            metrics[f"summary/{key}"] = float(x)
    for outcome in ("error", "refusal", "invalid", "no_image"):
        metrics[f"summary/{outcome}_rate"] = counts.get(outcome, 0) / n_all if n_all else 0.0
    if result.rho is not None:
        metrics["summary/rho_true_profile"] = result.rho
    if result.mae is not None:
        metrics["summary/mae_true_profile"] = result.mae
    if result.expected is not None:
        for value, expected in result.expected.items():
            metrics[f"score_expected/{value}"] = expected
        metrics["summary/expected_in_ci"] = float(result.expected_in_ci or 0)
        metrics["summary/mae_expected"] = float(result.mae_expected or 0.0)
    metrics.update(parsing_metrics(frame))
    return metrics


def parsing_metrics(frame) -> dict[str, float]:
    """How the replies were read: the judge's work and its agreement with the rules
    (``usage/judge_*``, ``summary/judge_agreement``), and under ``parsing.mode=prototype`` the
    share of replies the strict rules read the same (``summary/prototype_agreement``)."""
    out: dict[str, float] = {}
    if "judge_outcome" in frame and frame["judge_outcome"].notna().any():
        stats = agreement(zip(frame["rule_outcome"], frame["judge_outcome"], strict=True))
        for key in ("judged", "decided", "failed", "sampled"):
            out[f"usage/judge_{key}"] = float(stats[key])
        if stats["sampled"]:
            out["summary/judge_agreement"] = stats["agreement"]
    prototype = frame[frame["decided_by"] == "prototype"] if "decided_by" in frame else frame[:0]
    if len(prototype):
        same = (prototype["outcome"] == prototype["rule_outcome"]).mean()
        out["summary/prototype_agreement"] = float(same)
    return out


def expected_answers(model, decisions, answers, keying: str = "forward", expect=None):
    """What a simulated respondent expects of each scored answer row (its own p(yes) on the
    image, or ``expect(call)`` on what the call shows it, ``scoring.expected_scores``); None for
    a model that cannot know."""
    import pandas as pd

    if expect is None:
        outcomes = getattr(model, "expected_outcomes", None)
        if outcomes is None:
            return None

        def expect(call):  # the question as asked (answer order, keying) about its image
            question = " ".join(p for p in call.messages[-1].content if isinstance(p, str))
            return outcomes(call.image, question)

    at = {c: i for i, c in enumerate(ANSWER_COLUMNS)}
    rows = []
    flipped = keying == "reverse"  # scored as the share of reverse "no"
    for a in answers:
        # a failed call is in no score, nor a screenshot the describer gave nothing usable for
        if (a[at["outcome"]] != "error" and a[at["decided_by"]] != "describer"
                and a[at["keying"]] in KEYED[keying][:1]):
            key = (a[at["screenshot_id"]], a[at["sample"]], a[at["answer_order"]], a[at["keying"]])
            call = decisions[key]
            p_yes, p_no, p_counted = expect(call)
            rows.append((model.name, a[at["value"]], p_no if flipped else p_yes, p_counted))
    return pd.DataFrame(rows, columns=["model", "value", "p_yes", "p_counted"])
