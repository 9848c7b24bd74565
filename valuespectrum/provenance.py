"""What code and which packages produced a run: git state, versions, MLflow's source columns.

No mlflow import: these are plain facts about the process, recorded by the tracker.
"""

from __future__ import annotations

import subprocess
from importlib import metadata
from pathlib import Path

PACKAGES = (
    "valuespectrum", "torch", "open_clip_torch", "transformers", "litellm", "usearch",
    "duckdb", "mlflow", "hydra-core", "numpy", "pillow",
)



def source_tags(sha: str, source: str) -> dict[str, str]:
    """MLflow's own source columns (user, source, commit), which ``create_run`` leaves empty."""
    tags = {
        "mlflow.source.type": "LOCAL",
        "mlflow.source.name": source,
        "mlflow.user": user_name(),
    }
    if sha and sha != "unknown":
        tags["mlflow.source.git.commit"] = sha
    return tags


def user_name() -> str:
    import getpass

    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no passwd entry for the uid (containers)
        return "unknown"


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
