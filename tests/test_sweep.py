"""A multirun's parameters as the launching process records them, and its parent run's end."""

from __future__ import annotations

import os
import subprocess
import sys

from tests.conftest import ROOT
from valuespectrum.sweep import sweep_params, swept_keys


def test_sweep_params_keep_each_sweep_as_typed_and_count_the_jobs() -> None:
    params, jobs = sweep_params(
        ["model=gpt4o,claude", "retrieve.k=range(2,5)", "corpus.n=60", "stages=[collect,index]"]
    )
    assert params == {"model": "gpt4o,claude", "retrieve.k": "range(2,5)"}
    assert jobs == 6
    params, jobs = sweep_params(["retrieve.caption_weight=interval(0,1)", "+probe.samples=1,2"])
    assert set(params) == {"retrieve.caption_weight", "probe.samples"} and jobs is None


def test_swept_keys_are_unknown_without_the_record(tmp_path) -> None:
    assert swept_keys(tmp_path) is None
    (tmp_path / "sweep.json").write_text('{"params": {"model": "a,b"}, "jobs": 2}')
    assert swept_keys(tmp_path) == ["model"]


def test_a_sweep_whose_job_fails_ends_its_parent_failed_not_running(tmp_path) -> None:
    from mlflow.tracking import MlflowClient

    ws = tmp_path / "ws"
    res = subprocess.run(
        [sys.executable, "run.py", "-m", "stages=[collect]", "corpus=folder",
         f"corpus.path={tmp_path}/missing", "corpus.max_file_mb=1,2",
         f"paths.workspace={ws}", f"hydra.sweep.dir={tmp_path}/s"],
        cwd=ROOT, capture_output=True, text=True, timeout=300,
        env={**os.environ, "LITELLM_LOCAL_MODEL_COST_MAP": "True"},
    )
    assert res.returncode == 2 and "is not a folder" in res.stderr
    client = MlflowClient(f"sqlite:///{ws / 'mlflow.db'}")
    exp = client.get_experiment_by_name("valuespectrum")
    (parent,) = client.search_runs([exp.experiment_id])
    assert parent.info.run_name == "sweep corpus.max_file_mb=1,2"
    assert parent.info.status == "FAILED" and parent.info.end_time


def test_a_sweep_against_a_dead_tracking_server_fails_in_one_line_without_locking(tmp_path):
    import socket

    with socket.socket() as s:  # a loopback port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    ws = tmp_path / "ws"
    res = subprocess.run(
        [sys.executable, "run.py", "-m", f"tracking.uri=http://127.0.0.1:{port}/",
         "retrieve.k=3,5", "stages=[collect]", "corpus.n=5", f"paths.workspace={ws}",
         f"hydra.sweep.dir={tmp_path}/m"],
        cwd=ROOT, capture_output=True, text=True, timeout=300,
        env={**os.environ, "LITELLM_LOCAL_MODEL_COST_MAP": "True"},
    )
    assert res.returncode == 2, res.stderr
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"error: tracking.uri=http://127.0.0.1:{port}/")
    assert "Callback" not in res.stdout + res.stderr  # the sweep callback raised nothing
