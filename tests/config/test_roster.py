"""The model roster: retired paper models are kept with their date and successor, and refused
in one line before any work; current ones compose and name where their prices come from."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys

import pytest
import yaml

from tests.conftest import CONF_DIR, ROOT, compose_raw
from valuespectrum.config import ConfigError, load_config
from valuespectrum.config.overrides import check_overrides
from valuespectrum.runner import preflight

SPECS = {p.stem: yaml.safe_load(p.read_text()) for p in (CONF_DIR / "model").glob("*.yaml")}
RETIRED = sorted(name for name, spec in SPECS.items() if spec.get("retired"))
EXPECTED = {  # name: (retired on, successor)
    "claude35_sonnet": ("2025-10-22", "claude"),
    "gemini15_pro": ("2025-09-24", "gemini35_flash"),
    "gemini20_flash": ("2026-06-01", "gemini35_flash"),
}


def test_the_papers_retired_api_models_are_kept_with_date_and_successor() -> None:
    assert {n: (SPECS[n]["retired"], SPECS[n]["successor"]) for n in RETIRED} == EXPECTED
    assert SPECS["claude35_sonnet"]["model"] == "anthropic/claude-3-5-sonnet-20241022"
    assert SPECS["gemini15_pro"]["model"] == "gemini/gemini-1.5-pro"
    assert SPECS["gemini20_flash"]["model"] == "gemini/gemini-2.0-flash"


@pytest.mark.parametrize("name", RETIRED)
def test_a_successor_is_a_shipped_current_model_of_the_same_backend(name: str) -> None:
    spec = SPECS[name]
    dt.date.fromisoformat(spec["retired"])
    successor = SPECS[spec["successor"]]
    assert not successor.get("retired") and successor["backend"] == spec["backend"]
    assert "retired" in (CONF_DIR / "model" / f"{name}.yaml").read_text().split("defaults:")[0]


def test_model_claude_is_a_current_claude() -> None:
    model = load_config(compose_raw(["model=claude"])).model
    assert model.retired is None and model.model.startswith("anthropic/claude-sonnet-")


@pytest.mark.parametrize("name", RETIRED)
def test_run_py_refuses_a_retired_model_in_one_line(name: str, tmp_path) -> None:
    env = {**os.environ, "LITELLM_LOCAL_MODEL_COST_MAP": "True"}
    env.pop("ANTHROPIC_API_KEY", None)
    env.pop("GEMINI_API_KEY", None)
    res = subprocess.run([sys.executable, "run.py", f"model={name}",
                          f"paths.workspace={tmp_path}/ws"], cwd=ROOT, capture_output=True,
                         text=True, timeout=60, env=env)
    retired, successor = EXPECTED[name]
    assert res.returncode == 2 and res.stdout == ""
    assert res.stderr.count("\n") == 1, res.stderr
    assert f"retired by its provider on {retired}" in res.stderr
    assert f"use model={successor} instead" in res.stderr
    assert not (tmp_path / "ws").exists()  # stopped before anything was written


def test_the_refusal_covers_sweeps_and_spares_runs_that_call_no_model() -> None:
    assert "model=gemini20_flash" in check_overrides(["-m", "model=gpt4o,gemini20_flash"],
                                                     CONF_DIR)
    assert check_overrides(["model=claude35_sonnet", "stages=[collect,index]"], CONF_DIR) is None
    assert check_overrides(["model=claude35_sonnet", "model.retired=null"], CONF_DIR) is None
    assert check_overrides(["model=claude35_sonnet", "--cfg", "job"], CONF_DIR) is None


def test_preflight_refuses_a_composed_retired_model(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("ANTHROPIC_API_KEY", "dummy-key-for-test")
    cfg = load_config(compose_raw(["model=claude35_sonnet", f"paths.workspace={tmp_path}",
                                   "tracking.enabled=false"]))
    with pytest.raises(ConfigError, match=r"retired by its provider on 2025-10-22.*model=claude"):
        preflight(cfg)
    anyway = load_config(compose_raw(["model=claude35_sonnet", "model.retired=null",
                                      f"paths.workspace={tmp_path}", "tracking.enabled=false"]))
    preflight(anyway)  # tried anyway: nothing left to refuse (the key is set)


def test_a_retirement_needs_a_date_and_a_successor() -> None:
    with pytest.raises(ConfigError, match="must be a date YYYY-MM-DD"):
        load_config(compose_raw(["model=gpt4o", "model.retired=soon", "model.successor=gpt54"]))
    with pytest.raises(ConfigError, match=r"give model\.successor"):
        load_config(compose_raw(["model=gpt4o", "model.retired='2027-01-14'"]))
