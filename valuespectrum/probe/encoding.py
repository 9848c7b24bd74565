"""The images sent to models: each retrieved screenshot encoded once, kept in the workspace."""

from __future__ import annotations

import os

from valuespectrum.models.base import ImagePart
from valuespectrum.probe.prompts import encode_image
from valuespectrum.store import content_id


def encode_images(ctx, table) -> dict[int, ImagePart]:
    """Each retrieved screenshot encoded once (JPEG, size from config), by screenshot id.

    Encoded bytes are kept under ``<workspace>/encoded/<settings>/`` so a re-run reads them back
    instead of decoding and re-encoding every screenshot (the largest cost of a cached re-run).
    """
    p = ctx.cfg.probe
    size = tuple(p.image_size) if p.image_size else None
    settings = content_id({"max_side": p.image_max_side, "size": size, "codec": "jpeg-q90-v1"})
    folder = ctx.workspace / "encoded" / settings
    folder.mkdir(parents=True, exist_ok=True)
    out: dict[int, ImagePart] = {}
    rows = table[["screenshot_id", "file_path", "sha256"]].drop_duplicates("screenshot_id")
    for sid, path, sha in rows.itertuples(index=False):
        cached = folder / f"{sha}.jpg"
        if cached.exists():
            out[int(sid)] = ImagePart(cached.read_bytes())
            continue
        part = encode_image(ctx.workspace / path, max_side=p.image_max_side, size=size)
        tmp = cached.with_suffix(f".tmp{os.getpid()}")
        tmp.write_bytes(part.data)
        os.replace(tmp, cached)
        out[int(sid)] = part
    return out
