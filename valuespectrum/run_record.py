"""What one job records: its name, the params of the stages that ran, its metric names.

Pure functions (no mlflow, no store): the runner applies them and the tracker writes the result.

Metric names come in three kinds. MLflow groups charts into sections by the name up to its last
``/`` and sorts the sections alphabetically, so bookkeeping is named to sort after every stage
and a run's charts open on its results:

- results: ``<stage>/<name>``, per value ``<stage>/<quantity>/<value>``
  (``probe/score/hedonism``, ``probe/score_ci_low/hedonism``, ``retrieve/theme_precision``);
- usage (items, calls, answers, dollars): ``usage/<stage>/<name>`` (``usage/probe/calls_made``);
- timings: ``timing/<stage>/<name>`` (``timing/probe/seconds``).

A stage marks usage or a timing by returning its key as ``usage/<name>`` or ``timing/<name>``;
every other key is a result. Results and timings are rounded to four significant digits, usage
is kept exact.
"""

from __future__ import annotations

import copy
import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

USAGE, TIMING = "usage", "timing"
SIGNIFICANT = 4

# Config sections each stage reads; a job logs params only for the stages it runs.
SECTIONS_BY_STAGE: dict[str, tuple[str, ...]] = {
    "collect": ("corpus",),
    "index": ("embedder",),
    "retrieve": ("embedder", "value_keywords", "retrieve"),
    "probe": ("embedder", "value_keywords", "retrieve", "model", "probe", "scoring", "parsing"),
    "induce": (
        "embedder", "value_keywords", "retrieve", "model", "platform", "recommender", "persona",
        "strategy", "threshold", "induce", "agent",
    ),
    "report": ("scoring", "plots", "report"),
}
# Structured lists that make no readable param: logged whole as JSON artifacts instead.
BLOBS: dict[str, str] = {
    "value_keywords.values": "value_keywords.json",
    "persona.profiles": "persona.json",
}
MAX_PARAM_CHARS = 250
# Overrides that decide where output goes, not what is measured: not part of a run's name.
HOUSEKEEPING = ("paths.", "progress", "tracking.", "hydra.")
MAX_NAME_CHARS = 200


def metric_name(stage: str, key: str) -> str:
    """The logged name of metric ``key`` returned by ``stage`` (see the module docstring)."""
    kind, _, rest = key.partition("/")
    if kind in (USAGE, TIMING) and rest:
        return f"{kind}/{stage}/{rest}"
    return f"{stage}/{key}"


def metric_value(name: str, value: float) -> float:
    """Usage exactly as counted; results and timings to four significant digits."""
    value = float(value)
    if name.startswith(f"{USAGE}/") or value != value or value in (float("inf"), float("-inf")):
        return value
    return float(f"{value:.{SIGNIFICANT}g}")


def stage_metrics(stage: str, metrics: Mapping[str, float]) -> dict[str, float]:
    """A stage's returned metrics under their logged names and rounding."""
    named = {metric_name(stage, k): v for k, v in metrics.items()}
    return {k: metric_value(k, v) for k, v in named.items()}


def run_name(overrides: Sequence[str], swept: Iterable[str] | None = None) -> str:
    """``model=gpt4o,strategy=isq,retrieve.k=3``: the overrides that tell this job apart.

    In a sweep, ``swept`` holds the swept keys and only their overrides name the job; in a single
    run every task override does, except those that only move output (paths, progress, tracking).
    Without any, the run is called ``run``.
    """
    keep = set(swept) if swept is not None else None
    parts = []
    for item in map(_unquoted, overrides):
        key = _override_key(item)
        if keep is not None:
            if key in keep:
                parts.append(item)
        elif not key.startswith(HOUSEKEEPING):
            parts.append(item)
    name = ",".join(parts) or "run"
    return name if len(name) <= MAX_NAME_CHARS else name[: MAX_NAME_CHARS - 1] + "…"


def _unquoted(item: str) -> str:
    """``threshold='50'`` -> ``threshold=50``: the CLI quotes numeric group options for Hydra
    (config.overrides.quote_numeric_options); a run name shows what the user typed."""
    key, sep, value = item.partition("=")
    if sep and len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
        return f"{key}={value[1:-1]}"
    return item


