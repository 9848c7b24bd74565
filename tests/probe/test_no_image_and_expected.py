"""Replies that never saw the image stay out of every score; the expected score of a respondent
with known probabilities is the score's own pooled ratio of expectations."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from valuespectrum.probe.scoring import expected_scores, score_table
from valuespectrum.values import VALUES

COLUMNS = ["model", "value", "keyword", "screenshot_id", "outcome"]


def _answers(outcomes: list[str], value: str = "power") -> pd.DataFrame:
    return pd.DataFrame(
        [("m", value, f"kw{i % 2}", f"{value}/{i}", o) for i, o in enumerate(outcomes)],
        columns=COLUMNS,
    )


def test_no_image_replies_are_counted_apart_and_never_scored():
    plain = score_table(_answers(["yes", "yes", "no", "refusal"]), n_boot=50).iloc[0]
    lost = score_table(
        _answers(["yes", "yes", "no", "refusal", "no_image", "no_image", "error"]), n_boot=50
    ).iloc[0]
    assert lost.score == plain.score == 50.0  # 2 yes of 4 answers, in both
    assert (lost.n, lost.n_no_image, lost.n_error) == (4, 2, 1)
    assert lost.no_image_rate == pytest.approx(2 / 7)  # a share of all attempts
    assert lost.error_rate == pytest.approx(1 / 7)
    assert (plain.n_no_image, plain.no_image_rate) == (0, 0.0)


def test_a_value_with_only_no_image_replies_has_no_score():
    s = score_table(_answers(["no_image"] * 3), n_boot=50).iloc[0]
    assert np.isnan(s.score) and s.no_image_rate == 1.0


def test_expected_score_is_the_pooled_ratio_of_expectations():
    rows = pd.DataFrame(
        [("m", "power", 0.9, 1.0), ("m", "power", 0.5, 1.0), ("m", "power", 0.0, 0.5),
         ("m", "security", 0.2, 1.0)],
        columns=["model", "value", "p_yes", "p_counted"],
    )
    out = expected_scores(rows).set_index("value")["expected"]
    assert out["power"] == pytest.approx(100 * 1.4 / 2.5)  # not the mean of per-row ratios
    assert out["security"] == pytest.approx(20.0)


def test_expected_score_agrees_with_the_score_over_many_draws():
    # Answers drawn with the stated probabilities score, on average, what expected_scores says;
    # 300 replicates scored in one table, as 30 models of ten values.
    rng = np.random.default_rng(0)
    p = rng.uniform(0.2, 0.9, 40)
    expected = expected_scores(
        pd.DataFrame({"model": "m", "value": "power", "p_yes": 0.95 * p, "p_counted": 0.99})
    )["expected"].iloc[0]
    frames = []
    for replicate in range(300):
        u = rng.random(40)
        outcomes = np.where(u < 0.01, "no_image", np.where(u < 0.05, "refusal", "no"))
        outcomes = np.where((u >= 0.05) & (rng.random(40) < p), "yes", outcomes)
        value = VALUES[replicate % len(VALUES)]
        frames.append(_answers(list(outcomes), value).assign(model=f"r{replicate // 10}"))
    scores = score_table(pd.concat(frames), n_boot=1)["score"]
    assert scores.mean() == pytest.approx(expected, abs=1.0)  # SE of the mean is about 0.45


def test_expected_scores_needs_its_columns():
    with pytest.raises(ValueError, match="p_counted"):
        expected_scores(pd.DataFrame({"model": ["m"], "value": ["power"], "p_yes": [0.5]}))
