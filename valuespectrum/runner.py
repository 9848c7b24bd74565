"""Stage order, pre-flight checks, and the one place that opens store, workspace and tracker.

Stages are plain functions ``run(ctx) -> metrics``. The runner checks everything cheap first
(inputs exist, credentials are set, the stage is built) so a bad run fails in a second instead of
after an hour of embedding, then runs the selected stages in their fixed order and logs each
stage's metrics: results as ``<stage>/<name>``, counts as ``usage/<stage>/<name>``, timings as
``timing/<stage>/<name>`` (:mod:`valuespectrum.run_record`).
"""

from __future__ import annotations

import importlib
import logging
import sys
import time
from collections.abc import Sequence
from contextlib import nullcontext
from dataclasses import asdict
from pathlib import Path
from typing import Any

from valuespectrum.config import STAGES, Config, ConfigError, unread_overrides
from valuespectrum.context import Context
from valuespectrum.run_record import (
    param_texts,
    run_name,
    split_blobs,
    stage_metrics,
    stage_params,
)
from valuespectrum.store import Store, ensure_workspace
from valuespectrum.tracking import NullTracker

log = logging.getLogger(__name__)

PROJECT_ROOT = Path(__file__).resolve().parent.parent
BUILT_STAGES: frozenset[str] = frozenset(
    {"collect", "index", "retrieve", "probe", "induce", "report"}
)


def selected_stages(cfg: Config) -> list[str]:
    """The requested stages in pipeline order."""
    return [s for s in STAGES if s in cfg.stages]


def preflight(cfg: Config, overrides: Sequence[str] = (), swept: Sequence[str] | None = None
              ) -> None:
    """Refuse, in one line, anything that would fail later in the run; warn, in one line each,
    about command-line ``overrides`` that none of the selected stages reads (``swept``: the
    keys a multirun varies)."""
    stages = selected_stages(cfg)
    not_built = [s for s in stages if s not in BUILT_STAGES]
    if not_built:
        raise ConfigError(
            f"stage(s) {not_built} are not built yet; drop them from stages= "
            f"(built: {sorted(BUILT_STAGES)})"
        )
    for line in unread_overrides(overrides, stages, BUILT_STAGES):
        log.warning(line)
    if {"probe", "induce"} & set(stages):
        from valuespectrum.models.registry import check_ready

        check_ready(cfg.model, credentials=not planning(cfg, stages))
        if "probe" in stages and cfg.parsing.judge is not None:
            from valuespectrum.config import judge_model_config

            try:
                check_ready(judge_model_config(cfg.parsing.judge, cfg.parsing.judge_overrides),
                            credentials=not planning(cfg, stages))
            except ConfigError as exc:
                raise ConfigError(f"parsing.judge={cfg.parsing.judge}: {exc}") from None
        if "probe" in stages:
            _check_describer(cfg, swept, credentials=not planning(cfg, stages))
    if "probe" in stages and cfg.probe.image == "blank" and cfg.probe.samples == 1:
        log.warning("probe.image=blank with probe.samples=1: every image of one size is the same "
                    "grey picture, so each size gets one reply and the baseline is 0%% or 100%%; "
                    "set probe.samples=5 (or more) for a yes-rate")
    if "report" in stages:
        cfg.report.check_selection()
    if "induce" in stages:
        from valuespectrum.agent.preflight import check_induce

        check_induce(cfg)
    if "collect" in stages and cfg.corpus.source == "folder":
        folder = Path(cfg.corpus.path or "").expanduser()
        if not folder.is_dir():
            raise ConfigError(
                f"corpus.path={cfg.corpus.path} is not a folder; point corpus.path at a "
                "folder of images"
            )
    check_embedder_weights(cfg, stages)
    check_tracking(cfg)


