"""Acquiescence and the answer-order effect: known effects recovered within their intervals,
a consistent respondent at 0, nothing measured where no axis ran."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from valuespectrum.probe.checks import CHECK_COLUMNS, answer_checks
from valuespectrum.values import VALUES


def _answers(acquiescence: float, order_bias: float, *, seed: int = 0, images: int = 40,
             refusals: float = 0.0) -> pd.DataFrame:
    """Forward and reverse answers about the same images, half of each keyword's images with
    the options named yes first, from a respondent with known effects (probabilities)."""
    rng, rows = np.random.default_rng(seed), []
    for i, value in enumerate(VALUES):
        for sid in range(images):
            like = 0.2 + 0.6 * i / 9
            order = ("yes_first", "no_first")[sid % 2]
            bias = order_bias if order == "yes_first" else -order_bias
            for keying, p in (("forward", like), ("reverse", 1 - like)):
                p = min(1.0, max(0.0, p + acquiescence + bias))
                outcome = ("refusal" if rng.random() < refusals
                           else "yes" if rng.random() < p else "no")  # fmt: skip
                rows.append((value, f"{value}-{sid * 4 // images}", 1000 * i + sid, outcome, keying,
                             order))
    return pd.DataFrame(rows, columns=["value", "keyword", "screenshot_id", "outcome", "keying",
                                       "answer_order"])  # fmt: skip


def test_known_acquiescence_and_order_bias_are_recovered_within_their_intervals() -> None:
    checks = answer_checks(_answers(0.10, 0.12, images=60), n_boot=800)
    o = checks.overall
    assert o["acquiescence_ci_low"] <= 20 <= o["acquiescence_ci_high"]  # 2 x 10 points
    assert o["order_effect_ci_low"] <= 24 <= o["order_effect_ci_high"]  # 2 x 12 points
    assert o["acquiescence_ci_low"] > 5 and o["order_effect_ci_low"] > 3
    table = checks.per_value.set_index("value")
    assert list(checks.per_value.columns) == ["value", *CHECK_COLUMNS]
    inside = ((table["acquiescence_ci_low"] <= 20) & (table["acquiescence_ci_high"] >= 20)).sum()
    assert inside >= 8
    assert set(checks.metrics()) == set(CHECK_COLUMNS)


def test_a_consistent_respondent_has_no_acquiescence_even_when_it_refuses() -> None:
    o = answer_checks(_answers(0.0, 0.0, seed=3, refusals=0.1), n_boot=800).overall
    assert o["acquiescence_ci_low"] <= 0 <= o["acquiescence_ci_high"]
    assert o["order_effect_ci_low"] <= 0 <= o["order_effect_ci_high"]
    assert o["reverse_yes_rate"] == pytest.approx(50, abs=5)


def test_nothing_is_measured_without_the_axis_and_lines_say_only_what_was() -> None:
    forward = _answers(0.1, 0.0)
    forward = forward[(forward["keying"] == "forward")].assign(answer_order="yes_first")
    checks = answer_checks(forward, n_boot=200)
    assert checks.metrics() == {} and checks.lines() == []
    assert checks.per_value[list(CHECK_COLUMNS)].isna().all().all()
    assert len(checks.per_value) == 10
    no_order = answer_checks(_answers(0.1, 0.0).assign(answer_order="yes_first"), n_boot=200)
    assert set(no_order.metrics()) == {"reverse_yes_rate", "acquiescence", "acquiescence_ci_low",
                                       "acquiescence_ci_high"}  # fmt: skip
    assert "acquiescence" in no_order.lines()[0] and len(no_order.lines()) == 2


def test_the_intervals_are_paired_over_the_same_screenshots() -> None:
    # The same screenshots answered both ways: sharing weights cancels what the two rates have
    # in common (the images' own appeal), so the paired interval is narrower than the one
    # from independent rates would be.
    answers = _answers(0.05, 0.0, images=30)
    paired = answer_checks(answers, n_boot=1000).overall
    reverse = answers["keying"] == "reverse"
    apart = answers.copy()
    apart.loc[reverse, "screenshot_id"] += 10**6
    unpaired = answer_checks(apart, n_boot=1000).overall
    width = paired["acquiescence_ci_high"] - paired["acquiescence_ci_low"]
    assert width < unpaired["acquiescence_ci_high"] - unpaired["acquiescence_ci_low"]
