"""Steps shared by the index, retrieve and probe stages: which embedder, which index files,
and the retrieval run of a configuration (computed once, then reused from the store).

Stages never import each other; what two of them need lives here.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from valuespectrum.config import EmbedderConfig
from valuespectrum.retrieval.embedding import ClipEmbedder, EmbedderSpec
from valuespectrum.retrieval.index import VectorIndex
from valuespectrum.retrieval.search import search_keywords
from valuespectrum.store import content_id
from valuespectrum.store.integrity import require_images, require_index_complete

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class IndexFiles:
    """Where the image and caption vectors of one embedder live inside a workspace."""

    image: Path
    caption: Path | None


@dataclass(frozen=True)
class RetrievalRun:
    """The hand-over from retrieval to later stages: run id, its rows, and whether reused."""

    run_id: str
    table: Any  # pandas DataFrame of retrievals joined with screenshot paths and captions
    reused: bool


def make_embedder(e: EmbedderConfig) -> ClipEmbedder:
    """The CLIP (+ caption) embedder a config names; nothing loads until first use."""
    return ClipEmbedder(
        EmbedderSpec(
            name=e.name, arch=e.arch, pretrained=e.pretrained, model_config=e.model_config,
            init_seed=e.init_seed, device=e.device, batch_size=e.batch_size,
            prefetch=e.prefetch, caption_encoder=e.caption_encoder,
        )
    )


def index_files(workspace: Path, embedder) -> IndexFiles:
    captions = embedder.caption_encoder
    return IndexFiles(
        image=workspace / "index" / f"image-{_slug(embedder.tag)}.usearch",
        caption=(
            workspace / "index" / f"caption-{_slug(captions.tag)}.usearch" if captions else None
        ),
    )


def ensure_retrieval(ctx) -> RetrievalRun:
    """The retrieval run of this configuration, computed if its rows are not stored yet.

    Later stages call this when ``retrieve`` did not run in the same job: it is cheap when the
    rows already exist.
    """
    cfg = ctx.cfg
    embedder = make_embedder(ctx.cfg.embedder)
    files = index_files(ctx.workspace, embedder)
    if not files.image.exists():
        raise FileNotFoundError(
            f"no image index at {files.image}; run the index stage first (stages=[index,retrieve])"
        )
    images = VectorIndex.open(files.image, view=True)
    weight = cfg.retrieve.caption_weight
    captions = None
    if weight > 0:
        if files.caption is None or not files.caption.exists():
            raise FileNotFoundError(
                "retrieve.caption_weight > 0 needs a caption index; set embedder.caption_encoder"
                "=minilm and run the index stage, or use retrieve.caption_weight=0"
            )
        captions = VectorIndex.open(files.caption, view=True)
    used = [("image", embedder.tag, files.image)]
    if captions is not None:
        used.append(("caption", embedder.caption_encoder.tag, files.caption))
    plan = [(v, kw) for v, entry in cfg.value_keywords.values.items() for kw in entry.keywords]
    run_id = content_id(
        {
            "keywords": [(v, kw) for v, kw in plan], "k": cfg.retrieve.k, "w": weight,
            "embedder": embedder.tag, "images": images.fingerprint(),
            "captions": captions.fingerprint() if captions else None,
            "caption_encoder": embedder.caption_encoder.tag if captions else None,
        }
    )
    # One opening of the database when the run is stored already (every later probe).
    with ctx.store.lock(), ctx.store.connect(locked=False) as con:
        _check_complete(ctx, con, used)
        reused = ctx.store.has_retrieval(con, run_id)
        table = ctx.store.retrievals(con, run_id) if reused else None
    if table is None:
        rows = search_keywords(cfg, embedder, images, captions, plan, run_id)
        with ctx.store.connect() as con:
            ctx.store.insert_retrievals(con, rows)
            table = ctx.store.retrievals(con, run_id)
    stage = "retrieve" if "retrieve" in cfg.stages else "probe"
    require_images(ctx.workspace, table["file_path"], stage)  # before a contact sheet or a call
    log.info("retrieval run %s: %d rows%s", run_id, len(table), " (reused)" if reused else "")
    return RetrievalRun(run_id, table, reused)


def _check_complete(ctx, con, used: list[tuple[str, str, Path]]) -> None:
    """Refuse to search an index file holding fewer vectors than ``embeddings`` recorded for it
    (an older copy put back, a file of another workspace). The caller holds the lock, under
    which the index stage saves a file and records its rows together, so a sibling job's
    progress is no alarm."""
    for kind, tag, path in used:
        recorded = len(ctx.store.embedded_ids(con, tag, kind))
        require_index_complete(VectorIndex.open(path, view=True), recorded, path)


def _slug(tag: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", tag)
