"""Selecting a report's runs: each job's run.json, by multirun folder, MLflow experiment and
tags, run ids; the factors that differ between jobs; and the one-line errors."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

import pytest

from valuespectrum.config import ConfigError
from valuespectrum.report.data import factor_keys, report_data
from valuespectrum.report.selection import Request, job_records
from valuespectrum.store import Store


def _data(request: Request, **kwargs):
    return report_data(job_records(request), **kwargs)


def test_every_job_records_what_it_produced_in_run_json_and_mlflow(demo_multirun) -> None:
    from valuespectrum.tracking import reading_client

    records = [json.loads((demo_multirun.folder / str(i) / "run.json").read_text())
               for i in range(4)]  # fmt: skip
    with Store(demo_multirun.workspace).connect() as con:
        stored = {r[0] for r in con.execute("SELECT probe_run FROM probe_runs").fetchall()}
    client, _ = reading_client(demo_multirun.tracking_uri)
    for record in records:
        assert record["status"] == "finished"
        assert record["probe_run"] in stored
        assert record["swept"] == ["prompts", "retrieve.k"]
        assert record["workspace"] == str(demo_multirun.workspace)
        run = client.get_run(record["mlflow"]["run_id"])
        assert run.data.tags["probe_run"] == record["probe_run"]
        assert run.data.tags["scoring_key"] == record["scoring_key"]
        assert "run.json" in {a.path for a in client.list_artifacts(run.info.run_id)}
    assert len({r["probe_run"] for r in records}) == 4


def test_a_multirun_folder_gives_its_jobs_with_their_factors_and_tables(demo_multirun) -> None:
    data = _data(Request(multirun=demo_multirun.folder))
    runs = data.runs
    assert data.factors == ("prompts", "retrieve.k")
    assert list(runs["label"]) == ["prompts=paper retrieve.k=1", "prompts=paper retrieve.k=2",
                                   "prompts=prototype retrieve.k=1",
                                   "prompts=prototype retrieve.k=2"]  # fmt: skip
    assert list(runs["factor.retrieve.k"]) == ["1", "2", "1", "2"]
    assert list(runs["prompt_version"]) == ["paper-v1", "paper-v1", "prototype-v1",
                                            "prototype-v1"]  # fmt: skip
    assert runs["simulated"].all() and (runs["source"] == "run").all()
    assert data.scores.groupby("job").size().to_dict() == {f"j{i}": 10 for i in range(1, 5)}
    # one answer per retrieved image: 10 values x 10 keywords x k
    assert data.answers.groupby("job").size().to_dict() == {"j1": 100, "j2": 200, "j3": 100,
                                                           "j4": 200}  # fmt: skip
    assert data.scores["true_score"].between(0, 100).all()  # the respondent's expected score
    assert set(data.keyword_scores["job"]) == {"j1", "j2", "j3", "j4"}
    assert data.sessions.empty and "session_id" in data.sessions.columns


def test_an_experiment_narrowed_by_tags_and_run_ids_select_those_jobs(demo_multirun) -> None:
    uri = demo_multirun.tracking_uri
    every = _data(Request(experiment="valuespectrum", tracking_uri=uri))
    assert len(every.runs) == 4  # the sweep's parent run is no job
    paper = _data(Request(experiment="valuespectrum", tags={"choice.prompts": "paper"},
                          tracking_uri=uri))  # fmt: skip
    assert paper.factors == ("retrieve.k",)
    assert list(paper.runs["label"]) == ["retrieve.k=1", "retrieve.k=2"]
    one = every.runs["mlflow_run_id"].iloc[2]
    picked = _data(Request(run_ids=[one], tracking_uri=uri))
    assert list(picked.runs["mlflow_run_id"]) == [one]
    assert picked.runs["label"].iloc[0] == "Simulated respondent (GPT-4o profile)"


def test_nothing_found_is_one_line_naming_the_fix(demo_multirun, tmp_path) -> None:
    with pytest.raises(ConfigError, match=r"no runs found in .*: it holds no job folders"):
        job_records(Request(multirun=tmp_path))
    with pytest.raises(ConfigError, match="no MLflow experiment 'nope'"):
        job_records(Request(experiment="nope", tracking_uri=demo_multirun.tracking_uri))
    with pytest.raises(ConfigError, match="no MLflow run abc"):
        job_records(Request(run_ids=["abc"], tracking_uri=demo_multirun.tracking_uri))
    with pytest.raises(ConfigError, match=r"no MLflow store at .*; pass --workspace"):
        job_records(Request(experiment="valuespectrum",
                            tracking_uri=f"sqlite:///{tmp_path / 'none.db'}"))


def test_an_unfinished_or_failed_job_is_refused_by_name(demo_multirun, tmp_path) -> None:
    sweep = tmp_path / "sweep"
    shutil.copytree(demo_multirun.folder, sweep)
    (sweep / "1" / "run.json").unlink()
    with pytest.raises(ConfigError, match=r"job 1 of .* has no run\.json: it did not finish"):
        job_records(Request(multirun=sweep))
    record = json.loads((demo_multirun.folder / "1" / "run.json").read_text())
    (sweep / "1" / "run.json").write_text(json.dumps({**record, "status": "failed"}))
    with pytest.raises(ConfigError, match=r"job 1 .*\(prompts=paper retrieve.k=2 .*\) ended "
                                          "failed"):
        job_records(Request(multirun=sweep))


def test_a_probe_run_missing_from_the_workspace_names_the_job_and_the_fix(
    demo_multirun, tmp_path
) -> None:
    other = tmp_path / "other_ws"
    with Store(other).connect():
        pass  # an empty workspace of this version
    records = job_records(Request(multirun=demo_multirun.folder))
    with pytest.raises(ConfigError, match=r"job 0 of .*\(prompts=paper retrieve.k=1 .*\): its "
                                          r"probe run \w+ .* is not in the workspace .*other_ws; "
                                          r"pass report.workspace"):
        report_data(records, workspace=other)
    with pytest.raises(ConfigError, match=r"holds no tables; pass report\.workspace"):
        report_data(records, workspace=tmp_path / "nowhere")


def test_a_database_held_by_another_process_is_refused_in_one_line(demo_multirun) -> None:
    db = demo_multirun.workspace / "valuespectrum.duckdb"
    holder = subprocess.Popen(
        [sys.executable, "-c", "import duckdb, sys, time; c = duckdb.connect(sys.argv[1]); "
         "print('open', flush=True); time.sleep(60)", str(db)],
        stdout=subprocess.PIPE, text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "open"
        records = job_records(Request(multirun=demo_multirun.folder))
        with pytest.raises(ConfigError, match=r"is held by another process .*; wait for the "
                                              r"running job to finish"):
            report_data(records)
    finally:
        holder.kill()
        holder.wait()


def test_factors_are_the_settings_that_differ_in_sweep_order() -> None:
    def record(k: int, model: str, extra=()):
        return {"swept": ["retrieve.k", "model"], "overrides": [f"retrieve.k={k}",
                f"model={model}", "paths.workspace=/x", *extra],
                "choices": {"model": model, "prompts": "paper"},
                "settings": {"retrieve.k": k, "seed": 0, "probe.samples": 1}}  # fmt: skip

    same = [record(1, "a"), record(1, "a")]
    assert factor_keys(same) == []
    records = [record(1, "a"), record(2, "b", ["probe.samples=3"])]
    records[1]["settings"]["probe.samples"] = 3
    # a job that does not override probe.samples has its resolved value: 1 vs 3 differ
    assert factor_keys(records) == ["retrieve.k", "model", "probe.samples"]


def test_an_induce_job_hands_its_sessions_to_the_report(demo_multirun, tmp_path) -> None:
    from valuespectrum import runner
    from valuespectrum.cli import compose
    from valuespectrum.report.overview import outcome_table

    ws = tmp_path / "ws"
    shutil.copytree(demo_multirun.workspace, ws)
    cfg = compose([f"paths.workspace={ws}", "stages=[induce]", "retrieve.k=1", "corpus.n=100",
                   "induce.videos=12", "induce.window=4", "induce.n_boot=200", "progress=false",
                   "tracking.enabled=false"])  # fmt: skip
    runner.run(cfg, output_dir=tmp_path / "job", overrides=["stages=[induce]"])
    record = json.loads((tmp_path / "job" / "run.json").read_text())
    assert record["probe_run"] is None and len(record["sessions"]) > 0
    data = _data(Request(multirun=tmp_path / "job"))
    assert set(data.sessions["session_id"]) == set(record["sessions"])
    assert set(data.sessions["condition"]) == {"adaptive", "control"}
    assert len(data.impressions) == 12 * len(record["sessions"])
    row = outcome_table(data).iloc[0]
    assert row["sessions"] == len(record["sessions"]) and row["answers"] == 0
