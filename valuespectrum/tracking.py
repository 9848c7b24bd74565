"""Experiment tracking: the only module that imports mlflow.

One MLflow run per Hydra job. Jobs of one multirun share a parent run, found by the sweep folder
tag, because joblib/submitit jobs live in separate processes (or machines) and cannot hand a run
object to each other; ``start_sweep`` / ``end_sweep`` (called by ``sweep.SweepCallback`` in the
launching process) open it before the jobs and end it after them. ``NullTracker`` keeps stages
free of ``if tracking:`` branches.
"""

from __future__ import annotations

import json
import logging
import os
import re
import socket
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Protocol

from valuespectrum.provenance import git_state, package_versions, source_tags, user_name
from valuespectrum.tracking_backend import TrackingUnavailableError, use_short_http_retries

__all__ = [  # git_state, package_versions and source_tags are re-exported for callers
    "MlflowTracker", "NullTracker", "Tracker", "end_sweep", "flatten", "git_state", "mlflow_run",
    "package_versions", "reading_client", "source_tags", "start_sweep", "user_name",
]

log = logging.getLogger(__name__)

# Credentials only, matched on the whole key name: ``api_key``, ``hf_token``, ``access_token``,
# ``client_secret``, ``db_password``. ``max_tokens`` or ``tokenizer`` are no secret, and
# ``*_env`` names the variable that holds one, not the secret itself.
SECRET_KEY = re.compile(
    r"^(?:\w*_)?(?:api_?key|secret|secret_key|access_key|private_key|password|passwd"
    r"|credentials?|token|auth|authorization)$",
    re.IGNORECASE,
)
REDACTED = "***"
class Tracker(Protocol):
    run_id: str | None

    def log_params(self, params: Mapping[str, Any]) -> None: ...
    def log_metrics(self, metrics: Mapping[str, float], step: int | None = None) -> None: ...
    def log_artifact(self, path: Path, artifact_path: str | None = None) -> None: ...
    def set_tags(self, tags: Mapping[str, str]) -> None: ...
    def log_table(self, frame: Any, artifact_file: str) -> None: ...


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

    def log_table(self, frame: Any, artifact_file: str) -> None:
        pass


