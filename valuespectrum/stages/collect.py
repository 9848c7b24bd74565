"""Collect: fill the workspace corpus from the configured offline source.

Accepted images are stored once, as normalised RGB PNGs under ``<workspace>/images/`` named by
the sha256 of the original bytes, so re-running a collection (or two sweep jobs running it at the
same time) adds nothing twice. Rejected files are recorded with their reason and the run carries
on: one bad file must not cost a corpus. Images are written before their rows; if storing a chunk
fails, the images it wrote are removed again, so no image is left without a row. An image lost
from the workspace later is written again from its source: demo rows are redrawn from their url
and size, and a folder file whose content still has the recorded sha256 is read again.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Iterable, Iterator
from pathlib import Path

from valuespectrum.corpus.folder import CorpusItem, Rejection
from valuespectrum.corpus.images import encode_png
from valuespectrum.store import ScreenshotRow, screenshot_key
from valuespectrum.store.integrity import missing_images

log = logging.getLogger(__name__)

CHUNK = 64


def run(ctx) -> dict[str, float]:
    """Ingest the corpus named by ``corpus=`` and report accepted/rejected/present counts."""
    cfg = ctx.cfg.corpus
    source = cfg.source
    lost = _lost_images(ctx)
    restored = _restore_demo(ctx.workspace, lost)
    if source == "demo" and _demo_complete(ctx):
        log.info("demo corpus (n=%d, seed=%d) already in the workspace", cfg.n, cfg.seed)
        return _counts(ctx, added=0, present=cfg.n, rejected=0, rejected_new=0,
                       restored=restored, unrestorable=_unrestorable(lost))
    stream = _items(ctx)
    added = present = rejected = rejected_new = 0
    for chunk in _chunks(_progress(stream, ctx, cfg.n if source == "demo" else None), CHUNK):
        items = [x for x in chunk if isinstance(x, CorpusItem)]
        rejections = [(x.source_path, x.reason) for x in chunk if isinstance(x, Rejection)]
        for it in items:  # same content as a row whose image is gone: write it again
            if it.sha256 in lost:
                _write_png(ctx.workspace / lost.pop(it.sha256).file_path, it)
                restored += 1
        with ctx.store.connect() as con:
            known = ctx.store.known_shas(con)
            new = [it for it in items if it.sha256 not in known]
            written: list[Path] = []
            try:
                rows = [_store_image(ctx.workspace, it, source, written) for it in new]
                added += ctx.store.insert_screenshots(con, rows)
            except BaseException:
                for path in written:
                    path.unlink(missing_ok=True)
                raise
            present += len(items) - len(new)
            rejected += len(rejections)
            rejected_new += ctx.store.insert_rejections(con, rejections, source)
    for path, reason in _last_rejections(ctx, rejected):
        log.warning("rejected %s: %s", path, reason)
    return _counts(ctx, added=added, present=present, rejected=rejected, rejected_new=rejected_new,
                   restored=restored, unrestorable=_unrestorable(lost))


def _lost_images(ctx) -> dict[str, ScreenshotRow]:
    """sha256 -> row, for the stored rows whose image file is missing or empty."""
    with ctx.store.connect() as con:
        rows = ctx.store.screenshots(con)
    gone = set(missing_images(ctx.workspace, [r.file_path for r in rows]))
    return {r.sha256: r for r in rows if r.file_path in gone}


def _restore_demo(workspace: Path, lost: dict[str, ScreenshotRow]) -> int:
    """Draw lost demo images again from their rows (url and size); a match of sha256 proves
    the image is the one recorded (another Pillow/FreeType build may draw it differently)."""
    from valuespectrum.corpus.demo import demo_item, demo_position

    restored = 0
    for sha, row in list(lost.items()):
        position = demo_position(row.url) if row.source == "demo" else None
        if position is None:
            continue
        item = demo_item(position[1], seed=position[0], size=(row.width, row.height))
        if item.sha256 == sha:
            _write_png(workspace / lost.pop(sha).file_path, item)
            restored += 1
    return restored


def _unrestorable(lost: dict[str, ScreenshotRow]) -> int:
    if lost:
        row = next(iter(lost.values()))
        log.warning(
            "collect: %d corpus image(s) missing and not restorable from this corpus, e.g. %s "
            "(source %s); put the unchanged source back (or set corpus= to the one that held "
            "it) and re-run collect; python -m valuespectrum.verify checks the whole workspace",
            len(lost), row.file_path, row.source_path,
        )
    return len(lost)


def _items(ctx) -> Iterator[CorpusItem | Rejection]:
    cfg = ctx.cfg.corpus
    if cfg.source == "demo":
        from valuespectrum.corpus.demo import generate_demo

        return iter(generate_demo(cfg.n, seed=cfg.seed, size=(cfg.width, cfg.height)))
    from valuespectrum.corpus.folder import scan_folder

    return scan_folder(
        Path(cfg.path).expanduser(),
        max_pixels=cfg.max_pixels,
        recursive=cfg.recursive,
        default_platform=cfg.platform,
        max_bytes=cfg.max_file_mb * 1_000_000,
        follow_symlinks=cfg.follow_symlinks,
    )


def _demo_complete(ctx) -> bool:
    """True when every demo screenshot of this seed and size is already stored."""
    cfg = ctx.cfg.corpus
    with ctx.store.connect() as con:
        return ctx.store.demo_count(con, cfg.seed, cfg.width, cfg.height) >= cfg.n


def _store_image(
    workspace: Path, item: CorpusItem, source: str, written: list[Path]
) -> ScreenshotRow:
    """Write the image (once per content) and return its row; ``written`` collects new files."""
    rel = Path("images") / item.sha256[:2] / f"{item.sha256}.png"
    dest = workspace / rel
    if not dest.exists():
        _write_png(dest, item)
        written.append(dest)
    notes = {"normalised": list(item.image.notes)} if item.image.notes else {}
    if item.extra:
        notes["extra"] = item.extra
    return ScreenshotRow(
        id=screenshot_key(item.sha256),
        sha256=item.sha256,
        file_path=str(rel),
        source_path=item.source_path,
        width=item.image.width,
        height=item.image.height,
        platform=item.platform,
        url=item.url,
        caption=item.caption,
        author=item.author,
        hashtags=list(item.hashtags),
        collected_at=item.collected_at,
        source=source,
        theme=item.theme,
        notes=json.dumps(notes, default=str) if notes else None,
    )


def _write_png(dest: Path, item: CorpusItem) -> None:
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_suffix(f".tmp{os.getpid()}")
    try:
        tmp.write_bytes(encode_png(item.image.image))
        os.replace(tmp, dest)  # readers never see half a file
    finally:
        tmp.unlink(missing_ok=True)


def _counts(ctx, **counts: int) -> dict[str, float]:
    with ctx.store.connect() as con:
        total = ctx.store.count(con, "screenshots")
    log.info(
        "collect: %d added, %d already present, %d rejected (%d newly recorded), %d lost images"
        " restored; corpus %d", counts["added"], counts["present"], counts["rejected"],
        counts["rejected_new"], counts["restored"], total,
    )
    return {
        **{f"usage/{k}": float(v) for k, v in counts.items()},
        "usage/corpus_size": float(total),
    }


def _last_rejections(ctx, n: int) -> list[tuple[str, str]]:
    if not n:
        return []
    with ctx.store.connect() as con:
        return ctx.store.latest_rejections(con, min(n, 20))


def _chunks(items: Iterable, size: int) -> Iterator[list]:
    chunk: list = []
    for item in items:
        chunk.append(item)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _progress(items: Iterable, ctx, total: int | None) -> Iterable:
    from tqdm import tqdm

    return tqdm(items, total=total, desc="collect", unit="img", disable=not ctx.cfg.progress)
