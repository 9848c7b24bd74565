"""Index: embed every screenshot not yet in the vector indexes (images with CLIP, captions with
the caption encoder) and save the indexes atomically, chunk by chunk.

The index file on disk is the truth about what is embedded: a run killed mid-way keeps every
finished chunk, and the next run embeds only what is missing. Embedding happens outside the
workspace lock; only merging a chunk into the file on disk happens inside it, so parallel sweep
jobs never corrupt an index (at worst two of them embed the same chunk, with identical results).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from valuespectrum.retrieval.steps import index_files, make_embedder
from valuespectrum.store import ScreenshotRow
from valuespectrum.store.integrity import require_images

log = logging.getLogger(__name__)

CHUNK = 512


def run(ctx) -> dict[str, float]:
    """Embed new screenshots into the image (and caption) index; report counts and speed."""
    embedder = make_embedder(ctx.cfg.embedder)
    files = index_files(ctx.workspace, embedder)
    with ctx.store.connect() as con:
        shots = ctx.store.screenshots(con)
    metrics: dict[str, float] = {"usage/screenshots": float(len(shots))}
    present = _keys(files.image)
    require_images(ctx.workspace, [r.file_path for r in shots if r.id not in present], "index")

    def embed_images(rows: Sequence[ScreenshotRow]) -> np.ndarray:
        return embedder.embed_images(
            [ctx.workspace / r.file_path for r in rows], progress=ctx.cfg.progress
        )

    metrics["usage/images_embedded"] = _fill(
        ctx, files.image, shots, lambda: embedder.dim, embedder.tag, "image", embed_images
    )
    captions = embedder.caption_encoder
    if captions is not None and files.caption is not None:
        with_caption = [r for r in shots if r.caption and r.caption.strip()]
        metrics["usage/captions_embedded"] = _fill(
            ctx, files.caption, with_caption, lambda: captions.dim, captions.tag, "caption",
            lambda rows: captions.embed_texts([r.caption for r in rows]),
        )
        metrics["usage/captionless"] = float(len(shots) - len(with_caption))
    return metrics


def _fill(
    ctx,
    path: Path,
    rows: Sequence[ScreenshotRow],
    dim: Callable[[], int],
    tag: str,
    kind: str,
    embed: Callable[[Sequence[ScreenshotRow]], np.ndarray],
) -> float:
    """Add the vectors of ``rows`` missing from the index at ``path``; return how many.

    ``dim`` is asked only when an index must be created: a re-run with nothing to embed never
    imports the model library.
    """
    from valuespectrum.retrieval.index import VectorIndex

    present = _keys(path)
    todo = [r for r in rows if r.id not in present]
    log.info("%s index %s: %d present, %d to embed", kind, path.name, len(present), len(todo))
    added = 0
    for start in range(0, len(todo), CHUNK):
        chunk = todo[start : start + CHUNK]
        vectors = embed(chunk)
        keys = np.array([r.id for r in chunk], dtype=np.uint64)
        with ctx.store.lock():
            # Re-read under the lock: a sibling job may have saved vectors meanwhile.
            exists = path.exists()
            index = VectorIndex.open(path, view=False) if exists else VectorIndex.create(dim())
            added += index.add(keys, vectors)
            index.save(path)
            with ctx.store.connect(locked=False) as con:
                ctx.store.record_embeddings(con, keys.tolist(), tag, kind, path.name, index.dim)
    with ctx.store.lock(), ctx.store.connect(locked=False) as con:
        # Rows lost to a kill between saving the index and recording them are restored here.
        final = _keys(path)
        missing = final - ctx.store.embedded_ids(con, tag, kind)
        if missing:
            dim_now = VectorIndex.open(path, view=True).dim
            ctx.store.record_embeddings(con, sorted(missing), tag, kind, path.name, dim_now)
    return float(added)


def _keys(path: Path) -> set[int]:
    from valuespectrum.retrieval.index import VectorIndex

    if not path.exists():
        return set()
    return set(VectorIndex.open(path, view=True).keys().tolist())