def _check_describer(cfg: Config, swept: Sequence[str] | None, *, credentials: bool) -> None:
    """The describer of ``modality=description`` must run here (its key too); one given with
    ``modality=image`` is refused unless the job is one of a sweep over the modality."""
    from valuespectrum.config.modality import check_unused_describer, describer_model_config
    from valuespectrum.models.registry import check_ready

    check_unused_describer(cfg, swept)
    if cfg.modality != "description" or cfg.describer is None:
        return
    describer = describer_model_config(cfg.describer, cfg.describer_overrides)
    try:
        check_ready(describer, credentials=credentials)
    except ConfigError as exc:
        raise ConfigError(f"describer={cfg.describer}: {exc}") from None
    if describer.needs_clip:  # a simulated describer that perceives through CLIP
        from valuespectrum.retrieval.weights import check_weights

        check_weights(cfg.embedder.arch, cfg.embedder.pretrained)


def planning(cfg: Config, stages: Sequence[str]) -> bool:
    """``probe.plan=true`` with the probe selected: the job stops after the plan, calling no
    model (so it needs no key); later stages (induce) are not run."""
    return cfg.probe.plan and "probe" in stages


def check_embedder_weights(cfg: Config, stages: list[str]) -> None:
    """Pretrained CLIP weights must be loadable when a selected stage embeds: index (images),
    retrieve (keywords), probe with a simulated respondent that perceives through CLIP."""
    clip_probe = bool({"probe", "induce"} & set(stages)) and cfg.model.needs_clip
    if not ({"index", "retrieve"} & set(stages) or clip_probe):
        return
    from valuespectrum.retrieval.weights import check_weights

    check_weights(cfg.embedder.arch, cfg.embedder.pretrained)


def check_tracking(cfg: Config) -> None:
    """The tracking backend must answer now, not after the work (or four minutes of retries)."""
    if not cfg.tracking.enabled:
        return
    from valuespectrum.tracking_backend import check_backend

    check_backend(cfg.tracking.tracking_uri(cfg.paths.workspace_path()))


def run(
    cfg: Config,
    *,
    output_dir: Path,
    choices: dict[str, str] | None = None,
    sweep_key: str | None = None,
    overrides: Sequence[str] = (),
    swept: Sequence[str] | None = None,
) -> dict[str, float]:
    """Run the selected stages for one job and return all metrics, named and rounded as logged.

    ``overrides`` are the job's Hydra task overrides; the run is named after those whose key is
    in ``swept`` (a sweep's varying keys), or after all of them in a single run.
    """
    preflight(cfg, overrides, swept)
    workspace = ensure_workspace(cfg.paths.workspace_path())
    output_dir.mkdir(parents=True, exist_ok=True)
    store = Store(workspace)
    choices = dict(choices or {})

    if cfg.tracking.enabled:
        from valuespectrum.tracking import mlflow_run

        tracking_cm: Any = mlflow_run(
            cfg.tracking.tracking_uri(workspace),
            cfg.tracking.experiment,
            run_name=run_name(overrides, swept),
            artifact_root=workspace / "mlartifacts",
            sweep_key=sweep_key,
            lock=store.tracking_lock,
        )
    else:
        tracking_cm = nullcontext(NullTracker())

    metrics: dict[str, float] = {}
    with tracking_cm as tracker:
        ctx = Context(cfg, workspace, store, output_dir, tracker, choices)
        _log_run_header(ctx, overrides)
        status = "failed"
        try:
            _run_stages(ctx, metrics)
            status = "finished"
        finally:  # a failed job says so in its run.json, and a report refuses it by name
            _write_job_record(ctx, overrides, swept, status)
    return metrics


def _run_stages(ctx: Context, metrics: dict[str, float]) -> None:
    """The selected stages in order, each one's metrics logged and gathered in ``metrics``."""
    cfg, tracker = ctx.cfg, ctx.tracker
    for name in selected_stages(cfg):
        if planning(cfg, selected_stages(cfg)) and name not in ("collect", "index",
                                                                 "retrieve", "probe"):
            log.warning("probe.plan=true: stopped after the probe's plan; stage %s calls the "
                        "model, so it was not run (drop probe.plan to run it)", name)
            break
        stage = importlib.import_module(f"valuespectrum.stages.{name}")
        log.info("stage %s: start", name)
        t0 = time.perf_counter()
        returned = stage.run(ctx)
        elapsed = time.perf_counter() - t0
        named = stage_metrics(name, {**returned, "timing/seconds": elapsed})
        tracker.log_metrics(named)
        metrics.update(named)
        log.info("stage %s: done in %.1fs %s", name, elapsed, _brief(returned))