class MlflowTracker:
    """A live MLflow run; create it with ``mlflow_run``.

    ``store_id`` names the tracking store and experiment the run lives in, so a reference to
    an artifact of another run is only given where that run can be found. A failure of the
    backend mid-run becomes one ``TrackingUnavailableError`` line, not a traceback.
    """

    def __init__(self, client: Any, run_id: str, store_id: str | None = None) -> None:
        self.client = client
        self.run_id = run_id
        self.store_id = store_id

    def _guard(self, what: str, fn: Any, *args: Any, **kwargs: Any) -> Any:
        from mlflow.exceptions import MlflowException

        try:
            return fn(*args, **kwargs)
        except MlflowException as exc:
            raise TrackingUnavailableError(
                f"tracking failed while {what} ({_first_line(exc)}); finished work is saved in "
                "the workspace: check the tracking server, or set tracking.enabled=false"
            ) from None

    def log_params(self, params: Mapping[str, Any]) -> None:
        from mlflow.entities import Param

        items = [Param(k, _param_text(v)) for k, v in params.items()]
        for i in range(0, len(items), 100):
            self._guard("logging params", self.client.log_batch, self.run_id,
                        params=items[i : i + 100])

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
            self._guard("logging metrics", self.client.log_batch, self.run_id,
                        metrics=items[i : i + 500])

    def log_artifact(self, path: Path, artifact_path: str | None = None) -> None:
        self._guard(f"logging {path.name}", self.client.log_artifact, self.run_id, str(path),
                    artifact_path)

    def set_tags(self, tags: Mapping[str, str]) -> None:
        from mlflow.entities import RunTag

        self._guard("setting tags", self.client.log_batch, self.run_id,
                    tags=[RunTag(k, str(v)) for k, v in tags.items()])

    def log_table(self, frame: Any, artifact_file: str) -> None:
        """A DataFrame as MLflow's table artifact (``.json``), which the UI shows as a table."""
        self._guard(f"logging {artifact_file}", self.client.log_table, self.run_id, data=frame,
                    artifact_file=artifact_file)


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

    ``lock`` serialises setup between the jobs of a workspace: creating the experiment and the
    parent run must not race between parallel jobs, or a sweep ends with two parents. The runner
    passes a lock of its own for this, never the workspace (DuckDB) lock, and MLflow's HTTP
    retries are kept short, so a failing server stalls no other job's data work.
    """
    os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
    use_short_http_retries()
    from mlflow.exceptions import MlflowException
    from mlflow.tracking import MlflowClient

    try:
        with lock():
            # Creating the client may create and migrate the sqlite schema: never two at once.
            client = MlflowClient(tracking_uri=uri)
            exp_id = _experiment_id(client, experiment, artifact_root)
            tags = {"mlflow.user": user_name()}  # create_run takes the run's user from this tag
            if sweep_key:
                tags["mlflow.parentRunId"] = _parent_run(client, exp_id, sweep_key)
        mark_stale_runs(client, exp_id)
        run = client.create_run(exp_id, run_name=run_name, tags={**tags, **process_tags()})
    except MlflowException as exc:
        raise TrackingUnavailableError(
            f"tracking.uri={uri}: the tracking backend failed ({_first_line(exc)}); "
            "check the server or set tracking.enabled=false"
        ) from None
    status = "FAILED"
    try:
        yield MlflowTracker(client, run.info.run_id, store_id=f"{uri}#{exp_id}")
        status = "FINISHED"
    except BaseException as exc:
        status = end_status(exc)
        raise
    finally:
        try:  # never let closing the run hide how the job ended (a Ctrl-C stays exit 130)
            client.set_terminated(run.info.run_id, status=status)
        except Exception as exc:
            log.warning("could not mark MLflow run %s %s: %s", run.info.run_id, status,
                        _first_line(exc))


def _parent_run(client: Any, exp_id: str, sweep_key: str) -> str:
    found = _sweep_run(client, exp_id, sweep_key)
    if found:
        return str(found.info.run_id)
    # No SweepCallback opened the parent (hydra.callbacks overridden): nobody sees the sweep
    # end, so mark it finished now rather than leave it RUNNING forever.
    parent = client.create_run(
        exp_id,
        run_name=f"sweep {Path(sweep_key).name}",
        tags={"valuespectrum.sweep": sweep_key, "valuespectrum.kind": "sweep"},
    )
    client.set_terminated(parent.info.run_id, status="FINISHED")
    return str(parent.info.run_id)


# The experiment opens in MLflow's classic run table and charts, not its GenAI traces page.
EXPERIMENT_KIND = {"mlflow.experimentKind": "custom_model_development"}


def _experiment_id(client: Any, name: str, artifact_root: Path) -> str:
    """The experiment's id, created (with its kind tag) if absent; an older one gets the tag."""
    exp = client.get_experiment_by_name(name)
    if exp is None:
        return str(
            client.create_experiment(
                name, artifact_location=artifact_root.as_uri(), tags=EXPERIMENT_KIND
            )
        )
    for key, value in EXPERIMENT_KIND.items():
        if exp.tags.get(key) != value:
            client.set_experiment_tag(exp.experiment_id, key, value)
    return str(exp.experiment_id)


def _sweep_run(client: Any, exp_id: str, sweep_key: str) -> Any:
    found = client.search_runs(
        [exp_id], filter_string=f"tags.`valuespectrum.sweep` = '{sweep_key}'", max_results=1
    )
    return found[0] if found else None


