"""Checks at stage start: a stage stops, in one line naming the repair, before it reads a lost
corpus image or searches an index that lost vectors; the named repair then works."""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pytest

from valuespectrum import runner
from valuespectrum.cli import compose
from valuespectrum.retrieval.index import VectorIndex
from valuespectrum.store.integrity import WorkspaceDamaged

N = 20
BASE = [f"corpus.n={N}", "retrieve.k=2", "retrieve.caption_weight=0",
        "embedder.caption_encoder=null", "progress=false", "tracking.enabled=false"]


def _run(ws: Path, out: Path, *stages: str) -> dict[str, float]:
    cfg = compose([f"paths.workspace={ws}", *BASE, f"stages=[{','.join(stages)}]"])
    return runner.run(cfg, output_dir=out)


@pytest.fixture(scope="module")
def retrieved(tmp_path_factory) -> Path:
    ws = tmp_path_factory.mktemp("template") / "ws"
    _run(ws, ws.parent / "out", "collect", "index", "retrieve")
    return ws


@pytest.fixture
def ws(retrieved: Path, tmp_path: Path) -> Path:
    shutil.copytree(retrieved, tmp_path / "ws")
    return tmp_path / "ws"


def _index(ws: Path) -> Path:
    (path,) = (ws / "index").glob("image-*.usearch")
    return path


def test_a_lost_retrieved_image_stops_retrieve_until_collect_restores_it(ws, tmp_path) -> None:
    with duckdb.connect(str(ws / "valuespectrum.duckdb"), read_only=True) as con:
        (path,) = con.execute(
            "SELECT s.file_path FROM retrievals r JOIN screenshots s ON s.id = r.screenshot_id "
            "ORDER BY r.value, r.keyword, r.rank LIMIT 1"
        ).fetchone()
    (ws / path).unlink()
    with pytest.raises(WorkspaceDamaged) as info:
        _run(ws, tmp_path / "a", "retrieve")  # before: a grey tile on the contact sheet
    message = str(info.value)
    assert "\n" not in message and path in message and "re-run collect" in message
    metrics = _run(ws, tmp_path / "b", "collect", "retrieve")
    assert metrics["usage/collect/restored"] == 1 and metrics["usage/retrieve/reused"] == 1


def test_an_index_that_lost_vectors_stops_retrieve_until_index_re_embeds(ws, tmp_path) -> None:
    path = _index(ws)
    full = VectorIndex.open(path, view=False)
    keys = full.keys()[: N - 3]
    partial = VectorIndex.create(full.dim)
    partial.add(keys, full.get(keys))
    partial.save(path)  # e.g. an older copy of the file put back
    with pytest.raises(WorkspaceDamaged, match=rf"holds {N - 3} vectors .* recorded {N}; re-run "
                                               r"the index stage"):
        _run(ws, tmp_path / "a", "retrieve")
    metrics = _run(ws, tmp_path / "b", "index", "retrieve")
    # Re-embedded in a batch of 3, not 20: float noise may change the index fingerprint.
    assert metrics["usage/index/images_embedded"] == 3 and metrics["retrieve/fill_rate"] == 1


def test_a_truncated_index_stops_the_index_stage_until_deleted(ws, tmp_path) -> None:
    path = _index(ws)
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    with pytest.raises(WorkspaceDamaged, match="delete it and re-run the index stage"):
        _run(ws, tmp_path / "a", "index")
    path.unlink()
    metrics = _run(ws, tmp_path / "b", "index", "retrieve")
    assert metrics["usage/index/images_embedded"] == N and metrics["usage/retrieve/reused"] == 1
