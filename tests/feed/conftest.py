"""Synthetic catalogs for the feed's tests: clustered embeddings, one cluster per value."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from valuespectrum.feed.catalog import Catalog, FeedItem
from valuespectrum.values import VALUES

DIM = 32


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
