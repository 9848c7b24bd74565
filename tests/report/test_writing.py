"""The report folder: one self-contained page, every table as CSV, every figure as PNG + the
configured formats; a failing section loses no other and makes the command exit non-zero; the
folder is logged to an MLflow run of its own; the stage writes it into the job's folder."""

from __future__ import annotations

import re

import pandas as pd
import pytest

from valuespectrum import runner
from valuespectrum.cli import compose
from valuespectrum.report import __main__ as command_line
from valuespectrum.report import builders
from valuespectrum.report.command import make_report
from valuespectrum.report.errors import ReportIncomplete


def _cfg(run, *extra: str):
    return compose([f"report.multirun={run.folder}", f"paths.workspace={run.workspace}",
                    "progress=false", *extra])  # fmt: skip


def test_the_folder_holds_a_self_contained_page_csvs_and_figures(demo_multirun, tmp_path
                                                                 ) -> None:  # fmt: skip
    out = tmp_path / "report"
    cfg = _cfg(demo_multirun, "report.paper=true", "tracking.enabled=false",
               "plots.formats=[png,svg,pdf]")  # fmt: skip
    result = make_report(cfg, out)
    assert result.errors == [] and result.sections[:2] == ["runs", "overview"]
    page = result.html.read_text()
    # no external reference: every src is a data URI, no link leaves the page
    assert re.findall(r'src="(?!data:image/png;base64,)', page) == []
    text = re.sub(r"data:image/png;base64,[A-Za-z0-9+/=]+", "", page)
    assert not re.search(r"https?:|<link |<script|@import|url\(", text)
    assert re.findall(r'href="(?!#)', text) == []
    assert page.count("<img ") == len(list((out / "figures").glob("*.png"))) >= 1
    for png in (out / "figures").glob("*.png"):
        assert {p.suffix for p in png.parent.glob(f"{png.stem}.*")} == {".png", ".svg", ".pdf"}
    runs = pd.read_csv(out / "tables" / "runs.csv")
    assert len(runs) == 4 + 8 and list(runs["source"]).count("table") == 8
    jobs = pd.read_csv(out / "tables" / "jobs.csv").set_index("job")
    assert jobs.loc["j2", "answers"] == 200 and jobs.loc["j2", "images"] > 0
    assert jobs.loc["j2", ["yes", "no", "refusal", "invalid", "no_image", "error"]].sum() == 200
    assert 'id="overview-jobs"' in page and 'href="#overview"' in page
    assert "SIMULATED respondent, not a VLM" in page  # the overview's flag, on top of it


def test_a_failing_section_is_shown_and_the_others_are_kept(demo_multirun, tmp_path,
                                                            monkeypatch) -> None:  # fmt: skip
    def broken(data, settings):
        raise ValueError("no such column")

    monkeypatch.setattr(builders, "BUILDERS", (("broken", broken), *builders.BUILDERS))
    out = tmp_path / "report"
    result = make_report(_cfg(demo_multirun, "tracking.enabled=false"), out)
    assert result.errors == ["broken: ValueError: no such column"]
    page = result.html.read_text()
    assert "This section failed" in page and "no such column" in page
    assert 'id="overview"' in page and (out / "tables" / "jobs.csv").is_file()
    assert (out / "errors.txt").read_text().startswith("broken: ValueError")
    rc = command_line.main(["--multirun", str(demo_multirun.folder), "--out", str(out),
                            "--no-tracking"])  # fmt: skip
    assert rc == 1
    cfg = _cfg(demo_multirun, "tracking.enabled=false", "stages=[report]")
    with pytest.raises(ReportIncomplete, match=r"1 section\(s\) failed \(first: broken"):
        runner.run(cfg, output_dir=tmp_path / "job")


def test_the_command_logs_the_folder_to_an_mlflow_run_of_its_own(demo_multirun, tmp_path,
                                                                 capsys) -> None:  # fmt: skip
    from valuespectrum.tracking import reading_client

    out = tmp_path / "report"
    rc = command_line.main(["--multirun", str(demo_multirun.folder), "--out", str(out)])
    assert rc == 0
    assert capsys.readouterr().out.strip() == f"report: {out / 'report.html'}"
    client, _ = reading_client(demo_multirun.tracking_uri)
    exp = client.get_experiment_by_name("valuespectrum")
    [run] = client.search_runs([exp.experiment_id], "tags.`valuespectrum.kind` = 'report'")
    jobs = {r.info.run_id for r in client.search_runs([exp.experiment_id], "tags.probe_run != ''")}
    assert set(run.data.tags["report.runs"].split(",")) == jobs and len(jobs) == 4
    logged = {a.path for a in client.list_artifacts(run.info.run_id, "report")}
    assert {"report/report.html", "report/tables", "report/figures"} <= logged
    tables = {a.path for a in client.list_artifacts(run.info.run_id, "report/tables")}
    assert "report/tables/jobs.csv" in tables


def test_the_stage_writes_the_report_into_the_jobs_folder(demo_multirun, tmp_path) -> None:
    cfg = _cfg(demo_multirun, "tracking.enabled=false", "stages=[report]")
    metrics = runner.run(cfg, output_dir=tmp_path / "job")
    assert (tmp_path / "job" / "report" / "report.html").is_file()
    # runs, overview, profiles, robustness (prompts and k vary), structure (4 jobs), known
    # truth (a simulated respondent); no role-play (no sessions)
    assert metrics["usage/report/jobs"] == 4 and metrics["report/sections"] == 6
    assert (tmp_path / "job" / "run.json").is_file()  # the report job's own record


def test_the_stage_refuses_an_empty_selection_before_any_work(tmp_path) -> None:
    from valuespectrum.config import ConfigError

    cfg = compose([f"paths.workspace={tmp_path / 'ws'}", "stages=[report]",
                   "tracking.enabled=false"])  # fmt: skip
    with pytest.raises(ConfigError, match=r"report: nothing selected; give report\.multirun"):
        runner.preflight(cfg)
