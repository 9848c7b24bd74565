"""A small collected, indexed and retrieved demo workspace, shared by the probe tests that only
read it (each copies it before writing)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from valuespectrum import runner
from valuespectrum.cli import compose

SMALL_DEMO = ["corpus.n=100", "retrieve.k=3", "progress=false", "tracking.enabled=false"]


@pytest.fixture(scope="session")
def small_demo_template(tmp_path_factory) -> Path:
    ws = tmp_path_factory.mktemp("small_demo") / "ws"
    cfg = compose([f"paths.workspace={ws}", *SMALL_DEMO, "stages=[collect,index,retrieve]"])
    runner.run(cfg, output_dir=ws.parent / "out")
    return ws


@pytest.fixture
def small_demo(small_demo_template: Path, tmp_path: Path) -> Path:
    """A copy of the small demo workspace for one test."""
    ws = tmp_path / "ws"
    shutil.copytree(small_demo_template, ws)
    return ws
