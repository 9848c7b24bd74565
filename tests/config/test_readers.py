"""An override that none of the selected stages reads is said aloud, in one line."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import fields

import pytest

from tests.conftest import ROOT
from valuespectrum.config import READ_BY, READ_BY_RUN, STAGES, Config, unread_overrides
from valuespectrum.config.readers import override_key

BUILT = ("collect", "index", "retrieve", "probe", "induce")


def test_every_config_key_says_who_reads_it() -> None:
    keys = {f.name for f in fields(Config)}
    assert keys == set(READ_BY) | (READ_BY_RUN - {"hydra"})
    assert not set(READ_BY) & READ_BY_RUN
    assert all(set(readers) <= set(STAGES) and readers for readers in READ_BY.values())


@pytest.mark.parametrize(
    ("override", "key"),
    [("strategy=isq", "strategy"), ("+model.device=cuda", "model"), ("~persona.path", "persona"),
     ("threshold.isq_percent=70", "threshold"), ("hydra/launcher=joblib", "hydra"),
     ("++probe.samples=2", "probe"), ("seed=3", "seed")],
)
def test_override_key(override: str, key: str) -> None:
    assert override_key(override) == key


def test_role_play_axes_are_not_read_before_induce() -> None:
    lines = unread_overrides(
        ["strategy=isq", "persona.path=/p.txt", "platform=tiktok", "threshold.isq_percent=70",
         "corpus.n=30", "stages=[collect,index,retrieve]", "tracking.enabled=false"],
        ["collect", "index", "retrieve"],
        BUILT,
    )
    assert lines == [
        "strategy=isq is not read by the selected stages (collect, index, retrieve); it is read "
        "by induce",
        "persona.path=/p.txt is not read by the selected stages (collect, index, retrieve); it is "
        "read by induce",
        "platform=tiktok is not read by the selected stages (collect, index, retrieve); it is "
        "read by induce",
        "threshold.isq_percent=70 is not read by the selected stages (collect, index, retrieve); "
        "it is read by induce",
    ]


def test_model_and_corpus_are_read_only_where_they_matter() -> None:
    assert unread_overrides(["model=gpt4o"], ["collect", "index", "retrieve"], BUILT) == [
        "model=gpt4o is not read by the selected stages (collect, index, retrieve); it is read by "
        "probe or induce"
    ]
    assert unread_overrides(["model=gpt4o", "+model.device=x"], ["probe"], BUILT) == []
    assert unread_overrides(["corpus.n=9"], ["probe"], BUILT) == [
        "corpus.n=9 is not read by the selected stages (probe); it is read by collect"
    ]
    # probe recomputes a missing retrieval, so it reads the retrieval settings
    assert unread_overrides(["retrieve.k=2", "embedder=clip_vitb32"], ["probe"], BUILT) == []


def test_run_py_warns_about_an_unread_axis_and_runs(tmp_path) -> None:
    res = subprocess.run(
        [sys.executable, "run.py", "stages=[collect]", "corpus.n=3", "strategy=isq",
         "model=gpt4o", "tracking.enabled=false", "progress=false",
         f"paths.workspace={tmp_path}/ws", f"hydra.run.dir={tmp_path}/out"],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
        env={**os.environ, "LITELLM_LOCAL_MODEL_COST_MAP": "True"},
    )
    assert res.returncode == 0, res.stdout[-2000:] + res.stderr[-2000:]
    out = res.stdout + res.stderr
    warnings = [line for line in out.splitlines() if "is not read by" in line]
    assert len(warnings) == 2, out
    assert warnings[0].endswith(
        "[WARNING] - strategy=isq is not read by the selected stages (collect); it is read by "
        "induce"
    )
    assert "model=gpt4o is not read by the selected stages (collect)" in warnings[1]
    assert (tmp_path / "ws" / "valuespectrum.duckdb").is_file()  # a warning, not a refusal
