"""The report's role-play section: induction per job from the stored tables, the paper's
changes beside ours, the ISQ threshold curves and the amplification curves."""

from __future__ import annotations

import pandas as pd
from PIL import Image

from tests.report.section_data import report_data, roleplay_rows, run_row
from valuespectrum.induce import metrics
from valuespectrum.report import roleplay_section
from valuespectrum.report.plots import figure_paths
from valuespectrum.report.sections import ReportSettings

SETTINGS = ReportSettings(n_boot=200, n_perm=99)


def _data(*jobs: tuple[str, str, dict], runs: list[dict] | None = None):
    sessions, impressions = [], []
    for job, model, kwargs in jobs:
        s, i = roleplay_rows(job, model, **kwargs)
        sessions += s
        impressions += i
    runs = runs or [run_row(job, model) for job, model, _ in jobs]
    return report_data(runs, sessions=pd.DataFrame(sessions),
                       impressions=pd.DataFrame(impressions))  # fmt: skip


def test_no_sessions_no_section() -> None:
    assert roleplay_section.build(report_data([run_row("a", "m")]), SETTINGS) is None


def test_the_stored_tables_become_the_metrics_rows() -> None:
    data = _data(("a", "gpt4o", {"videos": 30}))
    sessions = data.sessions.copy()
    sessions.loc[sessions["session_id"] == "a-control-0", "status"] = "failed"
    sessions.loc[sessions["session_id"] == "a-adaptive-0", "videos"] = 20  # a shorter last run
    frame = roleplay_section.impressions_frame(sessions, data.impressions)
    assert "a-control-0" not in set(frame["session_id"])
    sizes = frame.groupby("session_id").size()
    assert sizes["a-adaptive-0"] == 20 and sizes["a-adaptive-1"] == 30
    assert set(metrics.COLUMNS) <= set(frame.columns)
    assert (frame["stay"] == data.impressions.set_index(["session_id", "position"]).loc[
        list(zip(frame["session_id"], frame["position"], strict=True)), "stayed"].to_numpy()).all()


def test_i_avg_per_job_is_the_induce_stages_measure_with_the_paper_beside_it() -> None:
    data = _data(("a", "gpt4o", {}), ("b", "claude", {"seed": 1}),
                 runs=[run_row("a", "gpt4o", label="GPT-4o"),
                       run_row("b", "claude", label="Claude 4.6")])  # fmt: skip
    section = roleplay_section.build(data, SETTINGS)
    induction = section.tables["induction"].set_index(["job", "condition"])
    frame = roleplay_section.impressions_frame(data.sessions, data.impressions)
    own = metrics.induction_table(frame[frame["job"] == "a"], window=20, n_boot=200, seed=0)
    assert induction.at[("a", "adaptive"), "I_avg"] == own["conditions"]["adaptive"]["I_avg"]
    assert induction.at[("a", "adaptive"), "window"] == 20  # half of the 40 videos
    assert induction.at[("a", "adaptive"), "I_avg"] > induction.at[("a", "control"), "I_avg"]
    paper = section.tables["paper_induction"]
    assert list(paper["job"]) == ["a"]  # the successor config has no paper row
    assert paper.at[0, "paper_I_avg"] == 11.0 and paper.at[0, "paper_row"] == "gpt-4o"
    net = section.tables["net_induction"].set_index("job")
    assert net.at["a", "paired"] and net.at["a", "effect"] == own["net"]["effect"]
    amp = section.tables["amplification"].set_index("job")
    assert amp.at["a", "amplification_gain"] > 0
    assert any("paper's gpt-4o +11.0" in t for t in section.text)


def test_threshold_curves_need_two_isq_thresholds() -> None:
    one = roleplay_section.build(_data(("a", "gpt4o", {"threshold": 60.0})), SETTINGS)
    assert "isq_threshold_curves" not in {f.name for f in one.figures}
    jobs = (("a", "gpt4o", {"threshold": 50.0}), ("b", "gpt4o", {"threshold": 70.0, "seed": 2}))
    two = roleplay_section.build(_data(*jobs), SETTINGS)
    assert "isq_threshold_curves" in {f.name for f in two.figures}
    assert set(two.tables["induction"]["model"]) == {"gpt4o @ 50", "gpt4o @ 70"}
    # jobs labelled by their factors still make one curve per model config and platform
    runs = [run_row("a", "gpt4o", label="t=50"), run_row("b", "gpt4o", label="t=70")]
    labelled = roleplay_section.build(_data(*jobs, runs=runs), SETTINGS)
    assert "isq_threshold_curves" in {f.name for f in labelled.figures}
    # the paper's ISQ changes were measured at threshold 60 only
    assert "paper_induction" not in two.tables and "paper_induction" in one.tables


def test_a_simulated_respondent_is_said_so_and_never_beside_the_paper() -> None:
    data = _data(("s", "respondent", {}),
                 runs=[run_row("s", "respondent", label="Respondent", simulated=True)])
    section = roleplay_section.build(data, SETTINGS)
    assert "paper_induction" not in section.tables
    assert set(section.tables["induction"]["model"]) == {"Respondent (SIMULATED)"}
    assert any("SIMULATED respondent" in t for t in section.text)


def test_every_figure_draws_a_readable_png(tmp_path) -> None:
    data = _data(("a", "gpt4o", {"threshold": 50.0}), ("b", "gpt4o", {"threshold": 70.0}),
                 ("c", "claude35_sonnet", {"strategy": "simple", "platform": "youtube"}))
    section = roleplay_section.build(data, SETTINGS)
    assert [f.name for f in section.figures] == ["i_avg_bars", "isq_threshold_curves",
                                                 "amplification_curves"]  # fmt: skip
    for figure in section.figures:
        png = figure.draw(tmp_path / figure.name)
        assert all(p.is_file() for p in figure_paths(png))
        with Image.open(png) as image:
            image.verify()
