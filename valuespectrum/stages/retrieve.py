"""Retrieve: for each value and each of its keywords, the top-k screenshots (paper.md section 3).

A keyword's CLIP text embedding is compared with every screenshot's image embedding; with
``retrieve.caption_weight`` w > 0 the caption similarity (MiniLM) is fused in:
``score = (1 - w) * image_similarity + w * caption_similarity``. Keywords of a value are served in
config order and a screenshot already taken by an earlier keyword of the same value is skipped,
so every value gets k distinct images per keyword. The run id hashes everything that decides the
result (keywords, k, w, model tags, index fingerprints): an identical re-run reuses the rows.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from valuespectrum.stages.index import index_files, make_embedder
from valuespectrum.store import content_id

log = logging.getLogger(__name__)


def run(ctx) -> dict[str, float]:
    """Write the ``retrievals`` rows of this configuration and log its contact sheets."""
    run_id, table, reused = ensure_retrieval(ctx)
    _log_artifacts(ctx, table, run_id)
    n_queries = sum(len(e.keywords) for e in ctx.cfg.value_keywords.values.values())
    return _metrics(table, n_queries, ctx.cfg.retrieve.k, reused)


def ensure_retrieval(ctx) -> tuple[str, Any, bool]:
    """Return (run id, retrievals table, reused?) for this configuration, computing if needed.

    Later stages call this when ``retrieve`` did not run in the same job: it is cheap when the
    rows already exist.
    """
    from valuespectrum.index import VectorIndex

    cfg = ctx.cfg
    embedder = make_embedder(ctx)
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
    plan = [(v, kw) for v, entry in cfg.value_keywords.values.items() for kw in entry.keywords]
    run_id = content_id(
        {
            "keywords": [(v, kw) for v, kw in plan], "k": cfg.retrieve.k, "w": weight,
            "embedder": embedder.tag, "images": images.fingerprint(),
            "captions": captions.fingerprint() if captions else None,
            "caption_encoder": embedder.caption_encoder.tag if captions else None,
        }
    )
    ctx.state["retrieval_run_id"] = run_id
    with ctx.store.connect() as con:
        reused = ctx.store.has_retrieval(con, run_id)
    if not reused:
        rows = _retrieve(ctx, embedder, images, captions, plan, run_id)
        with ctx.store.connect() as con:
            ctx.store.insert_retrievals(con, rows)
    with ctx.store.connect() as con:
        table = ctx.store.retrievals(con, run_id)
    log.info("retrieval run %s: %d rows%s", run_id, len(table), " (reused)" if reused else "")
    return run_id, table, reused


def _retrieve(ctx, embedder, images, captions, plan, run_id: str) -> list[dict]:
    cfg = ctx.cfg
    k, weight = cfg.retrieve.k, cfg.retrieve.caption_weight
    queries = [kw for _, kw in plan]
    image_q = embedder.embed_texts(queries)
    caption_q = embedder.caption_encoder.embed_texts(queries) if captions is not None else None
    # Over-fetch: later keywords of a value must still find k unused screenshots.
    per_value = max(len(e.keywords) for e in cfg.value_keywords.values.values())
    fetch = min(len(images), k * per_value + 4 * k)
    image_hits = images.search(image_q, fetch)
    caption_hits = captions.search(caption_q, fetch) if captions is not None else None
    fingerprint = images.fingerprint() + (f"+{captions.fingerprint()}" if captions else "")
    used: dict[str, set[int]] = {}
    rows: list[dict] = []
    for i, (value, keyword) in enumerate(plan):
        candidates = {key for key, _ in image_hits[i]}
        if caption_hits is not None:
            candidates |= {key for key, _ in caption_hits[i]}
        keys = np.array(sorted(candidates), dtype=np.uint64)
        img_sim = _similarity(images, keys, image_q[i])
        cap_sim = _similarity(captions, keys, caption_q[i]) if captions is not None else None
        fused = img_sim if cap_sim is None else (1 - weight) * img_sim + weight * cap_sim
        taken = used.setdefault(value, set())
        order = np.argsort(-fused, kind="stable")
        rank = 0
        for j in order:
            key = int(keys[j])
            if key in taken:
                continue
            taken.add(key)
            rank += 1
            rows.append(
                {
                    "run_id": run_id, "value": value, "keyword": keyword, "rank": rank,
                    "screenshot_id": key, "score": float(fused[j]),
                    "image_score": float(img_sim[j]),
                    "caption_score": None if cap_sim is None else float(cap_sim[j]),
                    "caption_weight": weight, "embedder": embedder.tag,
                    "caption_encoder": embedder.caption_encoder.tag if captions else None,
                    "index_fingerprint": fingerprint,
                    "keywords_name": cfg.value_keywords.name, "query": keyword,
                }
            )
            if rank == k:
                break
        if rank < k:
            log.warning("%s/%s: only %d unused screenshots found (k=%d)", value, keyword, rank, k)
    return rows


def _similarity(index, keys: np.ndarray, query: np.ndarray) -> np.ndarray:
    """Exact cosine similarity of ``query`` with the stored vectors of ``keys`` (0 if absent)."""
    present = np.array([int(k) in index for k in keys], dtype=bool)
    sims = np.zeros(len(keys), dtype=np.float64)
    if present.any():
        vectors = np.asarray(index.get(keys[present]), dtype=np.float64)
        sims[present] = vectors @ np.asarray(query, dtype=np.float64)
    return sims


def _metrics(table, n_queries: int, k: int, reused: bool) -> dict[str, float]:
    metrics = {
        "rows": float(len(table)),
        "queries": float(n_queries),
        "fill_rate": len(table) / max(1, n_queries * k),
        "mean_score": float(table["score"].mean()) if len(table) else 0.0,
        "reused": float(reused),
    }
    themed = table.dropna(subset=["theme"])
    if len(themed):
        # Demo corpus only: how often the retrieved image was drawn for the queried value.
        metrics["theme_precision"] = float((themed["theme"] == themed["value"]).mean())
    return metrics


def sheet_header(
    caption_weight: float, embedder_tag: str, caption_tag: str | None, pretrained: str | None
) -> tuple[list[str], str | None]:
    """(subtitle lines, warning) for a contact sheet: which score ranks the thumbnails, which
    models produced it, and a warning when the CLIP model has random weights."""
    w = caption_weight
    if w == 0:
        score = "score: image similarity (CLIP image vs keyword text)"
    elif w == 1:
        score = "score: caption similarity (caption text vs keyword)"
    else:
        score = f"score: fused = {1 - w:.2g} image + {w:.2g} caption similarity to the keyword"
    models = f"embedder: {embedder_tag}" + (f" | captions: {caption_tag}" if w > 0 else "")
    warning = None
    if pretrained is None:
        rest = {0: "so this ranking is noise", 1: "and take no part in this ranking"}
        warning = "random-init CLIP: image similarities carry no meaning, " + rest.get(
            w, "only the caption part of this score does"
        )
    return [score, models], warning


def _log_artifacts(ctx, table, run_id: str) -> None:
    from valuespectrum.contact_sheets import ContactItem, contact_sheet
    from valuespectrum.values import LABELS

    cfg = ctx.cfg
    out = ctx.output_dir / "retrieval"
    out.mkdir(parents=True, exist_ok=True)
    parquet = out / f"retrievals-{run_id}.parquet"
    table.to_parquet(parquet, index=False)
    ctx.tracker.log_artifact(parquet, "retrieval")
    embedder = make_embedder(ctx)  # nothing is loaded: only its tags are read
    captions = embedder.caption_encoder
    subtitle, warning = sheet_header(
        cfg.retrieve.caption_weight,
        embedder.tag,
        captions.tag if captions is not None else None,
        cfg.embedder.pretrained,
    )
    for value, group in table.groupby("value", sort=False):
        items: Sequence[ContactItem] = [
            ContactItem(
                image_path=ctx.workspace / Path(r.file_path),
                label=r.keyword,
                sublabel=f"#{r.rank}  {r.score:.3f}",
                row=r.keyword,
            )
            for r in group.itertuples()
        ]
        sheet = contact_sheet(
            items,
            out / f"contact-{value}.png",
            title=f"{LABELS.get(value, value)}: top {cfg.retrieve.k} per keyword (run {run_id})",
            columns=cfg.retrieve.k,
            subtitle=subtitle,
            warning=warning,
        )
        # The PDF beside it wraps the same pixels: kept on disk for papers, not logged twice.
        ctx.tracker.log_artifact(sheet, "retrieval/contact_sheets")
