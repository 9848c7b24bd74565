"""A real 2 x 2 multirun of the offline demo (prompts x retrieve.k, probe only, tracked in the
workspace's MLflow store), made once per session; tests copy nothing and only read it."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SWEEP = ["prompts=paper,prototype", "retrieve.k=1,2", "probe.ask_why=false", "corpus.n=100",
         "stages=[collect,index,retrieve,probe]", "progress=false"]  # fmt: skip


@dataclass(frozen=True)
class Multirun:
    folder: Path
    workspace: Path

    @property
    def tracking_uri(self) -> str:
        return f"sqlite:///{self.workspace / 'mlflow.db'}"


def run_multirun(folder: Path, workspace: Path, sweep: list[str]) -> None:
    env = {**os.environ, "LITELLM_LOCAL_MODEL_COST_MAP": "True"}
    command = [sys.executable, "run.py", "-m", *sweep, f"paths.workspace={workspace}",
               f"hydra.sweep.dir={folder}"]  # fmt: skip
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=600)  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]


@pytest.fixture(scope="session")
def demo_multirun(tmp_path_factory) -> Multirun:
    base = tmp_path_factory.mktemp("report_multirun")
    run = Multirun(base / "sweep", base / "ws")
    run_multirun(run.folder, run.workspace, SWEEP)
    return run
