"""Induction metrics on synthetic sessions whose answers are known by construction."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from valuespectrum.induce.metrics import (
    amplification_curve,
    diversity_curve,
    induction_metrics,
    induction_table,
    session_inductions,
    time_to_personalisation,
    yes_rate_curve,
)
from valuespectrum.values import VALUES

N, WINDOW = 100, 50


def session(sid: str, persona: str, condition: str, stays, values=None, favours=("hedonism",),
            invalid=None) -> pd.DataFrame:  # fmt: skip
    stays = np.asarray(stays, bool)
    n = len(stays)
    values = values if values is not None else [("power",)] * n
    return pd.DataFrame({
        "session_id": sid, "persona_id": persona, "condition": condition,
        "position": np.arange(n), "item_id": np.arange(n) + 1000, "stay": stays,
        "invalid": np.zeros(n, bool) if invalid is None else np.asarray(invalid, bool),
        "values": list(values), "favours": [list(favours)] * n,
    })  # fmt: skip


def rising(rng: np.random.Generator, lo: float, hi: float, n: int = N) -> np.ndarray:
    return rng.random(n) < np.linspace(lo, hi, n)


def study(seed: int = 0, personas: int = 8) -> pd.DataFrame:
    """Adaptive sessions whose stays rise from 20% to 80%; control sessions whose two halves
    are the same stays (I = 0 exactly)."""
    rng = np.random.default_rng(seed)
    parts = []
    for p in range(personas):
        parts.append(session(f"a{p}", f"p{p}", "adaptive", rising(rng, 0.2, 0.8)))
        half = rng.random(N // 2) < 0.4
        parts.append(session(f"c{p}", f"p{p}", "control", np.concatenate([half, half])))
    return pd.concat(parts, ignore_index=True)


def test_i_is_last_window_minus_first_in_points_and_relative() -> None:
    stays = np.r_[np.arange(50) < 10, np.arange(50) < 40]  # 20% then 80%
    (row,) = session_inductions(session("s", "p", "adaptive", stays), window=WINDOW).to_dict(
        "records")  # fmt: skip
    assert row["yes_first"] == 20 and row["yes_last"] == 80
    assert row["I_points"] == 60 and row["I_relative"] == 300


def test_a_rising_adaptive_feed_has_positive_i_and_identical_halves_have_zero() -> None:
    table = induction_table(study(), window=WINDOW, n_boot=1000, seed=1)
    adaptive, control = table["conditions"]["adaptive"], table["conditions"]["control"]
    assert adaptive["I_avg"] > 25 and adaptive["ci_low"] > 0
    assert adaptive["ci_low"] <= adaptive["I_avg"] <= adaptive["ci_high"]
    assert adaptive["I_avg_relative"] > 50 and adaptive["relative_ci_low"] > 0
    assert control["I_avg"] == 0 and control["ci_low"] <= 0 <= control["ci_high"]
    net = table["net"]
    assert net["paired"] and net["n_personas"] == 8
    assert net["effect"] == pytest.approx(adaptive["I_avg"] - control["I_avg"])
    assert net["ci_low"] > 0


def test_a_feed_that_learns_nothing_has_an_effect_zero_within_its_ci() -> None:
    """Thirty null studies (10 personas, stays at a constant 35% in both conditions): the CIs
    hold 0 about as often as a 95% interval should (at least 80% of thirty, to leave room for
    chance; the coverage itself is measured in test_coverage.py)."""
    held = {"adaptive": 0, "control": 0, "net": 0}
    for seed in range(30):
        rng = np.random.default_rng(seed)
        frame = pd.concat(
            [session(f"{c}{p}", f"p{p}", cond, rng.random(N) < 0.35)
             for p in range(10) for c, cond in (("a", "adaptive"), ("c", "control"))],
            ignore_index=True,
        )  # fmt: skip
        table = induction_table(frame, window=WINDOW, n_boot=200, seed=seed)
        for name, row in table["conditions"].items():
            held[name] += row["ci_low"] <= 0 <= row["ci_high"]
        held["net"] += table["net"]["ci_low"] <= 0 <= table["net"]["ci_high"]
    assert min(held.values()) >= 24, held


def test_same_seed_same_numbers_other_seed_other_resamples() -> None:
    frame = study(seed=3)
    a = induction_metrics(induction_table(frame, window=WINDOW, n_boot=300, seed=7))
    b = induction_metrics(induction_table(frame, window=WINDOW, n_boot=300, seed=7))
    c = induction_metrics(induction_table(frame, window=WINDOW, n_boot=300, seed=8))
    assert a == b
    assert a["I_avg/adaptive"] == c["I_avg/adaptive"]
    assert a["I_avg_ci_low/adaptive"] != c["I_avg_ci_low/adaptive"]
    assert {"net_effect", "net_effect_ci_low", "net_effect_ci_high", "I_avg/control"} <= set(a)


def test_i_avg_weights_personas_equally_whatever_their_number_of_sessions() -> None:
    up = np.r_[np.zeros(50, bool), np.arange(50) < 30]  # I = 60
    flat = np.zeros(N, bool)  # I = 0
    frame = pd.concat([session("a1", "busy", "adaptive", up), session("a2", "busy", "adaptive", up),
                       session("a3", "busy", "adaptive", up),
                       session("b1", "quiet", "adaptive", flat)], ignore_index=True)  # fmt: skip
    row = induction_table(frame, window=WINDOW, n_boot=200, seed=0)["conditions"]["adaptive"]
    assert row["I_avg"] == 30 and row["n_personas"] == 2 and row["n_sessions"] == 4
    # resampling two personas gives 0, 30 or 60; the deviations from 30 are stretched for two
    # personas by √(2/1)·t(1)/z (stats/nested.py)
    factor = math.sqrt(2) * 12.706204736174698 / 1.959963984540054
    assert row["ci_low"] == pytest.approx(30 - 30 * factor)
    assert row["ci_high"] == pytest.approx(30 + 30 * factor)


def test_invalid_replies_are_skips_and_counted() -> None:
    stays = np.ones(N, bool)
    invalid = np.r_[np.zeros(50, bool), np.arange(50) < 10]  # 10 invalid in the last window
    (row,) = session_inductions(session("s", "p", "adaptive", stays, invalid=invalid),
                                window=WINDOW).to_dict("records")  # fmt: skip
    assert row["yes_last"] == 80 and row["n_invalid"] == 10 and row["invalid_rate"] == 0.1
    table = induction_table(session("s", "p", "adaptive", stays, invalid=invalid), window=WINDOW,
                            n_boot=10, seed=0)  # fmt: skip
    assert table["net"] is None and table["conditions"]["adaptive"]["invalid_rate"] == 0.1


def test_unpaired_personas_give_an_independent_difference() -> None:
    rng = np.random.default_rng(2)
    frame = pd.concat(
        [session(f"a{p}", f"p{p}", "adaptive", rising(rng, 0.1, 0.9)) for p in range(6)]
        + [session(f"c{p}", f"q{p}", "control", rng.random(N) < 0.4) for p in range(6)],
        ignore_index=True,
    )
    net = induction_table(frame, window=WINDOW, n_boot=500, seed=0)["net"]
    assert not net["paired"] and net["n_personas"] == 0 and net["ci_low"] > 0


def test_bad_input_is_named() -> None:
    with pytest.raises(ValueError, match="fewer than the window"):
        session_inductions(session("s", "p", "adaptive", np.ones(30, bool)), window=WINDOW)
    with pytest.raises(ValueError, match="unknown condition"):
        session_inductions(session("s", "p", "treated", np.ones(N, bool)), window=WINDOW)
    with pytest.raises(ValueError, match="lack column"):
        session_inductions(session("s", "p", "adaptive", np.ones(N, bool)).drop(columns="stay"),
                           window=WINDOW)  # fmt: skip


def served(rng: np.random.Generator, share_from: float, share_to: float) -> list[tuple[str, ...]]:
    """Items whose chance of showing the favoured value moves from ``share_from`` to
    ``share_to`` along the session; the others are drawn from the nine other values."""
    others = [v for v in VALUES if v != "hedonism"]
    return [("hedonism",) if rng.random() < p else (str(rng.choice(others)),)
            for p in np.linspace(share_from, share_to, N)]  # fmt: skip


def audit_study(seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    parts = []
    for p in range(6):
        parts.append(session(f"a{p}", f"p{p}", "adaptive", rng.random(N) < 0.5,
                             values=served(rng, 0.1, 0.95)))  # fmt: skip
        parts.append(session(f"c{p}", f"p{p}", "control", rng.random(N) < 0.5,
                             values=served(rng, 0.1, 0.1)))  # fmt: skip
    return pd.concat(parts, ignore_index=True)


def test_amplification_rises_on_the_adaptive_feed_and_personalises_at_a_known_time() -> None:
    curve = amplification_curve(audit_study(), n_boot=500, seed=0, smooth=10)
    a = curve[curve["condition"] == "adaptive"].set_index("position")
    c = curve[curve["condition"] == "control"].set_index("position")
    assert list(a.index) == list(range(N)) and (a["n_sessions"] == 6).all()
    assert a["share"].iloc[-1] > 75 and c["share"].iloc[-1] < 30
    assert (curve["ci_low"] <= curve["share"]).all() and (curve["share"] <= curve["ci_high"]).all()
    when = time_to_personalisation(curve, sustain=10)
    assert when is not None and 5 <= when <= 50
    assert (a["share"].loc[when:when + 9] > c["ci_high"].loc[when:when + 9]).all()


def test_amplification_needs_favours() -> None:
    frame = audit_study()
    frame["favours"] = [[] for _ in range(len(frame))]
    assert amplification_curve(frame, n_boot=10, seed=0).empty


def test_time_to_personalisation_needs_a_sustained_lead_and_the_control() -> None:
    def curve(adaptive: list[float]) -> pd.DataFrame:
        n = len(adaptive)
        return pd.DataFrame({
            "condition": ["adaptive"] * n + ["control"] * n, "position": list(range(n)) * 2,
            "share": adaptive + [10.0] * n, "ci_low": [0.0] * 2 * n,
            "ci_high": [float("nan")] * n + [20.0] * n, "n_sessions": [1] * 2 * n,
        })  # fmt: skip

    assert time_to_personalisation(curve([0, 30, 0, 0, 25, 30, 40, 50]), sustain=3) == 4
    assert time_to_personalisation(curve([0, 30, 0, 30, 0, 30, 0, 0]), sustain=2) is None
    assert time_to_personalisation(curve([0, 0, 0, 0, 0, 0, 0, 90]), sustain=3) == 7  # to the end
    only = curve([0, 30]).query("condition == 'adaptive'")
    with pytest.raises(ValueError, match="control"):
        time_to_personalisation(only)


def test_diversity_narrows_when_the_feed_serves_one_value() -> None:
    cycle = [(VALUES[i % 10],) for i in range(N)]
    narrowing = cycle[:50] + [("hedonism",)] * 50
    frame = pd.concat([
        session("a", "p", "adaptive", np.ones(N, bool), values=narrowing),
        session("c", "p", "control", np.ones(N, bool), values=cycle),
    ], ignore_index=True)  # fmt: skip
    curve = diversity_curve(frame, 10, n_boot=50, seed=0)
    a = curve[curve["condition"] == "adaptive"].set_index("position")["entropy"]
    c = curve[curve["condition"] == "control"].set_index("position")["entropy"]
    assert a.index.min() == 9  # full windows only
    assert c.to_numpy() == pytest.approx(math.log2(10))
    assert a.loc[40] == pytest.approx(math.log2(10)) and a.loc[99] == 0


def test_diversity_splits_items_with_several_labels() -> None:
    values = [("hedonism", "stimulation")] * 20
    curve = diversity_curve(session("a", "p", "adaptive", np.ones(20, bool), values=values), 5,
                            n_boot=10, seed=0)  # fmt: skip
    assert curve["entropy"].to_numpy() == pytest.approx(1.0)


def test_yes_rate_curve_is_smoothed_by_position() -> None:
    stays = np.arange(N) >= 50
    curve = yes_rate_curve(session("s", "p", "adaptive", stays), n_boot=20, seed=0, smooth=10)
    share = curve.set_index("position")["share"]
    assert share.loc[49] == 0 and share.loc[54] == 50 and share.loc[99] == 100