def _override_key(item: str) -> str:
    """The config key of a Hydra override (``+a.b=1``, ``~a``, ``a@pkg=x`` -> ``a.b``, ``a``)."""
    key = item.split("=", 1)[0].lstrip("+~")
    return key.split("@", 1)[0]


def stage_params(config: Mapping[str, Any], stages: Sequence[str]) -> dict[str, Any]:
    """The part of the (``asdict``) config that the selected ``stages`` read, plus the top level
    (stages, seed, experiment, paths, tracking)."""
    wanted = {s for stage in stages for s in SECTIONS_BY_STAGE.get(stage, ())}
    return {
        key: value
        for key, value in config.items()
        if not isinstance(value, Mapping) or key in wanted or key in ("paths", "tracking")
    }


def split_blobs(config: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Take the :data:`BLOBS` out of a nested config: ``(config, {file name: content})``.

    Each blob's place in the config holds a one-line reference to its file instead.
    """
    out = copy.deepcopy(dict(config))
    files: dict[str, Any] = {}
    for dotted, name in BLOBS.items():
        section, key = dotted.split(".", 1)
        holder = out.get(section)
        if isinstance(holder, dict) and key in holder:
            files[name] = holder[key]
            holder[key] = f"{len(holder[key] or ())} entries; see {name}"
    return out, files


def param_texts(
    flat: Mapping[str, Any], *, full_text: str = "config.resolved.yaml"
) -> dict[str, str]:
    """One-line param texts; a value longer than :data:`MAX_PARAM_CHARS` becomes a short
    reference to ``full_text`` with its length and digest, so runs whose texts differ still
    differ in the params table."""
    return {key: _param_text(value, full_text) for key, value in flat.items()}


def _param_text(value: Any, full_text: str) -> str:
    text = value if isinstance(value, str) else json.dumps(value, default=str)
    text = " ".join(text.split()) if "\n" in text else text
    if len(text) <= MAX_PARAM_CHARS:
        return text
    digest = hashlib.sha256(text.encode()).hexdigest()[:12]
    return f"<{len(text)} chars, sha256 {digest}; full text in {full_text}>"


def cost_metrics(tracker, stage: str, spent: float | None, cached: float | None
                 ) -> dict[str, float]:  # fmt: skip
    """``usage/cost_usd_spent`` (this run's calls) and ``usage/cost_usd_cached`` (what the cached
    replies it used once cost) of ``stage``: an unknown cost (None) is no metric but the tag
    ``usage.<stage>.<name>=unknown`` on the run, never a 0."""
    unknown, metrics = {}, {}
    for name, value in (("cost_usd_spent", spent), ("cost_usd_cached", cached)):
        if value is None:
            unknown[f"usage.{stage}.{name}"] = "unknown"
        else:
            metrics[f"usage/{name}"] = value
    if unknown:
        tracker.set_tags(unknown)
    return metrics


JOB_FILE = "run.json"
JOB_FILE_VERSION = 1


def job_record(
    config: Mapping[str, Any], *, stages: Sequence[str], overrides: Sequence[str],
    choices: Mapping[str, str], swept: Sequence[str] | None, tracking: Mapping[str, Any],
    produced: Mapping[str, Any], status: str,
) -> dict[str, Any]:
    """What ``<output_dir>/run.json`` holds: how the job was asked for (its task overrides, the
    Hydra group choices, the swept keys of its multirun), its flat settings (for the factors of
    a report across jobs), where its results are (workspace, MLflow run) and what it produced
    (``probe_run``, ``scoring_key``, ``sessions``). A report reads only this and the workspace.
    """
    from valuespectrum.tracking import flatten

    settings, _ = split_blobs(dict(config))
    return {
        "version": JOB_FILE_VERSION,
        "status": status,
        "stages": list(stages),
        "overrides": [_unquoted(o) for o in overrides],
        "choices": {k: v for k, v in choices.items() if not k.startswith("hydra")},
        "swept": list(swept) if swept is not None else None,
        "settings": {k: v for k, v in flatten(settings).items() if k not in BLOBS},
        "mlflow": dict(tracking),
        "workspace": str(config["paths"]["workspace"]),
        **produced,
    }
