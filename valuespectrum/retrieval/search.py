"""Keyword search over the vector indexes: top-k per keyword, fused image/caption similarity.

A keyword's CLIP text embedding is compared with every screenshot's image embedding; with
``retrieve.caption_weight`` w > 0 the caption similarity (MiniLM) is fused in:
``score = (1 - w) * image_similarity + w * caption_similarity``. Keywords of a value are served in
config order and a screenshot already taken by an earlier keyword of the same value is skipped,
so every value gets k distinct images per keyword.
"""

from __future__ import annotations

import logging

import numpy as np

log = logging.getLogger(__name__)


def search_keywords(cfg, embedder, images, captions, plan, run_id: str) -> list[dict]:
    """Rows of ``retrievals`` for every (value, keyword) of ``plan``: top-k, no reuse per value."""
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
        img_sim = similarity(images, keys, image_q[i])
        cap_sim = similarity(captions, keys, caption_q[i]) if captions is not None else None
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


def similarity(index, keys: np.ndarray, query: np.ndarray) -> np.ndarray:
    """Exact cosine similarity of ``query`` with the stored vectors of ``keys`` (0 if absent)."""
    present = np.array([int(k) in index for k in keys], dtype=bool)
    sims = np.zeros(len(keys), dtype=np.float64)
    if present.any():
        vectors = np.asarray(index.get(keys[present]), dtype=np.float64)
        sims[present] = vectors @ np.asarray(query, dtype=np.float64)
    return sims
