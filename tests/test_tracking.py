"""The tracking backend: refused in pre-flight with one line naming tracking.uri, runs that end
with the status of how they ended, and runs of killed processes swept up by the next start."""

from __future__ import annotations

import os
import subprocess
import sys
from contextlib import nullcontext
from pathlib import Path

import pytest

from tests.fakes.status_server import StatusServer, closed_port_url
from valuespectrum.tracking import mlflow_run, process_tags
from valuespectrum.tracking_backend import TrackingUnavailableError, check_backend


def _refusal(uri: str) -> str:
    with pytest.raises(TrackingUnavailableError) as info:
        check_backend(uri)
    message = str(info.value)
    assert "\n" not in message and f"tracking.uri={uri}" in message
    return message


def test_unreachable_or_foreign_servers_are_refused_in_one_line() -> None:
    assert "cannot reach" in _refusal(closed_port_url())
    with StatusServer(404) as server:
        assert "no MLflow tracking API" in _refusal(server.url)
    with StatusServer(503) as server:
        assert "HTTP 503" in _refusal(server.url)
    with StatusServer(200, {"experiments": []}) as server:
        check_backend(server.url + "/")
        assert server.requests[0][1].startswith("/api/2.0/mlflow/experiments/search")


def test_unknown_schemes_and_unusable_paths_are_refused(tmp_path, monkeypatch) -> None:
    message = _refusal("foo://bar")
    assert "'foo'" in message and "sqlite:///" in message and "http" in message
    blocker = tmp_path / "a_file"
    blocker.write_text("")
    assert "not a folder" in _refusal(f"sqlite:///{blocker}/mlflow.db")
    monkeypatch.delenv("MLFLOW_ALLOW_FILE_STORE", raising=False)
    assert "MLFLOW_ALLOW_FILE_STORE" in _refusal(f"file://{tmp_path}/mlruns")
    check_backend(f"sqlite:///{tmp_path}/not/yet/made/mlflow.db")  # created on first use


@pytest.fixture(scope="module")
def tracking_db(tmp_path_factory) -> str:
    return f"sqlite:///{tmp_path_factory.mktemp('mlflow') / 'mlflow.db'}"


def _start(uri: str, experiment: str, tmp: Path):
    return mlflow_run(
        uri, experiment, run_name="job", artifact_root=tmp / "art", sweep_key=None,
        lock=nullcontext,
    )


def test_runs_end_finished_failed_or_killed(tracking_db, tmp_path) -> None:
    from mlflow.tracking import MlflowClient

    ids = {}
    with _start(tracking_db, "ends", tmp_path) as tracker:
        ids["FINISHED"] = tracker.run_id
    with pytest.raises(ValueError), _start(tracking_db, "ends", tmp_path) as tracker:
        ids["FAILED"] = tracker.run_id
        raise ValueError("a bug")
    with pytest.raises(KeyboardInterrupt), _start(tracking_db, "ends", tmp_path) as tracker:
        ids["KILLED"] = tracker.run_id
        raise KeyboardInterrupt
    client = MlflowClient(tracking_db)
    assert {s: client.get_run(r).info.status for s, r in ids.items()} == {
        s: s for s in ids
    }


def test_next_start_marks_runs_of_vanished_processes_killed(tracking_db, tmp_path) -> None:
    from mlflow.tracking import MlflowClient

    client = MlflowClient(tracking_db)
    exp = client.create_experiment("stale", artifact_location=(tmp_path / "art").as_uri())
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    here = process_tags()
    dead = {**here, "valuespectrum.pid": str(gone.pid)}
    tags = {
        "dead": dead,
        "alive": here,  # this very process
        "pid_reused": {**here, "valuespectrum.pid_start": "1"},  # our pid, another process
        "other_host": {**dead, "valuespectrum.host": "elsewhere"},
        "other_container": {**dead, "valuespectrum.pid_ns": "pid:[1]"},
        "untagged": {},
    }
    runs = {name: client.create_run(exp, tags=t).info.run_id for name, t in tags.items()}
    with _start(tracking_db, "stale", tmp_path) as tracker:
        assert client.get_run(tracker.run_id).info.status == "RUNNING"
    status = {name: client.get_run(r).info.status for name, r in runs.items()}
    assert status == {
        "dead": "KILLED", "alive": "RUNNING", "pid_reused": "KILLED",
        "other_host": "RUNNING", "other_container": "RUNNING", "untagged": "RUNNING",
    }
    assert client.get_run(runs["dead"]).info.end_time is not None
    assert os.getpid() == int(here["valuespectrum.pid"])
