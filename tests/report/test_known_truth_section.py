"""The known-truth section measures recovery error and coverage of a simulated job, flags a
pipeline that misses its truth, and draws a power curve whose interval width falls like
1/sqrt(n) without keyword spread and levels off with it when only images are added."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from tests.fakes.report_frames import report_data, runs, scores_from
from valuespectrum.report import known_truth_section
from valuespectrum.report.sections import ReportSettings
from valuespectrum.values import VALUES

SETTINGS = ReportSettings(n_boot=600, seed=0)
TRUE = dict(zip(VALUES, (70, 64, 58, 52, 30, 46, 40, 82, 76, 88), strict=True))


def simulated_answers(job: str, spread: float, *, keywords: int = 10, per_keyword: int = 5,
                      seed: int = 0) -> pd.DataFrame:  # fmt: skip
    """Answers with each keyword's rate drawn around the value's true rate (SD ``spread``)."""
    rng = np.random.default_rng(seed)
    rows = []
    for value in VALUES:
        rates = np.clip(TRUE[value] / 100 + rng.normal(0, spread, keywords), 0, 1)
        for kw, rate in enumerate(rates):
            for rank in range(per_keyword):
                rows.append({"job": job, "value": value, "keyword": f"{value}-{kw}",
                             "screenshot_id": VALUES.index(value) * 10_000 + kw * 100 + rank,
                             "outcome": "yes" if rng.random() < rate else "no"})  # fmt: skip
    return pd.DataFrame(rows)


def keyword_table(a: pd.DataFrame) -> pd.DataFrame:
    g = a.assign(y=(a["outcome"] == "yes").astype(int)).groupby(["job", "value", "keyword"])
    return pd.DataFrame({"n": g["y"].size(), "n_yes": g["y"].sum(),
                         "n_images": g["screenshot_id"].nunique()}).reset_index()


def data_for(a: pd.DataFrame, *, shift: float = 0.0, simulated: bool = True,
             keywords: bool = True):  # fmt: skip
    s = scores_from(a, true={"sim": TRUE})
    s[["score", "ci_low", "ci_high"]] += shift
    return report_data(runs(["sim"], simulated=simulated), s, a,
                       keyword_table(a) if keywords else None)


def test_recovered_vs_true_reports_error_and_coverage_and_draws(tmp_path):
    a = simulated_answers("sim", 0.0)
    section = known_truth_section.build(data_for(a), SETTINGS)
    values = section.tables["known_truth_values"]
    assert len(values) == 10 and list(values["value"]) == list(VALUES)
    recovered = a.assign(y=a["outcome"] == "yes").groupby("value")["y"].mean() * 100
    expected_mae = np.mean([abs(recovered[v] - TRUE[v]) for v in VALUES])
    summary = section.tables["known_truth_summary"].iloc[0]
    assert summary["mae"] == pytest.approx(expected_mae)
    assert summary["coverage"] >= 0.7 and summary["rank_rho"] > 0.8
    assert section.flags == [] and "SIMULATED" in section.text[0]
    for figure in section.figures:
        png = figure.draw(tmp_path / figure.name)
        with Image.open(png) as im:
            assert im.format == "PNG" and im.size[0] > 300


def test_a_pipeline_that_misses_its_truth_is_flagged():
    section = known_truth_section.build(data_for(simulated_answers("sim", 0.0), shift=30),
                                        SETTINGS)  # fmt: skip
    summary = section.tables["known_truth_summary"].iloc[0]
    assert summary["mean_error"] == pytest.approx(30, abs=6) and summary["coverage"] < 0.5
    assert "hold the true score" in section.flags[0]


def widths(power: pd.DataFrame, design: str) -> pd.Series:
    return power[power["design"] == design].set_index("n_images")["ci_width"]


def test_without_keyword_spread_the_interval_width_falls_like_one_over_sqrt_n():
    section = known_truth_section.build(data_for(simulated_answers("sim", 0.0),
                                                 keywords=False), SETTINGS)  # fmt: skip
    power = section.tables["known_truth_power"]
    assert (power["keyword_sd"] == 0).all()
    w = widths(power, "keywords")
    assert list(w.index) == [5, 10, 25, 50, 100, 200]
    assert w[200] / w[50] == pytest.approx(0.5, abs=0.07)
    assert w[100] / w[25] == pytest.approx(0.5, abs=0.07)
    mae = power[power["design"] == "keywords"]["mae"].to_numpy()
    assert np.all(np.diff(mae) < 0)


def test_the_run_keyword_spread_makes_more_images_per_keyword_level_off():
    section = known_truth_section.build(data_for(simulated_answers("sim", 0.15, seed=3)),
                                        SETTINGS)  # fmt: skip
    power = section.tables["known_truth_power"]
    assert power["keyword_sd"].iloc[0] == pytest.approx(15, abs=5)
    assert power["spread_from"].iloc[0] == "run" and power["run_keywords"].iloc[0] == 10
    more_keywords, more_images = widths(power, "keywords"), widths(power, "images_per_keyword")
    assert more_images[200] > 1.5 * more_keywords[200]  # the keyword spread does not average out
    assert more_images[200] / more_images[50] > 0.7
    assert any("with more keywords" in t and "±5 points" in t for t in section.text)


def test_no_simulated_job_gives_no_section():
    data = data_for(simulated_answers("sim", 0.0), simulated=False)
    assert known_truth_section.build(data, SETTINGS) is None
