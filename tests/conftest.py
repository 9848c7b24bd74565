"""Shared fixtures and the marker policy: slow tests run only with --runslow, browser tests only
where Chromium is installed, GPU tests only where CUDA is available."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from valuespectrum.config import Config, load_config

ROOT = Path(__file__).resolve().parent.parent
CONF_DIR = ROOT / "conf"

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--runslow", action="store_true", help="also run tests marked slow")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    run_slow = config.getoption("--runslow")
    has_browser = bool(shutil.which("chromium") and shutil.which("chromedriver"))
    for item in items:
        if "slow" in item.keywords and not run_slow:
            item.add_marker(pytest.mark.skip(reason="slow: run with --runslow"))
        if "browser" in item.keywords and not has_browser:
            item.add_marker(pytest.mark.skip(reason="needs Debian chromium + chromium-driver"))
        if "gpu" in item.keywords and not _has_cuda():
            item.add_marker(pytest.mark.skip(reason="needs a CUDA device"))


def _has_cuda() -> bool:
    try:
        import torch
    except ImportError:
        return False
    return bool(torch.cuda.is_available())


def compose_raw(overrides: list[str] | None = None):
    """Compose conf/config.yaml with Hydra exactly as `python run.py` does."""
    from hydra import compose, initialize_config_dir

    from valuespectrum.config import register_schemas

    register_schemas()  # as valuespectrum.cli does on import
    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
        return compose("config", overrides=list(overrides or []))


@pytest.fixture
def make_config(tmp_path: Path) -> Callable[..., Config]:
    """Build a validated Config for a throwaway workspace, with Hydra overrides."""

    def build(*overrides: str, workspace: Path | None = None) -> Config:
        ws = workspace or tmp_path / "workspace"
        raw = compose_raw([f"paths.workspace={ws}", "progress=false", *overrides])
        return load_config(raw)

    return build
