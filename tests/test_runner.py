"""End to end through `python run.py`: a tracked run with its artifacts, sweeps — sequential
and parallel (joblib) over one workspace — that finish without lock errors or lost rows, backends
checked before any work, and runs stopped by Ctrl-C or SIGKILL that end marked KILLED."""

from __future__ import annotations

import fcntl
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import duckdb
import pytest

from tests.conftest import ROOT
from tests.fakes.status_server import StatusServer, closed_port_url
from valuespectrum.retrieval.embedding import WeightsUnavailableError
from valuespectrum.runner import preflight, run
from valuespectrum.tracking import REDACTED, flatten
from valuespectrum.tracking_backend import TrackingUnavailableError

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
    res = _run(
        "stages=[collect,index,retrieve,probe]",
        "corpus.n=40",
        f"paths.workspace={ws}",
        f"hydra.run.dir={tmp_path}/run",
    )
    # The terminal shows our lines, not the libraries' load chatter, and the table once;
    # the job log keeps the table too.
    terminal = res.stdout + res.stderr
    assert "No pretrained weights" not in terminal and "Loading weights" not in terminal
    assert "embedder tiny_clip: random init (seed 0" in terminal
    assert terminal.count("Value profile: ") == 1
    (job_log,) = (tmp_path / "run").glob("*.log")
    assert job_log.read_text().count("Value profile: ") == 1
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
    probe = {Path(a.path).name for a in client.list_artifacts(run.info.run_id, "probe")}
    assert {"radar.png", "radar.svg", "scores.png", "scores.svg"} <= probe


def test_params_redact_secrets_but_keep_env_var_names() -> None:
    flat = flatten(
        {"model": {"api_key": "sk-canary", "api_key_env": "OPENAI_API_KEY"}, "token": "t", "k": 5}
    )
    assert flat["model.api_key"] == REDACTED and flat["token"] == REDACTED
    assert flat["model.api_key_env"] == "OPENAI_API_KEY" and flat["k"] == 5


# --- pre-flight of backends, and how a run ends when stopped ---------------------------------

def _run_fails(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    res = subprocess.run(
        [sys.executable, "run.py", *args], cwd=ROOT, capture_output=True, text=True, timeout=120,
        env={**os.environ, "LITELLM_LOCAL_MODEL_COST_MAP": "True", **(env or {})},
    )
    assert res.returncode == 2, res.stdout[-2000:] + res.stderr[-2000:]
    assert res.stderr.count("\n") == 1, res.stderr  # one line, no traceback
    return res


def test_unusable_tracking_uri_or_missing_weights_stop_before_any_work(tmp_path) -> None:
    ws = tmp_path / "ws"
    common = (f"paths.workspace={ws}", f"hydra.run.dir={tmp_path}/run", "corpus.n=5")
    uri = closed_port_url()
    res = _run_fails(f"tracking.uri={uri}", *common)
    assert res.stderr.startswith(f"error: tracking.uri={uri}: cannot reach")
    assert "tracking.enabled=false" in res.stderr
    res = _run_fails(
        "embedder=clip_vitb32", "stages=[collect,index]", *common,
        env={"HF_HUB_OFFLINE": "1", "HF_HOME": str(tmp_path / "hf")},
    )
    assert "laion2b_s34b_b79k" in res.stderr and "embedder=tiny_clip" in res.stderr
    assert not ws.exists()  # nothing collected


def test_weights_are_checked_only_when_a_stage_embeds(make_config, monkeypatch, tmp_path) -> None:
    import huggingface_hub.constants

    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_CACHE", str(tmp_path / "hf"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    clip = "embedder=clip_vitb32"
    preflight(make_config(clip, "stages=[collect]"))
    preflight(make_config(clip, "stages=[probe]"))  # the respondent perceives captions
    for stages in ("[collect,index]", "[retrieve]"):
        with pytest.raises(WeightsUnavailableError):
            preflight(make_config(clip, f"stages={stages}"))
    with pytest.raises(WeightsUnavailableError):
        preflight(make_config(clip, "stages=[probe]", "model.perceive=clip"))


def _lock_free(path: Path) -> bool:
    with open(path, "a+") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        fcntl.flock(fh, fcntl.LOCK_UN)
    return True


@pytest.fixture
def saved_environ():
    saved = dict(os.environ)
    yield
    os.environ.clear()
    os.environ.update(saved)


def test_a_server_failing_after_preflight_is_given_up_soon_without_the_workspace_lock(
    make_config, tmp_path, monkeypatch, saved_environ
) -> None:
    ws = tmp_path / "ws"
    lock_free: list[bool] = []

    def status(method: str, path: str) -> int:  # healthy for the check, then failing
        return 200 if method == "GET" and "/experiments/search" in path else 503

    monkeypatch.delenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", raising=False)
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR", "0")
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_BACKOFF_JITTER", "0")
    def on_request(method: str, path: str) -> None:
        if "/experiments/search" not in path:  # past pre-flight: the workspace exists
            lock_free.append(_lock_free(ws / ".lock"))

    server = StatusServer(status, {"experiments": []}, on_request=on_request)
    with server:
        cfg = make_config(f"tracking.uri={server.url}", "stages=[collect]", workspace=ws)
        with pytest.raises(TrackingUnavailableError) as info:
            run(cfg, output_dir=tmp_path / "out")
    assert f"tracking.uri={server.url}" in str(info.value) and "\n" not in str(info.value)
    failing = [p for _, p in server.requests if "/experiments/search" not in p]
    assert len(failing) == 3  # one try and two retries, not eight over four minutes
    assert lock_free and all(lock_free)


def _start_collect(ws: Path, out: Path) -> subprocess.Popen:
    """A tracked collect job that has just started its stage."""
    proc = subprocess.Popen(
        [sys.executable, "run.py", "stages=[collect]", "corpus.n=5000", "progress=false",
         f"paths.workspace={ws}", f"hydra.run.dir={out}"],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "LITELLM_LOCAL_MODEL_COST_MAP": "True"},
    )
    guard = threading.Timer(120, proc.kill)  # never hang the suite if the log line changes
    guard.start()
    try:
        for line in proc.stdout:
            if "stage collect: start" in line:
                return proc
    finally:
        guard.cancel()
    raise AssertionError(f"job ended before its stage started: {proc.stderr.read()[-2000:]}")


def test_ctrl_c_ends_in_one_line_and_runs_of_killed_jobs_are_marked_killed(tmp_path) -> None:
    ws = tmp_path / "ws"
    hard = _start_collect(ws, tmp_path / "hard")
    hard.kill()  # SIGKILL: no chance to close its MLflow run
    hard.communicate()
    soft = _start_collect(ws, tmp_path / "soft")
    time.sleep(1.0)
    soft.send_signal(signal.SIGINT)
    _, err = soft.communicate(timeout=60)
    assert soft.returncode == 130, err
    lines = err.strip().splitlines()
    assert lines[-1] == (
        f"interrupted: finished work is saved in {ws}; run the same command again to resume"
    )
    assert len(lines) == 1, err
    _, runs = _mlflow_runs(ws)
    assert [r.info.status for r in sorted(runs, key=lambda r: r.info.start_time)] == [
        "KILLED", "KILLED"
    ]
    assert all(r.info.end_time for r in runs)
