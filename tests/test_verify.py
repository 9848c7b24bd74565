"""python -m valuespectrum.verify: a sound workspace is clean (exit 0); each kind of damage is
one line naming the fix (exit 1); it starts without torch or Hydra."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import duckdb
import numpy as np
import pytest

from tests.conftest import ROOT
from valuespectrum import runner
from valuespectrum.cli import compose
from valuespectrum.retrieval.index import VectorIndex
from valuespectrum.verify import main

N = 20


@pytest.fixture(scope="module")
def probed(tmp_path_factory) -> Path:
    """A workspace through every stage: demo corpus, image index, retrievals, a probe, induce."""
    ws = tmp_path_factory.mktemp("template") / "ws"
    cfg = compose([
        f"paths.workspace={ws}", f"corpus.n={N}", "retrieve.k=2", "retrieve.caption_weight=0",
        "embedder.caption_encoder=null", "model.perceive=clip", "probe.n_boot=50", "progress=false",
        "tracking.enabled=false", "recommender.caption_weight=0", "induce.videos=8",
        "induce.window=4", "induce.n_boot=50", "induce.sessions_per_persona=1",
    ])
    runner.run(cfg, output_dir=ws.parent / "out")
    return ws


@pytest.fixture
def ws(probed: Path, tmp_path: Path) -> Path:
    shutil.copytree(probed, tmp_path / "ws")
    return tmp_path / "ws"


def _verify(ws: Path, capsys, *flags: str) -> tuple[int, list[str]]:
    rc = main(["--workspace", str(ws), *flags])
    return rc, capsys.readouterr().out.splitlines()


def _sql(ws: Path, statement: str) -> list[tuple]:
    with duckdb.connect(str(ws / "valuespectrum.duckdb")) as con:
        return con.execute(statement).fetchall()


def _image(ws: Path) -> Path:
    (path,) = _sql(ws, "SELECT file_path FROM screenshots ORDER BY id LIMIT 1")[0]
    return ws / path


def _index(ws: Path) -> Path:
    (path,) = (ws / "index").glob("image-*.usearch")
    return path


def _keep_keys(ws: Path, keep: Callable[[np.ndarray], np.ndarray], extra: int | None = None):
    full = VectorIndex.open(_index(ws), view=False)
    keys = keep(full.keys())
    rebuilt = VectorIndex.create(full.dim)
    rebuilt.add(keys, full.get(keys))
    if extra is not None:
        rebuilt.add(np.array([extra]), np.ones((1, full.dim)))
    rebuilt.save(_index(ws))


def _truncate(path: Path) -> None:
    os.truncate(path, path.stat().st_size // 2)


def test_a_sound_workspace_is_clean(ws, capsys) -> None:
    rc, lines = _verify(ws, capsys, "--deep")
    assert rc == 0, lines
    assert lines == [f"workspace {ws}: clean ({N} screenshots, 1 index file, 1 retrieval run, "
                     "1 probe run)"]


DAMAGE: dict[str, tuple[Callable[[Path], object], str, str]] = {
    "image deleted": (lambda ws: _image(ws).unlink(),
                      "1 corpus image(s) missing or empty", "re-run collect"),
    "image emptied": (lambda ws: _image(ws).write_bytes(b""),
                      "1 corpus image(s) missing or empty", "re-run collect"),
    "index deleted": (lambda ws: _index(ws).unlink(),
                      f"is missing but embeddings records {N} vectors in it",
                      "re-run the index stage"),
    "index truncated": (lambda ws: _truncate(_index(ws)),
                        "is damaged", "delete it and re-run the index stage"),
    "index lost vectors": (lambda ws: _keep_keys(ws, lambda k: k[3:]),
                           "lacks 3 vectors that embeddings records", "re-run the index stage"),
    "index of another corpus": (lambda ws: _keep_keys(ws, lambda k: k, extra=12345),
                                "holds 1 vector(s) of screenshots not in the database",
                                "delete it and re-run the index stage"),
    "screenshot row deleted": (
        lambda ws: _sql(ws, "DELETE FROM screenshots WHERE id IN "
                            "(SELECT screenshot_id FROM retrievals LIMIT 1)"),
        "reference screenshots not in the database", "re-run collect"),
    "cached reply deleted": (
        lambda ws: _sql(ws, "DELETE FROM responses WHERE fingerprint IN (SELECT fingerprint "
                            "FROM answers WHERE outcome <> 'error' LIMIT 1)"),
        "have no cached reply", "re-run the probe"),
    "scores deleted": (lambda ws: _sql(ws, "DELETE FROM scores"),
                       "probe run(s) without scores", "re-run the probe"),
    "table dropped": (lambda ws: _sql(ws, "DROP TABLE call_errors"),
                      "table call_errors is missing", "re-run"),
    "database truncated": (lambda ws: _truncate(ws / "valuespectrum.duckdb"),
                           "workspace database", "move it away and re-run"),
}


@pytest.mark.parametrize("damage", list(DAMAGE))
def test_each_kind_of_damage_is_one_line_naming_the_fix(ws, capsys, damage: str) -> None:
    harm, what, fix = DAMAGE[damage]
    harm(ws)
    rc, lines = _verify(ws, capsys)
    assert rc == 1
    problems = [ln for ln in lines if ln.startswith("problem: ")]
    assert any(what in ln and fix in ln for ln in problems), lines
    assert lines[-1] == f"workspace {ws}: {len(problems)} problem(s) found"


def test_deep_decodes_every_image(ws, capsys) -> None:
    image = _image(ws)
    data = bytearray(image.read_bytes())
    data[len(data) // 2 : len(data) // 2 + 64] = bytes(64)  # same size, garbled pixels
    image.write_bytes(bytes(data))
    assert _verify(ws, capsys)[0] == 0  # the cheap check sees a file of sane size
    rc, lines = _verify(ws, capsys, "--deep")
    assert rc == 1
    assert any("1 corpus image(s) do not decode" in ln and "delete them and re-run collect" in ln
               for ln in lines), lines


def test_a_missing_workspace_is_a_usage_error(tmp_path, capsys) -> None:
    rc = main(["--workspace", str(tmp_path / "nowhere")])
    assert rc == 2 and "no workspace" in capsys.readouterr().err
    assert not (tmp_path / "nowhere").exists()


def test_the_command_starts_without_torch_or_hydra(ws) -> None:
    probe = (
        "import runpy, sys; sys.argv = ['verify', '--workspace', sys.argv[1]]\n"
        "try:\n    runpy.run_module('valuespectrum.verify', run_name='__main__')\n"
        "except SystemExit as e:\n"
        "    heavy = sorted(m for m in ('torch', 'hydra', 'open_clip', 'mlflow', 'litellm')"
        " if m in sys.modules)\n"
        "    print('heavy:', heavy); sys.exit(e.code)\n"
    )
    result = subprocess.run([sys.executable, "-c", probe, str(ws)], cwd=ROOT,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.splitlines()[-1] == "heavy: []"
