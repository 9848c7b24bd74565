"""What the local feed can serve: the corpus's screenshots with their fused embeddings.

Vectors are read from the USearch indexes the ``index`` stage built (nothing is embedded here):
each item's CLIP image vector and caption vector are unit-normalised and concatenated with
weights sqrt(1 - w) and sqrt(w), so that the dot product of two items is exactly
``(1 - w) * image cosine + w * caption cosine``; the row is then L2-normalised again (it already
is, unless the caption is missing). Value labels are for measurement only and never reach the
page or the model: the demo's ``theme`` when present, else the labels the caller passes (e.g.
the values whose retrieval lists hold the item), else none.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from valuespectrum.store.integrity import require_images

COLLECT_AND_INDEX = "python run.py stages=[collect,index]"


class CatalogUnavailable(RuntimeError):
    """The workspace cannot feed a catalog yet; the message names the command that fixes it."""


@dataclass(frozen=True)
class FeedItem:
    """One servable post. ``likes``/``comments`` are pseudo-counts when the corpus has none."""

    item_id: int  # screenshots.id
    image_path: Path  # normalised PNG inside the workspace
    caption: str
    author: str
    hashtags: tuple[str, ...]
    likes: int
    comments: int
    values: tuple[str, ...]  # value labels (measurement only, never shown to the model)


@dataclass(frozen=True, eq=False)  # identity equality: the embeddings are an array
class Catalog:
    """Items and their embeddings; row ``i`` of ``embeddings`` belongs to ``items[i]``."""

    items: tuple[FeedItem, ...]
    embeddings: np.ndarray  # (n, d) float32, L2-normalised
    _positions: dict[int, int] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        emb = np.ascontiguousarray(self.embeddings, dtype=np.float32)
        if emb.ndim != 2 or emb.shape[0] != len(self.items):
            raise ValueError(
                f"embeddings must be ({len(self.items)}, d), one row per item; got {emb.shape}"
            )
        if not len(self.items):
            raise ValueError("a catalog needs at least one item")
        if not np.isfinite(emb).all():
            raise ValueError("embeddings contain NaN or inf")
        norms = np.linalg.norm(emb, axis=1, keepdims=True)
        emb = emb / np.where(norms > 0, norms, 1.0)
        emb.setflags(write=False)
        positions = {item.item_id: i for i, item in enumerate(self.items)}
        if len(positions) != len(self.items):
            raise ValueError("catalog item ids must be unique")
        object.__setattr__(self, "embeddings", emb)
        object.__setattr__(self, "_positions", positions)

    def __len__(self) -> int:
        return len(self.items)

    def __contains__(self, item_id: object) -> bool:
        return item_id in self._positions

    def index_of(self, item_id: int) -> int:
        """Row of ``item_id``; KeyError when the catalog does not hold it."""
        try:
            return self._positions[item_id]
        except (KeyError, TypeError):
            raise KeyError(f"item {item_id!r} is not in the catalog") from None

    def by_id(self, item_id: int) -> FeedItem:
        return self.items[self.index_of(item_id)]

    @property
    def value_labels(self) -> tuple[str, ...]:
        """Every value label some item carries, sorted."""
        return tuple(sorted({v for item in self.items for v in item.values}))


def pseudo_counts(item_id: int) -> tuple[int, int]:
    """Deterministic (likes, comments) for a corpus without counts: log-uniform over ~10..2M
    likes, comments 0.5-5 % of them, the same for an id in every process."""
    digest = hashlib.sha256(f"feed-counts:{item_id}".encode()).digest()
    u, v = (int.from_bytes(digest[i : i + 8], "big") / 2**64 for i in (0, 8))
    likes = int(10 ** (1 + 5.3 * u))
    return likes, int(likes * (0.005 + 0.045 * v))


def fuse(image: np.ndarray, caption: np.ndarray | None, caption_weight: float) -> np.ndarray:
    """Rows of ``[sqrt(1-w) * image, sqrt(w) * caption]`` (each part unit-normalised first),
    L2-normalised: dot products of captioned rows are ``(1-w) * image + w * caption`` cosine.
    A row without a caption (zero caption vector) becomes its unit image vector: against
    another such row the image cosine, against a captioned row ``sqrt(1-w)`` times it."""
    if not 0.0 <= caption_weight <= 1.0:
        raise ValueError(f"caption_weight must be in [0, 1], got {caption_weight}")
    parts = [np.sqrt(1.0 - caption_weight) * _unit_rows(image)]
    if caption is not None and caption_weight > 0:
        if len(caption) != len(image):
            raise ValueError(f"{len(caption)} caption rows for {len(image)} image rows")
        parts.append(np.sqrt(caption_weight) * _unit_rows(caption))
    return _unit_rows(np.hstack(parts)).astype(np.float32)


def _unit_rows(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, dtype=np.float32)
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    return x / np.where(norms > 0, norms, 1.0)


def catalog_from_workspace(
    store: Any,
    workspace: Path,
    embedder_cfg: Any,
    labels: Mapping[int, tuple[str, ...]] | None = None,
    *,
    caption_weight: float = 0.8,
) -> Catalog:
    """Every collected and indexed screenshot of ``workspace`` as a catalog.

    ``embedder_cfg`` (an ``EmbedderConfig``) names the index files; pass
    ``cfg.recommender.caption_weight``. Raises :class:`CatalogUnavailable` in one line naming the
    fix when the corpus is empty, an index is missing, or a screenshot has no image vector.
    """
    from valuespectrum.retrieval.index import VectorIndex
    from valuespectrum.retrieval.steps import index_files, make_embedder

    files = index_files(workspace, make_embedder(embedder_cfg))
    if not files.image.exists():
        raise CatalogUnavailable(
            f"no image index at {files.image}; collect and index the corpus first "
            f"({COLLECT_AND_INDEX})"
        )
    with store.connect() as con:
        rows = store.screenshots(con)
    if not rows:
        raise CatalogUnavailable(
            f"workspace {workspace} holds no screenshots; collect and index the corpus first "
            f"({COLLECT_AND_INDEX})"
        )
    ids = np.array([r.id for r in rows], dtype=np.int64)
    images = VectorIndex.open(files.image, view=True)
    unindexed = [int(i) for i in ids if int(i) not in images]
    if unindexed:
        raise CatalogUnavailable(
            f"{len(unindexed)} of {len(ids)} screenshots have no image vector (e.g. id "
            f"{unindexed[0]}); run the index stage ({COLLECT_AND_INDEX})"
        )
    require_images(workspace, [r.file_path for r in rows], "feed")
    captions = _caption_vectors(files.caption, ids, caption_weight)
    embeddings = fuse(images.get(ids), captions, caption_weight)
    items = tuple(_item(workspace, r, labels) for r in rows)
    return Catalog(items=items, embeddings=embeddings)


def _caption_vectors(path: Path | None, ids: np.ndarray, weight: float) -> np.ndarray | None:
    """Caption vectors in ``ids`` order; zero rows for screenshots without a caption vector."""
    from valuespectrum.retrieval.index import VectorIndex

    if weight == 0:
        return None
    if path is None or not path.exists():
        raise CatalogUnavailable(
            "recommender.caption_weight > 0 needs a caption index; index with "
            "embedder.caption_encoder=minilm, or set recommender.caption_weight=0"
        )
    index = VectorIndex.open(path, view=True)
    present = np.array([int(i) in index for i in ids], dtype=bool)
    out = np.zeros((len(ids), index.dim), dtype=np.float32)
    if present.any():
        out[present] = index.get(ids[present])
    return out


def _item(workspace: Path, row: Any, labels: Mapping[int, tuple[str, ...]] | None) -> FeedItem:
    likes, comments = pseudo_counts(row.id)
    if row.theme:
        values: Sequence[str] = (row.theme,)
    elif labels is not None:
        values = tuple(labels.get(row.id, ()))
    else:
        values = ()
    return FeedItem(
        item_id=int(row.id),
        image_path=workspace / row.file_path,
        caption=row.caption or "",
        author=row.author or "",
        hashtags=tuple(row.hashtags or ()),
        likes=likes,
        comments=comments,
        values=tuple(values),
    )
