"""Retired models, refused from the command line before Hydra composes anything.

A model config keeps its original id with ``retired: <date>`` and ``successor: <config>``, so the
paper's setup stays on record while ``python run.py model=claude35_sonnet`` stops at once, in one
line naming the date and the successor, instead of after collect, index and retrieve when the
first call meets the provider's 404. Pre-flight (``models.registry.check_ready``) refuses the same
composed config from Python; this module is the fast path: it reads only the model's YAML file.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from valuespectrum.config.models import retirement_message

# Stages that call the model; a run of only the others never meets the retired id.
MODEL_STAGES = frozenset({"probe", "induce"})
DEFAULT_STAGES = ("collect", "index", "retrieve", "probe")  # as conf/config.yaml says


def retired_refusal(overrides: Sequence[Any], conf_dir: Path) -> str | None:
    """The refusal for the first retired ``model=`` choice in parsed Hydra ``overrides``.

    None when no chosen model is retired, when ``model.retired`` is overridden (``null`` tries a
    retired id anyway), or when ``stages=`` selects no stage that calls the model.
    """
    chosen: list[str] = []
    stages: Sequence[str] | None = None
    for override in overrides:
        key = override.key_or_group
        if key == "model.retired":
            return None
        if override.is_sweep_override() and key != "model":
            continue
        value = override.value()
        if key == "model":
            options = getattr(value, "list", None)
            chosen += [str(v) for v in (options if options is not None else [value])]
        elif key == "stages" and isinstance(value, list):
            stages = [str(s) for s in value]
    if not MODEL_STAGES & set(stages if stages is not None else DEFAULT_STAGES):
        return None
    for name in chosen:
        spec = _model_file(conf_dir, name)
        if spec.get("retired"):
            return retirement_message(name, str(spec.get("model", "?")), str(spec["retired"]),
                                      spec.get("successor"))
    return None


def _model_file(conf_dir: Path, name: str) -> dict[str, Any]:
    import yaml

    path = conf_dir / "model" / f"{name}.yaml"
    if not path.is_file():
        return {}
    spec = yaml.safe_load(path.read_text())
    return spec if isinstance(spec, dict) else {}
