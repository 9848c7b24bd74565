"""Retired models, refused from the command line before Hydra or anything heavy is imported.

A model config keeps its original id with ``retired: <date>`` and ``successor: <config>``, so the
paper's setup stays on record while ``python run.py model=claude35_sonnet`` stops at once, in one
line naming the date and the successor, instead of after collect, index and retrieve when the
first call meets the provider's 404. This is the fast path: it reads the command line and the
chosen model's YAML file only (``run.py`` calls it before importing the CLI). Pre-flight
(``models.registry.check_ready``) refuses the same model from any composed config.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

CONF_DIR = Path(__file__).resolve().parent.parent / "conf"
# Stages that call the model; a run of only the others never meets the retired id.
MODEL_STAGES = frozenset({"probe", "induce"})
DEFAULT_STAGES = ("collect", "index", "retrieve", "probe")  # as conf/config.yaml says
# Flags that print a config or help and run no model; another config is not ours to judge.
NO_RUN_FLAGS = ("--cfg", "-c", "--help", "-h", "--hydra-help", "--info", "-i",
                "--config-name", "-cn", "--config-path", "-cp", "--config-dir", "-cd")
_NAME = re.compile(r"^[A-Za-z0-9_]+$")


def retirement_message(name: str, model: str, retired: str, successor: str | None) -> str:
    """Why a retired model is refused, and the fix: its successor, or trying it anyway."""
    return (
        f"model={name} ({model}) was retired by its provider on {retired}: its calls fail; "
        f"use model={successor} instead (or model.retired=null to try it anyway)"
    )


def retired_refusal(argv: Sequence[str], conf_dir: Path = CONF_DIR) -> str | None:
    """The refusal for the first retired ``model=`` choice on a ``python run.py`` command line.

    None when no chosen model is retired, when ``model.retired`` is overridden (``null`` tries a
    retired id anyway), when ``stages=[...]`` selects no stage that calls the model, or when the
    command line is not plain enough to judge here (pre-flight judges it after composing).
    """
    if any(a.split("=", 1)[0] in NO_RUN_FLAGS for a in argv):
        return None
    chosen: list[str] = []
    stages: Sequence[str] = DEFAULT_STAGES
    for arg in argv:
        key, _, value = arg.lstrip("+").partition("=")
        if key == "model.retired":
            return None
        if key == "model":
            chosen += [v for v in value.split(",") if _NAME.match(v)]
        elif key == "stages" and value.startswith("[") and value.endswith("]"):
            stages = [s.strip() for s in value[1:-1].split(",")]
    if not MODEL_STAGES & set(stages):
        return None
    for name in chosen:
        spec = _model_file(conf_dir, name)
        if spec.get("retired"):
            return retirement_message(name, str(spec.get("model", "?")), str(spec["retired"]),
                                      spec.get("successor"))
    return None


def refuse_retired(argv: Sequence[str]) -> None:
    """Exit 2 with one line on stderr when the command line chooses a retired model."""
    problem = retired_refusal(argv)
    if problem:
        print(f"error: {problem}", file=sys.stderr)
        sys.exit(2)


def _model_file(conf_dir: Path, name: str) -> dict[str, Any]:
    import yaml

    path = conf_dir / "model" / f"{name}.yaml"
    if not path.is_file():
        return {}
    spec = yaml.safe_load(path.read_text())
    return spec if isinstance(spec, dict) else {}
