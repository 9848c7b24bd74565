"""A multirun as one thing: what it sweeps, its parent MLflow run, and its end.

``SweepCallback`` (registered in ``conf/config.yaml`` under ``hydra.callbacks``) runs in the
launching process, whichever launcher runs the jobs. Before any job it writes the sweep's
parameters to ``<sweep dir>/sweep.json`` (jobs read it to name themselves after the swept
overrides) and opens the parent run with those parameters; after the last job it ends the parent
FINISHED. A sweep that stops early (a job failed, Ctrl-C) ends it FAILED at process exit.
"""

from __future__ import annotations

import atexit
import json
import logging
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from hydra.experimental.callback import Callback

log = logging.getLogger(__name__)

SPEC_FILE = "sweep.json"


def sweep_params(overrides: Sequence[str]) -> tuple[dict[str, str], int | None]:
    """``({"retrieve.k": "3,5"}, 2)``: each swept key with its sweep as typed, and the number of
    jobs when every sweep is a finite list (``None`` for intervals, globs and the like)."""
    from hydra.core.override_parser.overrides_parser import OverridesParser

    params: dict[str, str] = {}
    sizes: list[int | None] = []
    for o in OverridesParser.create().parse_overrides(list(overrides)):
        if not o.is_sweep_override():
            continue
        params[o.key_or_group] = o.input_line.split("=", 1)[1]
        try:
            sizes.append(len(list(o.sweep_string_iterator())) if o.is_discrete_sweep() else None)
        except Exception:  # glob() needs the config loader; the count is only informative
            sizes.append(None)
    jobs = math.prod(s for s in sizes if s is not None) if None not in sizes else None
    return params, jobs


def swept_keys(sweep_dir: Path) -> list[str] | None:
    """The keys a sweep varies, as its ``SweepCallback`` recorded them (``None`` if it did not)."""
    try:
        spec = json.loads((sweep_dir / SPEC_FILE).read_text())
    except (OSError, ValueError):
        return None
    return list(spec.get("params", {}))


class SweepCallback(Callback):
    """Record a multirun's parameters and give its MLflow parent run a start and an end."""

    def __init__(self) -> None:
        self._parent: tuple[str, str] | None = None  # (tracking uri, parent run id)

    def on_multirun_start(self, config: Any, **kwargs: Any) -> None:
        overrides = [str(o) for o in config.hydra.overrides.task]
        sweeper = config.hydra.sweeper.get("params") or {}
        # Sweeps written in the config (hydra.sweeper.params) come first, as the sweeper runs them.
        arguments = [f"{k}={v}" for k, v in sweeper.items()] + overrides
        params, jobs = sweep_params(arguments)
        sweep_dir = Path(str(config.hydra.sweep.dir)).resolve()
        sweep_dir.mkdir(parents=True, exist_ok=True)
        spec = {"params": params, "jobs": jobs, "overrides": arguments}
        (sweep_dir / SPEC_FILE).write_text(json.dumps(spec, indent=2) + "\n")
        self._open_parent(config, str(sweep_dir), spec)

    def on_multirun_end(self, config: Any, **kwargs: Any) -> None:
        self._close("FINISHED")

    def _open_parent(self, config: Any, sweep_key: str, spec: Mapping[str, Any]) -> None:
        from omegaconf import OmegaConf

        from valuespectrum.config import ConfigError, load_config

        try:
            cfg = load_config(OmegaConf.masked_copy(config, [k for k in config if k != "hydra"]))
        except ConfigError:
            return  # every job fails on the same error and reports it in one line
        if not cfg.tracking.enabled:
            return
        from valuespectrum.run_record import param_texts
        from valuespectrum.runner import PROJECT_ROOT
        from valuespectrum.store import Store, ensure_workspace
        from valuespectrum.tracking import git_state, source_tags, start_sweep
        from valuespectrum.tracking_backend import (
            TrackingUnavailableError,
            check_backend,
            use_short_http_retries,
        )

        workspace = ensure_workspace(cfg.paths.workspace_path())
        uri = cfg.tracking.tracking_uri(workspace)
        try:
            check_backend(uri)  # a dead server: every job refuses it in one line, at once
        except TrackingUnavailableError:
            return
        use_short_http_retries()
        command = " ".join(["python run.py -m", *spec["overrides"]])
        git = git_state(PROJECT_ROOT)
        params = {f"sweep.{k}": v for k, v in spec["params"].items()}
        if spec["jobs"] is not None:
            params["sweep.jobs"] = str(spec["jobs"])
        params |= param_texts({"sweep.overrides": " ".join(spec["overrides"])}, full_text=SPEC_FILE)
        swept = " ".join(f"{k}={v}" for k, v in spec["params"].items())
        run_id = start_sweep(
            uri,
            cfg.tracking.experiment,
            sweep_key=sweep_key,
            run_name=f"sweep {swept}" if swept else f"sweep {Path(sweep_key).name}",
            params=params,
            tags={
                **git,
                **source_tags(git["git.sha"], str(PROJECT_ROOT / "run.py")),
                "sweep.command": command,
                "mlflow.note.content": f"Sweep: `{command}`",
            },
            artifact_root=workspace / "mlartifacts",
            lock=Store(workspace).tracking_lock,  # never the database lock
        )
        self._parent = (uri, run_id)
        atexit.register(self._close, "FAILED")

    def _close(self, status: str) -> None:
        if self._parent is None:
            return
        from valuespectrum.tracking import end_sweep

        uri, run_id = self._parent
        self._parent = None
        atexit.unregister(self._close)
        end_sweep(uri, run_id, status)
        log.info("sweep parent run %s ended %s", run_id, status)