def _write_job_record(ctx: Context, overrides: Sequence[str], swept: Sequence[str] | None,
                      status: str) -> None:  # fmt: skip
    """``<output_dir>/run.json`` (run_record.job_record), logged with the run, and the tags
    ``probe_run`` and ``scoring_key`` that let a report find the job's tables in MLflow."""
    import json

    from valuespectrum.run_record import JOB_FILE, job_record

    cfg = ctx.cfg
    tracking = {"run_id": ctx.tracker.run_id, "experiment": cfg.tracking.experiment,
                "tracking_uri": cfg.tracking.tracking_uri(ctx.workspace)}
    if ctx.tracker.run_id is None:
        tracking = {"run_id": None, "experiment": None, "tracking_uri": None}
    produced = {"output_dir": str(ctx.output_dir), "probe_run": ctx.probe_run,
                "scoring_key": ctx.scoring_key, "sessions": list(ctx.sessions),
                "simulated": cfg.model.simulated}  # a role-play job has no probe_runs row
    record = job_record(
        asdict(cfg), stages=selected_stages(cfg), overrides=overrides, choices=ctx.choices,
        swept=swept, tracking=tracking, produced=produced, status=status,
    )
    record["workspace"] = str(ctx.workspace)
    path = ctx.output_dir / JOB_FILE
    path.write_text(json.dumps(record, indent=2, default=str) + "\n")
    try:
        ctx.tracker.log_artifact(path)
        ctx.tracker.set_tags({k: str(v) for k, v in produced.items()
                              if k in ("probe_run", "scoring_key") and v is not None})
    except Exception as exc:  # never hide how the job ended behind a tracking failure
        log.warning("could not log %s: %s", JOB_FILE, exc)


def _log_run_header(ctx: Context, overrides: Sequence[str]) -> None:
    """Params of the stages that run, the resolved config and its long lists as files, and
    tags: Hydra choices and overrides, git state, package versions, MLflow's source columns."""
    import json

    import yaml

    from valuespectrum.tracking import flatten, git_state, package_versions, source_tags

    resolved = ctx.output_dir / "config.resolved.yaml"
    config = asdict(ctx.cfg)
    resolved.write_text(yaml.safe_dump(config, sort_keys=False, allow_unicode=True))
    params, blobs = split_blobs(stage_params(config, selected_stages(ctx.cfg)))
    ctx.tracker.log_params(param_texts(flatten(params), full_text=resolved.name))
    for name, content in blobs.items():
        path = ctx.output_dir / name
        path.write_text(json.dumps(content, indent=2, ensure_ascii=False) + "\n")
        ctx.tracker.log_artifact(path)
    tags = {f"choice.{k}": str(v) for k, v in ctx.choices.items()}
    git = git_state(PROJECT_ROOT)
    tags.update(git)
    tags.update(source_tags(git["git.sha"], _source_name()))
    if overrides:
        tags["overrides"] = " ".join(overrides)
    tags.update(package_versions())
    tags["model.simulated"] = str(ctx.cfg.model.simulated).lower()  # never mistake it for a VLM
    tags["workspace"] = str(ctx.workspace)
    tags["output_dir"] = str(ctx.output_dir)
    ctx.tracker.set_tags(tags)
    ctx.tracker.log_artifact(resolved)


def _source_name() -> str:
    """The script that started the job; a launcher's worker process runs ``run.py``'s job."""
    script = Path(sys.argv[0]) if sys.argv and sys.argv[0] else None
    if script is not None and script.suffix == ".py" and script.is_file():
        return str(script.resolve())
    return str(PROJECT_ROOT / "run.py")


def _brief(metrics: dict[str, float]) -> str:
    return " ".join(f"{k}={v:g}" for k, v in list(metrics.items())[:8])
