"""The ``report`` section: which runs a report across runs reads, and how it is drawn."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from valuespectrum.config.errors import require as _require

NOTHING_SELECTED = (
    "report: nothing selected; give report.multirun=DIR, report.experiment=NAME (and "
    "report.tags), report.run_ids=[ID,...], report.tables=[CSV] or report.paper=true "
    "(python -m valuespectrum.report: --multirun, --experiment, --tag, --run-id, --table, --paper)"
)


@dataclass
class ReportConfig:
    """What ``stages=[report]`` and ``python -m valuespectrum.report`` select (any mix, joined):

    ``multirun`` a Hydra multirun folder (each job's ``run.json``); ``experiment`` an MLflow
    experiment, narrowed by ``tags`` (``{key: value}``; tags alone search
    ``tracking.experiment``); ``run_ids`` MLflow run ids; ``tables`` published tables (CSV: a
    ``model`` column and the ten values, % yes); ``paper`` the paper's own table. ``workspace``
    reads the jobs' tables from another folder than the one they recorded (a moved workspace).
    ``out`` is the report's folder (default: ``report/`` in the job's output folder).
    ``n_boot`` bootstrap replicates of the report's own intervals; ``rank_flag`` flags values
    whose rank changes between the levels of a factor.
    """

    multirun: str | None = None
    experiment: str | None = None
    tags: dict[str, str] = field(default_factory=dict)
    run_ids: list[str] = field(default_factory=list)
    tables: list[str] = field(default_factory=list)
    paper: bool = False
    workspace: str | None = None
    out: str | None = None
    n_boot: int = 2000
    rank_flag: bool = True

    def selects(self) -> bool:
        return bool(self.multirun or self.experiment or self.tags or self.run_ids
                    or self.tables or self.paper)

    def check_selection(self) -> None:
        """For a job that writes a report (pre-flight): something is selected, folders exist."""
        _require(self.selects(), NOTHING_SELECTED)
        for key, path in (("multirun", self.multirun), ("workspace", self.workspace)):
            _require(path is None or Path(path).expanduser().is_dir(),
                     f"report.{key}={path} is not a folder; give the folder the jobs wrote "
                     "(a multirun: data/multirun/<date>/<time>)")
        for table in self.tables:
            _require(Path(table).expanduser().is_file(),
                     f"report.tables: {table} is not a file; give the path of a CSV with a model"
                     " column and the ten values")

    def check(self) -> None:
        _require(self.n_boot >= 1, f"report.n_boot={self.n_boot} must be at least 1, e.g. 2000")
        bad = [t for t in self.tags if not str(t).strip()]
        _require(not bad, "report.tags has an empty key; give {key: value}, e.g. {probe_run: ab12}")
