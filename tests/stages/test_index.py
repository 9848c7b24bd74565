"""index: only new screenshots are embedded, and a run killed mid-way resumes without
re-embedding or duplicating anything."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import duckdb
import pytest

from tests.conftest import ROOT
from valuespectrum import runner
from valuespectrum.retrieval.embedding import ClipEmbedder
from valuespectrum.retrieval.index import VectorIndex

N = 40


def _counting(monkeypatch) -> list[int]:
    calls: list[int] = []
    original = ClipEmbedder.embed_images

    def counted(self, paths, **kw):
        calls.append(len(paths))
        return original(self, paths, **kw)

    monkeypatch.setattr(ClipEmbedder, "embed_images", counted)
    return calls


def _image_index(ws: Path) -> Path:
    (path,) = (ws / "index").glob("image-*.usearch")
    return path


def test_rerun_embeds_only_new_screenshots(make_config, tmp_path, monkeypatch) -> None:
    calls = _counting(monkeypatch)
    cfg = make_config("stages=[collect,index]", f"corpus.n={N}", "tracking.enabled=false")
    first = runner.run(cfg, output_dir=tmp_path / "a")
    assert first["usage/index/images_embedded"] == N and sum(calls) == N
    assert first["usage/index/captions_embedded"] == N
    calls.clear()
    again = runner.run(cfg, output_dir=tmp_path / "b")
    assert again["usage/index/images_embedded"] == 0 and calls == []
    more = make_config("stages=[collect,index]", f"corpus.n={N + 10}", "tracking.enabled=false")
    grown = runner.run(more, output_dir=tmp_path / "c")
    assert grown["usage/index/images_embedded"] == 10 and calls == [10]
    ws = cfg.paths.workspace_path()
    assert len(VectorIndex.open(_image_index(ws), view=True)) == N + 10


KILLABLE = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from tests.conftest import compose_raw
    from valuespectrum.config import load_config
    from valuespectrum import runner
    from valuespectrum.retrieval.embedding import ClipEmbedder
    import valuespectrum.stages.index as stage

    stage.CHUNK = 8
    original = ClipEmbedder.embed_images
    def slow(self, paths, **kw):
        out = original(self, paths, **kw)
        time.sleep(0.4)
        return out
    ClipEmbedder.embed_images = slow
    cfg = load_config(compose_raw([f"paths.workspace={sys.argv[1]}", "stages=[index]",
                                   "tracking.enabled=false", "progress=false",
                                   "embedder.caption_encoder=null"]))
    runner.run(cfg, output_dir=Path(sys.argv[2]))
    """
)


def test_sigkill_mid_index_then_resume(make_config, tmp_path, monkeypatch) -> None:
    ws = tmp_path / "workspace"
    collect = make_config("stages=[collect]", f"corpus.n={N}", "tracking.enabled=false")
    runner.run(collect, output_dir=tmp_path / "collect")
    proc = subprocess.Popen(
        [sys.executable, "-c", KILLABLE, str(ws), str(tmp_path / "killed")],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            found = list((ws / "index").glob("image-*.usearch"))
            if found and len(VectorIndex.open(found[0], view=True)) >= 16:
                break
            assert proc.poll() is None, proc.stderr.read().decode()
            time.sleep(0.05)
        else:
            pytest.fail("index stage never saved a chunk")
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
    done_before = len(VectorIndex.open(_image_index(ws), view=True))
    assert 16 <= done_before < N, "the kill must land mid-way"

    calls = _counting(monkeypatch)
    resume = make_config(
        "stages=[index]", "tracking.enabled=false", "embedder.caption_encoder=null"
    )
    metrics = runner.run(resume, output_dir=tmp_path / "resumed")
    assert sum(calls) == N - done_before  # nothing embedded twice
    assert metrics["usage/index/images_embedded"] == N - done_before
    assert len(VectorIndex.open(_image_index(ws), view=True)) == N
    with duckdb.connect(str(ws / "valuespectrum.duckdb"), read_only=True) as con:
        total, distinct = con.execute(
            "SELECT count(*), count(DISTINCT screenshot_id) FROM embeddings WHERE kind='image'"
        ).fetchone()
    assert total == distinct == N
