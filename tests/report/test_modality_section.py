"""The report's modality section on synthetic ReportData: pairing, paired CIs, flags, figure."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from valuespectrum.report import modality_section
from valuespectrum.report.sections import ReportData, ReportSettings
from valuespectrum.values import VALUES

SETTINGS = ReportSettings(n_boot=500, seed=0)
N = 40  # screenshots per value


def _answers(job: str, p_yes: dict[str, float], seed: int, **extra) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rows = []
    for i, value in enumerate(VALUES):
        for k in range(N):
            yes = rng.random() < p_yes[value]
            rows.append({"job": job, "value": value, "keyword": "kw", "screenshot_id": 100 * i + k,
                         "sample": 0, "outcome": "yes" if yes else "no", **extra})
    return pd.DataFrame(rows)


def _scores(answers: pd.DataFrame) -> pd.DataFrame:
    counted = answers[answers["outcome"].isin(["yes", "no"])]
    rate = counted.groupby(["job", "value"])["outcome"].apply(lambda o: 100 * (o == "yes").mean())
    return rate.rename("score").reset_index()


def _data(runs: list[dict], answers: pd.DataFrame) -> ReportData:
    empty = pd.DataFrame({"job": []})
    return ReportData(runs=pd.DataFrame(runs), scores=_scores(answers), keyword_scores=empty,
                      answers=answers, sessions=empty, impressions=empty,
                      factors=("modality", "describer", "model"))


IMAGE = dict.fromkeys(VALUES, 0.8)
TEXT = {**IMAGE, "power": 0.1}  # reading moves Power only, by 70 points


def _ablation() -> ReportData:
    runs = [
        {"job": "0", "model": "gpt4o", "factor.modality": "image", "factor.describer": "None",
         "factor.model": "gpt4o"},
        {"job": "1", "model": "gpt4o", "factor.modality": "description",
         "factor.describer": "claude", "factor.model": "gpt4o"},
        {"job": "2", "model": "llama", "factor.modality": "description",
         "factor.describer": "claude", "factor.model": "llama"},  # no image job: not paired
    ]
    answers = pd.concat([_answers("0", IMAGE, 1), _answers("1", TEXT, 2),
                         _answers("2", TEXT, 3)])
    return _data(runs, answers)


def test_description_jobs_pair_with_the_image_job_of_the_same_answerer() -> None:
    assert modality_section.pairs(_ablation()) == [("gpt4o", "claude", "0", "1")]
    data = _ablation()
    data.runs = data.runs.drop(columns=["factor.modality"])
    assert modality_section.build(data, SETTINGS) is None  # no modality factor: no section


def test_the_table_gives_both_scores_the_difference_and_flags_what_moved() -> None:
    section = modality_section.build(_ablation(), SETTINGS)
    table = section.tables["modality_differences"].set_index("value")
    assert list(table.columns[:2]) == ["answerer", "describer"] and len(table) == 10
    power = table.loc["power"]
    assert power["difference"] == pytest.approx(power["score_text"] - power["score_image"])
    assert power["ci_low"] < power["difference"] < power["ci_high"] < 0
    assert power["n_shared"] == N and power["excludes_zero"]
    assert table["excludes_zero"].sum() <= 2  # the unmoved values mostly hold 0
    assert any(f.startswith("gpt4o reading claude: Power -") for f in section.flags)
    assert "Spearman rho" in section.text[1]


def test_the_ci_is_paired_over_shared_screenshots_and_counts_forward_answers_only() -> None:
    answers = _answers("0", IMAGE, 1)
    same = answers.assign(job="1")  # the same answers: the paired difference is exactly 0
    reversed_ = same.assign(keying="reverse", outcome="no")  # never in the score
    data = _data([
        {"job": "0", "model": "m", "factor.modality": "image"},
        {"job": "1", "model": "m", "factor.modality": "description"},
    ], pd.concat([answers.assign(keying="forward"), same.assign(keying="forward"), reversed_]))
    table = modality_section.modality_table(data, SETTINGS)
    assert (table["difference"] == 0).all() and (table["ci_low"] == 0).all()
    assert (table["ci_high"] == 0).all() and not table["excludes_zero"].any()
    assert set(table["describer"]) == {"describer"}  # the describer did not vary


def test_no_shared_screenshots_give_no_interval() -> None:
    image = _answers("0", IMAGE, 1)
    text = _answers("1", TEXT, 2).assign(screenshot_id=lambda f: f["screenshot_id"] + 10_000)
    data = _data([{"job": "0", "model": "m", "factor.modality": "image"},
                  {"job": "1", "model": "m", "factor.modality": "description"}],
                 pd.concat([image, text]))
    table = modality_section.modality_table(data, SETTINGS)
    assert (table["n_shared"] == 0).all() and table["ci_low"].isna().all()
    assert not table["excludes_zero"].any()


def test_the_figure_draws_a_png(tmp_path) -> None:
    section = modality_section.build(_ablation(), SETTINGS)
    (figure,) = section.figures
    png = figure.draw(tmp_path / figure.name)
    assert png.suffix == ".png" and png.exists()
    with Image.open(png) as img:
        assert img.width > 300 and img.height > 200
