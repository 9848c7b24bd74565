"""The images sent to models: each retrieved screenshot encoded once, kept in the workspace."""

from __future__ import annotations

import os
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor

from valuespectrum.models.base import ImagePart
from valuespectrum.probe.prompts import encode_image
from valuespectrum.store import content_id


class EncodedImages:
    """Screenshot id -> encoded image, in table order, as the encoder threads finish them.

    Iterating yields each image as soon as it is ready, so the first calls can go out while
    later images are still being encoded; ``all()`` waits for every one (a simulated respondent
    perceives the whole corpus before its first answer). Later iterations replay the finished
    images.
    """

    def __init__(self, futures: list[Future[tuple[int, ImagePart]]]) -> None:
        self._pending = iter(futures)
        self.done: dict[int, ImagePart] = {}

    def __iter__(self) -> Iterator[tuple[int, ImagePart]]:
        yield from list(self.done.items())
        for future in self._pending:
            sid, image = future.result()
            self.done[sid] = image
            yield sid, image

    def all(self) -> dict[int, ImagePart]:
        for _ in self:
            pass
        return self.done


def encoded_folder(workspace, max_side: int | None, size: tuple[int, int] | None = None):
    """Where the JPEGs encoded with these settings are kept (shared by probe and induce)."""
    settings = content_id({"max_side": max_side, "size": size, "codec": "jpeg-q90-v1"})
    folder = workspace / "encoded" / settings
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def encode_images(ctx, table) -> EncodedImages:
    """Each retrieved screenshot encoded once (JPEG, size from config), by screenshot id.

    Encoded bytes are kept under ``<workspace>/encoded/<settings>/`` so a re-run reads them back
    instead of decoding and re-encoding every screenshot (the largest cost of a cached re-run).
    Encoding starts at once in a thread pool (PIL releases the GIL).
    """
    p = ctx.cfg.probe
    size = tuple(p.image_size) if p.image_size else None
    folder = encoded_folder(ctx.workspace, p.image_max_side, size)
    rows = table[["screenshot_id", "file_path", "sha256"]].drop_duplicates("screenshot_id")

    def one(sid, path, sha) -> tuple[int, ImagePart]:
        cached = folder / f"{sha}.jpg"
        if cached.exists():
            return int(sid), ImagePart(cached.read_bytes())
        part = encode_image(ctx.workspace / path, max_side=p.image_max_side, size=size)
        tmp = cached.with_suffix(f".tmp{os.getpid()}.{sid}")
        tmp.write_bytes(part.data)
        os.replace(tmp, cached)
        return int(sid), part

    pool = ThreadPoolExecutor(max_workers=min(8, os.cpu_count() or 2), thread_name_prefix="encode")
    futures = [pool.submit(one, *row) for row in rows.itertuples(index=False)]
    pool.shutdown(wait=False)  # the workers finish the queue, then exit
    return EncodedImages(futures)
