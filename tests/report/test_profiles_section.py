"""The report's profile section: the paper's table and summary, ours beside the paper's rows,
the spread against noise, the answer rates, the keyword drill-down and the figures."""

from __future__ import annotations

import numpy as np
import pandas as pd
from PIL import Image

from tests.report.section_data import paper_table_data, report_data, run_row, score_rows
from valuespectrum.report import profiles_section
from valuespectrum.report.paper import INTRINSIC
from valuespectrum.report.plots import figure_paths
from valuespectrum.report.sections import ReportSettings
from valuespectrum.values import LABELS, PAPER_AXIS_ORDER, VALUES

SETTINGS = ReportSettings(n_boot=200, n_perm=99)
# paper.md section 5, as printed.
PRINTED_STD = {"blip-2": "16.5", "claude-3.5-sonnet": "11.2", "internvl2": "10.8",
               "gpt-4o": "10.3", "qwen2.5-vl-plus": "9.43", "deepseek-vl2": "7.04",
               "gemini-2.0-flash": "4.02"}  # fmt: skip


def test_the_paper_table_as_input_reproduces_its_stds_and_value_means() -> None:
    section = profiles_section.build(paper_table_data(), SETTINGS)
    spread = section.tables["spread"].set_index("model")
    assert {m: spread.at[m, "std_printed"] for m in PRINTED_STD} == PRINTED_STD
    means = section.tables["value_means"]
    assert means.iloc[-1]["value"] == "Stimulation" and means.iloc[-1]["mean_printed"] == "55.0"
    printed = dict(zip(means["value"], means["mean_printed"], strict=True))
    assert printed["Universalism"] == "73.3" and means.iloc[0]["mean_printed"] == "73.3"
    text = " ".join(section.text)
    assert "blip-2 16.5" in text and "gemini-2.0-flash 4.02" in text
    assert "Universalism 73.3" in text and text.count("Stimulation 55.0.") == 1
    # the paper's table itself is not "compared with the paper"; it has no counts to rate
    assert "paper_comparison" not in section.tables and "answer_rates" not in {
        f.name for f in section.figures}


def test_the_models_table_has_the_papers_columns_and_a_row_per_job() -> None:
    runs = [run_row("a", "gpt4o", label="GPT-4o"), run_row("b", "claude", label="Claude 4.6")]
    scores = score_rows("a", "gpt4o", INTRINSIC["gpt-4o"]) + score_rows(
        "b", "claude", INTRINSIC["claude-3.5-sonnet"])
    table = profiles_section.build(report_data(runs, scores), SETTINGS).tables["profiles"]
    assert list(table.columns[3:]) == [LABELS[v] for v in PAPER_AXIS_ORDER]
    assert list(table["model"]) == ["GPT-4o", "Claude 4.6"]
    assert table.at[0, "Self-Direction"] == "78.0 [63.9, 92.1]"  # score [95% CI]


def test_ours_beside_the_papers_row_gives_rho_and_the_mean_difference() -> None:
    shifted = {v: s + 4 for v, s in INTRINSIC["gpt-4o"].items()}
    runs = [run_row("a", "gpt4o", label="GPT-4o"), run_row("b", "claude", label="Claude 4.6"),
            run_row("s", "respondent", label="Respondent", simulated=True,
                    true_profile=INTRINSIC["gpt-4o"])]  # the profile it was given
    scores = (score_rows("a", "gpt4o", shifted) + score_rows("b", "claude", shifted)
              + score_rows("s", "respondent", shifted, truth=shifted))  # its expectation
    section = profiles_section.build(report_data(runs, scores), SETTINGS)
    comp = section.tables["paper_comparison"].set_index("job")
    assert set(comp.index) == {"a", "s"}  # the successor config has no paper row
    assert comp.at["a", "rho"] == 1.0 and comp.at["a", "mean_difference"] == 4.0
    assert comp.at["a", "basis"] == "same model"
    assert "SIMULATED" in comp.at["s", "basis"] and comp.at["s", "paper_row"] == "gpt-4o"
    assert comp.at["s", "model"] == "Respondent (SIMULATED)"
    detail = section.tables["paper_differences"]
    assert (detail[detail["job"] == "a"]["difference"] == 4.0).all()
    assert any("SIMULATED respondent" in t for t in section.text)


def test_a_flat_profile_shows_only_binomial_noise() -> None:
    flat = dict.fromkeys(VALUES, 80.0)
    section = profiles_section.build(
        report_data([run_row("a", "m")], score_rows("a", "m", flat, n=50)), SETTINGS)
    row = section.tables["spread"].iloc[0]
    assert row["std"] == 0 and row["std_noise_corrected"] == 0
    assert abs(row["noise_std"] - 100 * np.sqrt(0.8 * 0.2 / 50)) < 1e-9


def test_rates_count_refusals_and_errors_per_job() -> None:
    runs = [run_row("a", "m"), run_row("t", "gpt-4o", source="table")]
    scores = score_rows("a", "m", INTRINSIC["gpt-4o"], n=40, refusals=10, errors=5)
    scores += score_rows("t", "gpt-4o", INTRINSIC["gpt-4o"], n=None)
    rates = profiles_section.build(report_data(runs, scores), SETTINGS).tables["rates"]
    assert list(rates["job"]) == ["a"]  # a published table has no counts
    assert rates.at[0, "refusal_rate"] == 10 / 50 and rates.at[0, "error_rate"] == 5 / 55


def test_keyword_drivers_are_flagged() -> None:
    kw = pd.DataFrame([
        {"job": "a", "model": "m", "value": "hedonism", "keyword": "comedy", "n": 5,
         "score": 100.0, "ci_low": 80.0, "ci_high": 100.0, "loo_shift": -7.5, "driver": True},
        {"job": "a", "model": "m", "value": "hedonism", "keyword": "concert", "n": 5,
         "score": 60.0, "ci_low": 20.0, "ci_high": 100.0, "loo_shift": 1.0, "driver": False},
    ])  # fmt: skip
    data = report_data([run_row("a", "m", label="M")],
                       score_rows("a", "m", INTRINSIC["gpt-4o"]), keyword_scores=kw)
    section = profiles_section.build(data, SETTINGS)
    assert list(section.tables["keyword_scores"]["keyword"]) == ["comedy", "concert"]
    assert section.flags == [
        "M: Hedonism rests on the keyword 'comedy' (leaving it out moves the score -7.5 points)"]


def test_no_scores_no_section() -> None:
    assert profiles_section.build(report_data([run_row("a", "m")]), SETTINGS) is None


def test_every_figure_draws_a_readable_png(tmp_path) -> None:
    runs = [run_row("a", "gpt4o", label="GPT-4o"), run_row("b", "blip2", label="BLIP-2"),
            run_row("s", "respondent", label="Respondent", simulated=True,
                    true_profile=INTRINSIC["cogvlm2"])]
    scores = (score_rows("a", "gpt4o", INTRINSIC["gpt-4o"], refusals=3)
              + score_rows("b", "blip2", INTRINSIC["blip-2"], errors=2)
              + score_rows("s", "respondent", INTRINSIC["cogvlm2"], truth=INTRINSIC["cogvlm2"]))
    section = profiles_section.build(report_data(runs, scores), SETTINGS)
    names = [f.name for f in section.figures]
    assert names == ["radar_overlay", "radar_paper", "value_means", "model_std",
                     "centred_heatmap", "answer_rates"]
    for figure in section.figures:
        png = figure.draw(tmp_path / figure.name)
        assert png == tmp_path / f"{figure.name}.png"
        assert all(p.is_file() for p in figure_paths(png))
        with Image.open(png) as image:
            image.verify()
