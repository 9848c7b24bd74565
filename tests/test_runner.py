"""End to end through `python run.py`: a tracked run with its artifacts, and sweeps — sequential
and parallel (joblib) over one workspace — that finish without lock errors or lost rows."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import duckdb

from tests.conftest import ROOT
from valuespectrum.tracking import REDACTED, flatten

STAGES = "stages=[collect,index,retrieve]"


def _run(*args: str, timeout: int = 300) -> subprocess.CompletedProcess:
    env = {**os.environ, "LITELLM_LOCAL_MODEL_COST_MAP": "True"}
    res = subprocess.run(
        [sys.executable, "run.py", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
    )
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]
    return res


def _mlflow_runs(ws: Path):
    from mlflow.tracking import MlflowClient

    client = MlflowClient(f"sqlite:///{ws / 'mlflow.db'}")
    exp = client.get_experiment_by_name("valuespectrum")
    return client, client.search_runs([exp.experiment_id])


def test_parallel_joblib_sweep_shares_one_workspace_cleanly(tmp_path) -> None:
    ws = tmp_path / "ws"
    res = _run(
        "-m",
        "hydra/launcher=joblib",
        "hydra.launcher.n_jobs=2",
        "model=gpt4o,claude",
        "strategy=simple,isq",
        STAGES,
        "corpus.n=30",
        "progress=false",
        f"paths.workspace={ws}",
        f"hydra.sweep.dir={tmp_path}/sweep",
    )
    assert "lock" not in res.stderr.lower()
    with duckdb.connect(str(ws / "valuespectrum.duckdb"), read_only=True) as con:
        shots = con.execute("SELECT count(*), count(DISTINCT sha256) FROM screenshots").fetchone()
        emb = con.execute(
            "SELECT kind, count(*), count(DISTINCT screenshot_id) FROM embeddings GROUP BY kind"
        ).fetchall()
        runs = con.execute("SELECT run_id, count(*) FROM retrievals GROUP BY run_id").fetchall()
    assert shots == (30, 30)
    assert sorted(emb) == [("caption", 30, 30), ("image", 30, 30)]
    # All four jobs asked the same retrieval: one run id, its rows written once.
    assert len(runs) == 1 and runs[0][1] == 10 * 10 * 3  # 30 images cap k=5 at 3 per keyword
    _, mlruns = _mlflow_runs(ws)
    children = [r for r in mlruns if "mlflow.parentRunId" in r.data.tags]
    parents = {r.data.tags["mlflow.parentRunId"] for r in children}
    assert len(children) == 4 and len(parents) == 1
    assert {(r.data.tags["choice.model"], r.data.tags["choice.strategy"]) for r in children} == {
        ("gpt4o", "simple"),
        ("gpt4o", "isq"),
        ("claude", "simple"),
        ("claude", "isq"),
    }
    assert all(r.info.status == "FINISHED" for r in children)
    # joblib workers name themselves from the sweep's keys that the launching process recorded.
    assert {r.info.run_name for r in children} == {
        "model=gpt4o,strategy=simple", "model=gpt4o,strategy=isq",
        "model=claude,strategy=simple", "model=claude,strategy=isq",
    }
    (parent,) = [r for r in mlruns if r.info.run_id in parents]
    assert parent.info.status == "FINISHED" and parent.data.params["sweep.jobs"] == "4"
    for job in range(4):
        assert (tmp_path / "sweep" / str(job) / "config.resolved.yaml").is_file()


def test_demo_run_leaves_store_index_and_tracked_artifacts(tmp_path) -> None:
    ws = tmp_path / "ws"
    _run(STAGES, "corpus.n=40", f"paths.workspace={ws}", f"hydra.run.dir={tmp_path}/run")
    assert (ws / "valuespectrum.duckdb").is_file()
    assert list((ws / "index").glob("image-*.usearch"))
    client, (run,) = _mlflow_runs(ws)
    assert run.data.params["retrieve.k"] == "5"
    assert run.data.tags["version.usearch"] and run.data.tags["git.sha"]
    assert run.data.metrics["usage/retrieve/rows"] > 0 and "usage/collect/added" in run.data.metrics
    sheets = [a.path for a in client.list_artifacts(run.info.run_id, "retrieval/contact_sheets")]
    assert len(sheets) == 10
    tables = [a.path for a in client.list_artifacts(run.info.run_id, "retrieval")]
    assert any(p.endswith(".parquet") for p in tables)
    names = [a.path for a in client.list_artifacts(run.info.run_id)]
    assert "config.resolved.yaml" in names


def test_params_redact_secrets_but_keep_env_var_names() -> None:
    flat = flatten(
        {"model": {"api_key": "sk-canary", "api_key_env": "OPENAI_API_KEY"}, "token": "t", "k": 5}
    )
    assert flat["model.api_key"] == REDACTED and flat["token"] == REDACTED
    assert flat["model.api_key_env"] == "OPENAI_API_KEY" and flat["k"] == 5
