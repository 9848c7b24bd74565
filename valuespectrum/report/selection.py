"""Which jobs a report reads: their records (``run.json``), from a multirun folder or MLflow.

Every job writes ``<output_dir>/run.json`` (``run_record.job_record``) and logs it with its
MLflow run, so a report finds each job's tables in the workspace without a model call: by a
Hydra multirun folder (one record per job folder), by MLflow experiment and tags, or by run ids.
Anything that cannot be read is refused in one line that names the job and the fix.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from valuespectrum.config import ConfigError
from valuespectrum.run_record import JOB_FILE

log = logging.getLogger(__name__)

# Runs in an experiment that are no job of their own: a sweep's parent, an earlier report.
NOT_JOBS = ("sweep", "report")
RERUN = "run its command again (finished work is reused from the workspace, no new calls)"


class SelectionError(ConfigError):
    """The runs asked for cannot be read; the message names the run and the fix."""


@dataclass(frozen=True)
class Request:
    """What to select (any mix; see ``config.report.ReportConfig``)."""

    multirun: Path | None = None
    experiment: str | None = None
    tags: Mapping[str, str] = field(default_factory=dict)
    run_ids: Sequence[str] = ()
    tables: Sequence[Path] = ()
    paper: bool = False
    tracking_uri: str | None = None  # where experiment and run ids are looked up

    def describe(self) -> str:
        parts = [f"multirun {self.multirun}"] if self.multirun else []
        if self.experiment or self.tags:
            tags = "".join(f" {k}={v}" for k, v in self.tags.items())
            parts.append(f"experiment {self.experiment or '(default)'}{tags}")
        parts += [f"run {r}" for r in self.run_ids]
        parts += [f"table {t}" for t in self.tables] + (["the paper's table"] if self.paper else [])
        return ", ".join(parts)


def job_records(request: Request, *, default_experiment: str = "valuespectrum"
                ) -> list[dict[str, Any]]:  # fmt: skip
    """The records of the selected jobs, each once, in selection order."""
    records: list[dict[str, Any]] = []
    if request.multirun is not None:
        records += multirun_records(request.multirun)
    if request.experiment or request.tags or request.run_ids:
        experiment = request.experiment or (default_experiment if request.tags else None)
        records += tracked_records(request.tracking_uri, experiment, request.tags,
                                   list(request.run_ids))  # fmt: skip
    seen, unique = set(), []
    for record in records:
        key = (record.get("mlflow") or {}).get("run_id") or record.get("output_dir")
        if key not in seen:
            seen.add(key)
            unique.append(record)
    if not unique and not (request.tables or request.paper):
        raise SelectionError(f"no runs found for {request.describe() or 'an empty selection'}; "
                             "check the folder, experiment, tags or run ids")
    return unique


def multirun_records(folder: Path) -> list[dict[str, Any]]:
    """One record per job folder of a ``python run.py -m`` sweep (or one job's own folder)."""
    folder = folder.expanduser().resolve()
    if not folder.is_dir():
        raise SelectionError(f"report.multirun={folder} is not a folder; give the sweep folder a "
                             "multirun printed (data/multirun/<date>/<time>)")
    if (folder / JOB_FILE).is_file():
        return [read_record(folder / JOB_FILE, f"job {folder}")]
    jobs = sorted((p for p in folder.iterdir() if p.is_dir() and _is_job_folder(p)),
                  key=lambda p: (not p.name.isdigit(), int(p.name) if p.name.isdigit() else 0,
                                 p.name))  # fmt: skip
    if not jobs:
        raise SelectionError(f"no runs found in {folder}: it holds no job folders; give the "
                             "folder of a multirun (python run.py -m ...)")
    records = []
    for job in jobs:
        what = f"job {job.name} of {folder}"
        if not (job / JOB_FILE).is_file():
            raise SelectionError(f"{what} has no {JOB_FILE}: it did not finish or ran before "
                                 f"jobs recorded their results; {RERUN}")
        records.append(read_record(job / JOB_FILE, what))
    return records


def _is_job_folder(path: Path) -> bool:
    return any((path / name).exists() for name in (JOB_FILE, "config.resolved.yaml", ".hydra"))


def read_record(path: Path, what: str) -> dict[str, Any]:
    try:
        record = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise SelectionError(f"{what}: {path} cannot be read ({exc}); {RERUN}") from None
    return checked(record, what)


def checked(record: dict[str, Any], what: str) -> dict[str, Any]:
    """Refuse a record of a job that failed; name the job by its overrides."""
    if not isinstance(record, dict) or "overrides" not in record:
        raise SelectionError(f"{what}: its {JOB_FILE} is not a job record; {RERUN}")
    if record.get("status") != "finished":
        named = " ".join(record.get("overrides") or []) or "(no overrides)"
        raise SelectionError(f"{what} ({named}) ended {record.get('status')}: its results are "
                             f"incomplete; fix its error and {RERUN}")
    record["_what"] = what
    return record


def tracked_records(uri: str | None, experiment: str | None, tags: Mapping[str, str],
                    run_ids: list[str]) -> list[dict[str, Any]]:  # fmt: skip
    """Records of MLflow runs: by experiment (and tags) the finished jobs that produced a probe
    run or sessions; by id exactly those runs (each must be such a job)."""
    if uri is None:
        raise SelectionError("runs are selected from MLflow but no tracking store is known; "
                             "pass --workspace (its mlflow.db) or tracking.uri")
    _check_store(uri)
    try:
        runs = _find_runs(uri, experiment, tags, run_ids)
    except LookupError as exc:
        raise SelectionError(f"{exc}; check the name or id (mlflow ui --backend-store-uri "
                             f"{uri} lists them)") from None
    records = []
    for i, run in enumerate(runs):
        explicit = i >= len(runs) - len(run_ids)
        what = f"MLflow run {run['run_id']} ({run['tags'].get('mlflow.runName', '')})"
        if not explicit and run["tags"].get("valuespectrum.kind") in NOT_JOBS:
            continue
        if run["run_json"] is None:
            if explicit:
                state = "is still running" if run["status"] == "RUNNING" else "has no run.json"
                raise SelectionError(f"{what} {state}; select finished jobs, or {RERUN}")
            log.warning("%s has no run.json (running, or from before job records): left out",
                        what)
            continue
        record = json.loads(run["run_json"])
        if not explicit and record.get("status") != "finished":
            log.warning("%s ended %s: left out", what, record.get("status"))
            continue
        record = checked(record, what)
        if explicit or record.get("probe_run") or record.get("sessions"):
            records.append(record)
    return records


def _check_store(uri: str) -> None:
    if uri.startswith("sqlite:///") and not Path(uri.removeprefix("sqlite:///")).is_file():
        raise SelectionError(f"no MLflow store at {uri}; pass --workspace the folder the runs "
                             "wrote to (its mlflow.db), or tracking.uri")


def _find_runs(uri: str, experiment: str | None, tags: Mapping[str, str],
               run_ids: list[str]) -> list[dict[str, Any]]:  # fmt: skip
    """Runs as ``{"run_id", "status", "tags", "run_json"}``: the experiment's with all ``tags``
    (oldest first), then ``run_ids``; ``run_json`` is the logged record's text or None."""
    import tempfile

    from valuespectrum.tracking import reading_client

    client, error = reading_client(uri)
    found = []
    if experiment is not None:
        exp = client.get_experiment_by_name(experiment)
        if exp is None:
            raise LookupError(f"no MLflow experiment {experiment!r} in {uri}")
        where = " and ".join(f"tags.`{k}` = '{_quoted(v)}'" for k, v in tags.items())
        found += client.search_runs([exp.experiment_id], filter_string=where,
                                    max_results=50000, order_by=["attributes.start_time ASC"])
    for run_id in run_ids:
        try:
            found.append(client.get_run(run_id))
        except error:
            raise LookupError(f"no MLflow run {run_id} in {uri}") from None
    out = []
    with tempfile.TemporaryDirectory() as tmp:
        for run in found:
            try:  # the record as logged: the job's output folder may be gone
                path = client.download_artifacts(run.info.run_id, JOB_FILE, tmp)
                text = Path(path).read_text()
            except (error, OSError):
                text = None
            out.append({"run_id": run.info.run_id, "status": run.info.status,
                        "tags": dict(run.data.tags), "run_json": text})
    return out


def _quoted(value: object) -> str:
    return str(value).replace("\\", "\\\\").replace("'", "\\'")
