"""Role-play figures are written as PNG and SVG, readable, and say when they are simulated."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from valuespectrum.induce.metrics import (
    amplification_curve,
    diversity_curve,
    time_to_personalisation,
    yes_rate_curve,
)
from valuespectrum.report.induce_plots import (
    SIMULATED_NOTE,
    amplification_plot,
    diversity_plot,
    induction_bars,
    yes_rate_plot,
)
from valuespectrum.report.plots import figure_paths
from valuespectrum.values import VALUES


def _impressions(n: int = 60) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    rows = []
    for condition, rise in (("adaptive", True), ("control", False)):
        for p in range(3):
            for pos in range(n):
                liked = rng.random() < (0.1 + 0.8 * pos / n if rise else 0.1)
                rows.append({
                    "session_id": f"{condition}-{p}", "persona_id": f"p{p}",
                    "condition": condition, "position": pos, "item_id": pos,
                    "stay": liked and rng.random() < 0.9, "invalid": False,
                    "values": ["hedonism"] if liked else [str(rng.choice(VALUES[3:]))],
                    "favours": ["hedonism"],
                })  # fmt: skip
    return pd.DataFrame(rows)


def _readable(png) -> None:
    for path in figure_paths(png):
        assert path.is_file() and path.stat().st_size > 1000, path
    with Image.open(png) as image:
        image.verify()
    svg = figure_paths(png)[1].read_text()
    assert svg.lstrip().startswith("<?xml") and "<svg" in svg


@pytest.mark.parametrize("simulated", [True, False])
def test_session_curves_are_written_with_their_labels(tmp_path, simulated: bool) -> None:
    frame = _impressions()
    amp = amplification_curve(frame, n_boot=50, seed=0)
    pngs = [
        yes_rate_plot(yes_rate_curve(frame, n_boot=50, seed=0), tmp_path / "yes.png",
                      simulated=simulated, window=20),
        amplification_plot(amp, tmp_path / "amp.png", simulated=simulated,
                           personalised_at=time_to_personalisation(amp, sustain=5)),
        diversity_plot(diversity_curve(frame, 10, n_boot=50, seed=0), tmp_path / "div.png",
                       simulated=simulated),
    ]  # fmt: skip
    for png in pngs:
        _readable(png)
        svg = figure_paths(png)[1].read_text()
        assert "position in the session" in svg and "adaptive feed" in svg
        assert "control (random feed)" in svg and "95% bootstrap CI" in svg
        assert (SIMULATED_NOTE in svg) == simulated
    assert "% served items with a favoured value" in figure_paths(pngs[1])[1].read_text()


def test_the_i_avg_bars_per_model_strategy_and_platform(tmp_path) -> None:
    rows = [
        {"model": m, "strategy": s, "platform": p, "condition": c, "simulated": m == "respondent",
         "I_avg": i, "ci_low": i - 5, "ci_high": i + 5}
        for m in ("gpt4o", "respondent") for s in ("simple", "isq")
        for p in ("localfeed", "tiktok") for c, i in (("adaptive", 20.0), ("control", 1.0))
    ]  # fmt: skip
    png = induction_bars(pd.DataFrame(rows), tmp_path / "bars.png")
    _readable(png)
    svg = figure_paths(png)[1].read_text()
    expected = ("strategy = simple", "strategy = isq", "localfeed", "tiktok", "I_avg",
                "respondent (SIMULATED)", SIMULATED_NOTE, "control (random feed)")
    for text in expected:
        assert text in svg, text
    with pytest.raises(ValueError, match="needs columns"):
        induction_bars(pd.DataFrame(rows).drop(columns="ci_low"), tmp_path / "x.png")


def test_svg_is_byte_identical_when_redrawn(tmp_path) -> None:
    curve = yes_rate_curve(_impressions(), n_boot=20, seed=0)
    a = figure_paths(yes_rate_plot(curve, tmp_path / "a.png"))[1].read_bytes()
    b = figure_paths(yes_rate_plot(curve, tmp_path / "b.png"))[1].read_bytes()
    assert a == b
