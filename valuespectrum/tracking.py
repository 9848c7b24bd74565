"""Experiment tracking: the only module that imports mlflow.

One MLflow run per Hydra job. Jobs of one multirun share a parent run, found by the sweep folder
tag, because joblib/submitit jobs live in separate processes (or machines) and cannot hand a run
object to each other. ``NullTracker`` keeps stages free of ``if tracking:`` branches.
"""

from __future__ import annotations

import json
import logging
import os
import re
import subprocess
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from importlib import metadata
from pathlib import Path
from typing import Any, Protocol

log = logging.getLogger(__name__)

SECRET_KEY = re.compile(r"(api_?key|token|secret|password|credential)(?!_env)", re.IGNORECASE)
REDACTED = "***"
PACKAGES = (
    "valuespectrum", "torch", "open_clip_torch", "transformers", "litellm", "usearch",
    "duckdb", "mlflow", "hydra-core", "numpy", "pillow",
)


class Tracker(Protocol):
    run_id: str | None

    def log_params(self, params: Mapping[str, Any]) -> None: ...
    def log_metrics(self, metrics: Mapping[str, float], step: int | None = None) -> None: ...
    def log_artifact(self, path: Path, artifact_path: str | None = None) -> None: ...
    def set_tags(self, tags: Mapping[str, str]) -> None: ...


class NullTracker:
    """Tracks nothing (``tracking.enabled=false``)."""

    run_id: str | None = None

    def log_params(self, params: Mapping[str, Any]) -> None:
        pass

    def log_metrics(self, metrics: Mapping[str, float], step: int | None = None) -> None:
        pass

    def log_artifact(self, path: Path, artifact_path: str | None = None) -> None:
        pass

    def set_tags(self, tags: Mapping[str, str]) -> None:
        pass


class MlflowTracker:
    """A live MLflow run; create it with ``mlflow_run``."""

    def __init__(self, client: Any, run_id: str) -> None:
        self.client = client
        self.run_id = run_id

    def log_params(self, params: Mapping[str, Any]) -> None:
        from mlflow.entities import Param

        items = [Param(k, _param_text(v)) for k, v in params.items()]
        for i in range(0, len(items), 100):
            self.client.log_batch(self.run_id, params=items[i : i + 100])

    def log_metrics(self, metrics: Mapping[str, float], step: int | None = None) -> None:
        import time

        from mlflow.entities import Metric

        ts = int(time.time() * 1000)
        items = [
            Metric(k, float(v), ts, step or 0)
            for k, v in metrics.items()
            if v is not None and v == v  # drop NaN: MLflow charts choke on it
        ]
        for i in range(0, len(items), 500):
            self.client.log_batch(self.run_id, metrics=items[i : i + 500])

    def log_artifact(self, path: Path, artifact_path: str | None = None) -> None:
        self.client.log_artifact(self.run_id, str(path), artifact_path)

    def set_tags(self, tags: Mapping[str, str]) -> None:
        from mlflow.entities import RunTag

        self.client.log_batch(self.run_id, tags=[RunTag(k, str(v)) for k, v in tags.items()])


@contextmanager
def mlflow_run(
    uri: str,
    experiment: str,
    *,
    run_name: str,
    artifact_root: Path,
    sweep_key: str | None,
    lock: Any,
) -> Iterator[MlflowTracker]:
    """Open one MLflow run for this job; nest it under the sweep's parent run if any.

    ``lock`` is the workspace lock: creating the experiment and the parent run must not race
    between parallel jobs, or a sweep ends with two parents.
    """
    os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
    from mlflow.tracking import MlflowClient

    with lock():
        # Creating the client may create and migrate the sqlite schema: never two at once.
        client = MlflowClient(tracking_uri=uri)
        exp = client.get_experiment_by_name(experiment)
        exp_id = (
            exp.experiment_id
            if exp
            else client.create_experiment(experiment, artifact_location=artifact_root.as_uri())
        )
        tags: dict[str, str] = {}
        if sweep_key:
            tags["mlflow.parentRunId"] = _parent_run(client, exp_id, sweep_key)
    run = client.create_run(exp_id, run_name=run_name, tags=tags)
    status = "FAILED"
    try:
        yield MlflowTracker(client, run.info.run_id)
        status = "FINISHED"
    finally:
        client.set_terminated(run.info.run_id, status=status)


def _parent_run(client: Any, exp_id: str, sweep_key: str) -> str:
    found = client.search_runs(
        [exp_id], filter_string=f"tags.`valuespectrum.sweep` = '{sweep_key}'", max_results=1
    )
    if found:
        return str(found[0].info.run_id)
    parent = client.create_run(
        exp_id,
        run_name=f"sweep {Path(sweep_key).name}",
        tags={"valuespectrum.sweep": sweep_key, "valuespectrum.kind": "sweep"},
    )
    # A sweep parent has no end we can observe from one job; mark it finished so the UI is tidy.
    client.set_terminated(parent.info.run_id, status="FINISHED")
    return str(parent.info.run_id)


def flatten(data: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """Flatten nested config into dotted keys, redacting anything that looks like a secret."""
    out: dict[str, Any] = {}
    for key, value in data.items():
        full = f"{prefix}{key}"
        if isinstance(value, Mapping):
            out.update(flatten(value, f"{full}."))
        elif SECRET_KEY.search(str(key)) and value not in (None, ""):
            out[full] = REDACTED
        else:
            out[full] = value
    return out


def _param_text(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, default=str)
    return text if len(text) <= 6000 else text[:5990] + "…"


def git_state(root: Path) -> dict[str, str]:
    """Commit SHA and dirtiness of the code that ran, or 'unknown' outside a git checkout."""
    try:
        sha = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=root, capture_output=True, text=True, check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return {"git.sha": "unknown", "git.dirty": "unknown"}
    return {"git.sha": sha, "git.dirty": str(bool(dirty)).lower()}


def package_versions() -> dict[str, str]:
    out = {}
    for name in PACKAGES:
        try:
            out[f"version.{name}"] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[f"version.{name}"] = "absent"
    return out
