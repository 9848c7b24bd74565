"""The one function behind ``stages=[report]`` and ``python -m valuespectrum.report``.

Select the jobs (report.selection) -> read their tables (report.data; read-only, no model
call) -> run the builders and write the folder (report.writing) -> log the folder to an MLflow
run: the report job's own run (the stage), or a run of its own opened here (the command).
"""

from __future__ import annotations

import logging
from contextlib import nullcontext
from datetime import datetime
from pathlib import Path
from typing import Any

from valuespectrum.config import Config
from valuespectrum.report.data import report_data
from valuespectrum.report.published import paper_rows, read_table
from valuespectrum.report.sections import ReportSettings
from valuespectrum.report.selection import Request, job_records
from valuespectrum.report.writing import ReportResult, write_report

log = logging.getLogger(__name__)
MAX_TAG = 5000


def request_of(cfg: Config) -> Request:
    rc = cfg.report
    rc.check_selection()
    tables = tuple(Path(t).expanduser().resolve() for t in rc.tables)
    return Request(
        multirun=Path(rc.multirun) if rc.multirun else None, experiment=rc.experiment,
        tags=dict(rc.tags), run_ids=tuple(rc.run_ids), tables=tables, paper=rc.paper,
        tracking_uri=cfg.tracking.tracking_uri(cfg.paths.workspace_path()),
    )


def settings_of(cfg: Config) -> ReportSettings:
    sc = cfg.scoring
    return ReportSettings(
        n_boot=cfg.report.n_boot, n_perm=sc.n_perm, seed=cfg.seed, hedonism_in=sc.hedonism_in,
        circumplex=sc.circumplex, circumplex_angles=sc.circumplex_angles,
        axis_order=cfg.plots.axis_order, rank_flag=cfg.report.rank_flag,
    )


def default_out(cfg: Config) -> Path:
    """``<multirun>/report`` for a multirun, else ``data/reports/<date>/<time>``."""
    if cfg.report.out:
        return Path(cfg.report.out).expanduser().resolve()
    if cfg.report.multirun:
        return Path(cfg.report.multirun).expanduser().resolve() / "report"
    return Path("data/reports").resolve() / datetime.now().strftime("%Y-%m-%d/%H-%M-%S")


def make_report(cfg: Config, out: Path, *, tracker: Any = None, own_run: bool = False
                ) -> ReportResult:  # fmt: skip
    """Write the report of ``cfg.report``'s selection into ``out`` and log it: to ``tracker``
    (the job's run), or, with ``own_run`` and tracking enabled, to a new MLflow run."""
    request = request_of(cfg)
    records = job_records(request, default_experiment=cfg.tracking.experiment)
    published = [row for t in request.tables for row in read_table(t)]
    published += paper_rows() if request.paper else []
    workspace = Path(cfg.report.workspace).expanduser() if cfg.report.workspace else None
    data = report_data(records, published, workspace=workspace,
                       hedonism_in=cfg.scoring.hedonism_in)  # fmt: skip
    meta = [f"Selection: {request.describe()}",
            f"{len(records)} job(s), {len(published)} published row(s); read from the "
            "workspace's stored tables (no model call)",
            f"Written {datetime.now().astimezone().isoformat(timespec='seconds')}"]
    result = write_report(data, settings_of(cfg), out, formats=cfg.plots.formats, meta=meta)
    tags = {
        "valuespectrum.kind": "report", "report.selection": request.describe()[:MAX_TAG],
        "report.runs": ",".join(r for r in data.runs["mlflow_run_id"].dropna())[:MAX_TAG],
        "report.jobs": str(len(records)), "report.folder": str(out),
    }
    with _tracker(cfg, records, tracker, own_run) as target:
        target.set_tags(tags)
        for path in sorted(p for p in out.rglob("*") if p.is_file()):
            rel = path.relative_to(out).parent
            target.log_artifact(path, "report" if rel == Path(".") else f"report/{rel}")
    log.info("report: %s (%d section(s), %.1fs)", result.html, len(result.sections),
             result.seconds)
    return result


def _tracker(cfg: Config, records, tracker: Any, own_run: bool):
    if tracker is not None:
        return nullcontext(tracker)
    from valuespectrum.tracking import NullTracker

    if not (own_run and cfg.tracking.enabled):
        return nullcontext(NullTracker())
    from valuespectrum.store import Store, ensure_workspace
    from valuespectrum.tracking import mlflow_run

    # Where the selected jobs were tracked (their record), else the configured store.
    tracked = [r["mlflow"] for r in records if (r.get("mlflow") or {}).get("tracking_uri")]
    uri = tracked[0]["tracking_uri"] if tracked else None
    experiment = tracked[0].get("experiment") if tracked else None
    workspace = ensure_workspace(Path(records[0]["workspace"]) if records and uri
                                 else cfg.paths.workspace_path())  # fmt: skip
    return mlflow_run(
        uri or cfg.tracking.tracking_uri(workspace), experiment or cfg.tracking.experiment,
        run_name=f"report {cfg.report.multirun or cfg.report.experiment or 'runs'}"[:200],
        artifact_root=workspace / "mlartifacts", sweep_key=None,
        lock=Store(workspace).tracking_lock,
    )
