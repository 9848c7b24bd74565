"""Synthetic catalogs for the feed's tests: clustered embeddings, one cluster per value."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from tests.conftest import compose_raw
from valuespectrum import runner
from valuespectrum.config import Config, load_config
from valuespectrum.feed.catalog import Catalog, FeedItem
from valuespectrum.retrieval.index import VectorIndex
from valuespectrum.retrieval.steps import index_files, make_embedder
from valuespectrum.store import Store
from valuespectrum.values import VALUES

DIM = 32
N = 12  # screenshots in the demo workspace


def synthetic_catalog(
    per_value: int = 60, *, values: tuple[str, ...] = VALUES, noise: float = 0.6, seed: int = 0,
    image_dir: Path | None = None,
) -> Catalog:
    """``per_value`` items for each value, interleaved; embeddings = value centroid + noise.

    Ids are large (60-bit like screenshots.id) and not in catalog order. With ``image_dir`` each
    item gets a small PNG of its own colour there.
    """
    rng = np.random.default_rng(seed)
    centroids = rng.normal(size=(len(values), DIM))
    centroids /= np.linalg.norm(centroids, axis=1, keepdims=True)
    items, rows = [], []
    for i in range(per_value * len(values)):
        v = i % len(values)
        item_id = (2**59 + 7919 * (i + 1) * 104729) % (2**60)
        path = Path("/nonexistent") / f"{i}.png"
        if image_dir is not None:
            path = image_dir / f"{i}.png"
            Image.new("RGB", (90, 160), (i * 37 % 256, v * 25, 200)).save(path)
        items.append(FeedItem(
            item_id=item_id, image_path=path, caption=f"post {i} about {values[v]}",
            author=f"user{i % 7}", hashtags=(values[v], f"tag{i % 3}"), likes=1000 + i,
            comments=10 + i, values=(values[v],),
        ))
        rows.append(centroids[v] + noise * rng.normal(size=DIM) / np.sqrt(DIM))
    return Catalog(items=tuple(items), embeddings=np.array(rows, dtype=np.float32))


@pytest.fixture
def make_catalog() -> Callable[..., Catalog]:
    return synthetic_catalog


def unit(x: np.ndarray) -> np.ndarray:
    return x / np.linalg.norm(x, axis=-1, keepdims=True)


@pytest.fixture(scope="session")
def demo_template(tmp_path_factory) -> Path:
    """A collected demo corpus of N screenshots with planted image and caption indexes."""
    ws = tmp_path_factory.mktemp("demo") / "workspace"
    cfg = _demo_config(ws)
    runner.run(cfg, output_dir=ws.parent / "out")
    store = Store(ws)
    with store.connect() as con:
        ids = np.array([r.id for r in store.screenshots(con)], dtype=np.int64)
    rng = np.random.default_rng(0)
    image, caption = unit(rng.normal(size=(N, 8))), unit(rng.normal(size=(N, 5)))
    files = index_files(ws, make_embedder(cfg.embedder))
    for path, vectors in ((files.image, image), (files.caption, caption)):
        index = VectorIndex.create(vectors.shape[1])
        index.add(ids.astype(np.uint64), vectors.astype(np.float32))
        index.save(path)
    np.savez(ws.parent / "planted.npz", ids=ids, image=image, caption=caption)
    return ws


@pytest.fixture
def demo(demo_template: Path, tmp_path: Path):
    """A copy of the demo workspace: (cfg, workspace, store, ids, image and caption vectors)."""
    ws = tmp_path / "workspace"
    shutil.copytree(demo_template, ws)
    planted = np.load(demo_template.parent / "planted.npz")
    return (_demo_config(ws), ws, Store(ws), planted["ids"], planted["image"],
            planted["caption"])


def _demo_config(ws: Path) -> Config:
    return load_config(compose_raw([f"paths.workspace={ws}", "stages=[collect]", f"corpus.n={N}",
                                    "tracking.enabled=false", "progress=false"]))