def start_sweep(
    uri: str,
    experiment: str,
    *,
    sweep_key: str,
    run_name: str,
    params: Mapping[str, str],
    tags: Mapping[str, str],
    artifact_root: Path,
    lock: Any,
) -> str:
    """Open the parent run of a multirun before its jobs start (they find it by ``sweep_key``);
    it stays RUNNING until :func:`end_sweep`."""
    os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
    from mlflow.tracking import MlflowClient

    with lock():
        client = MlflowClient(tracking_uri=uri)
        exp_id = _experiment_id(client, experiment, artifact_root)
        found = _sweep_run(client, exp_id, sweep_key)
        if found:
            return str(found.info.run_id)
        run = client.create_run(
            exp_id,
            run_name=run_name,
            # process tags: a parent whose launcher was SIGKILLed is swept up as KILLED too
            tags={**tags, **process_tags(), "valuespectrum.sweep": sweep_key,
                  "valuespectrum.kind": "sweep"},
        )
    tracker = MlflowTracker(client, run.info.run_id)
    tracker.log_params(params)
    return str(run.info.run_id)


def end_sweep(uri: str, run_id: str, status: str = "FINISHED") -> None:
    """End the parent run of a multirun (after its last job), unless it already ended."""
    from mlflow.tracking import MlflowClient

    client = MlflowClient(tracking_uri=uri)
    if client.get_run(run_id).info.status == "RUNNING":
        client.set_terminated(run_id, status=status)


def reading_client(uri: str) -> tuple[Any, type[Exception]]:
    """An MlflowClient to read runs with (report.selection), and the error its calls raise."""
    os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")  # one bar per run
    from mlflow.exceptions import MlflowException
    from mlflow.tracking import MlflowClient

    return MlflowClient(tracking_uri=uri), MlflowException


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


# --- how runs end, and runs left behind by killed processes -----------------------------------

def end_status(exc: BaseException) -> str:
    """KILLED for Ctrl-C (or an exit with 130), FAILED for everything else that went wrong."""
    interrupted = isinstance(exc, KeyboardInterrupt) or (
        isinstance(exc, SystemExit) and exc.code == 130
    )
    return "KILLED" if interrupted else "FAILED"


def process_tags() -> dict[str, str]:
    """Which process owns a run: lets a later job tell a run whose process vanished."""
    tags = {"valuespectrum.host": socket.gethostname(), "valuespectrum.pid": str(os.getpid())}
    start = _process_start(os.getpid())
    if start is not None:
        tags["valuespectrum.pid_start"] = start
    namespace = _pid_namespace()
    if namespace is not None:  # containers sharing a host name each number their own pids
        tags["valuespectrum.pid_ns"] = namespace
    return tags


def mark_stale_runs(client: Any, exp_id: str) -> list[str]:
    """Mark KILLED the RUNNING runs this host started from processes that no longer exist
    (killed with SIGKILL, out of memory, a lost node): MLflow would show them running forever.
    Runs from other hosts or pid namespaces are left alone: their processes cannot be seen
    from here."""
    host = socket.gethostname().replace("'", "")
    running = client.search_runs(
        [exp_id],
        filter_string=f"attributes.status = 'RUNNING' and tags.`valuespectrum.host` = '{host}'",
        max_results=1000,
    )
    stale = []
    namespace = _pid_namespace()
    for run in running:
        tags = run.data.tags
        pid = tags.get("valuespectrum.pid", "")
        if tags.get("valuespectrum.pid_ns", namespace) != namespace:
            continue
        if pid.isdigit() and not _alive(int(pid), tags.get("valuespectrum.pid_start")):
            now_ms = int(time.time() * 1000)
            client.set_terminated(run.info.run_id, status="KILLED", end_time=now_ms)
            stale.append(run.info.run_id)
    if stale:
        log.info("marked %d run(s) of vanished processes KILLED: %s", len(stale), stale)
    return stale


def _alive(pid: int, start: str | None) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # exists, owned by someone else
    now = _process_start(pid)
    if now == "zombie":
        return False
    return start is None or now is None or now == start  # a reused pid is another process


def _process_start(pid: int) -> str | None:
    """The process's start time in clock ticks since boot (Linux), "zombie", or None."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat[stat.rindex(")") + 2 :].split()  # after "pid (comm) "
    return "zombie" if fields[0] == "Z" else fields[19]


def _pid_namespace() -> str | None:
    try:
        return os.readlink("/proc/self/ns/pid")
    except OSError:
        return None


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0][:300] if text else type(exc).__name__
