"""Ingest a folder of screenshots, with optional sidecar metadata, into corpus items.

Which files count:

* files with an image extension (:data:`IMAGE_EXTENSIONS`, any case) are always reported, as an
  item or a :class:`Rejection` — a text file renamed ``.jpg`` is rejected ``not_an_image``;
* companion files with a text-like extension (:data:`SKIPPED_EXTENSIONS`: ``.txt``, ``.json``,
  ``.csv``, ``.md`` …) are skipped silently — that is where sidecars and notes live;
* any other file (no extension, ``.bin``, ``.dat`` …) is sniffed: ingested if Pillow recognises
  its header (downloads often lose their extension), otherwise skipped with a debug log;
* hidden files and folders (name starting with ``.``) are ignored.

Metadata comes from sidecar files (``metadata.csv``/``metadata.json`` per folder, ``<image>.json``
per image); :mod:`valuespectrum.corpus.sidecars` describes where they are looked for and how bad
values are handled (dropped with a warning; the image is kept).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from PIL import Image, UnidentifiedImageError

from valuespectrum.corpus.images import (
    NormalisedImage,
    RejectedImage,
    decode_image,
    file_sha256,
    read_bytes,
)
from valuespectrum.corpus.sidecars import MetadataIndex, parse_fields

log = logging.getLogger(__name__)

# fmt: off
IMAGE_EXTENSIONS = frozenset((
    ".jpg", ".jpeg", ".jpe", ".jfif", ".png", ".gif", ".webp", ".bmp", ".dib", ".tif", ".tiff",
    ".avif", ".heic", ".heif", ".ico", ".ppm", ".pgm", ".pbm", ".pnm", ".tga", ".jp2", ".j2k",
    ".jpx",
))
SKIPPED_EXTENSIONS = frozenset((
    ".txt", ".md", ".rst", ".json", ".jsonl", ".csv", ".tsv", ".yaml", ".yml", ".toml", ".xml",
    ".html", ".htm", ".log", ".pdf",
))
# fmt: on


@dataclass(frozen=True)
class CorpusItem:
    """One accepted screenshot and what is known about it.

    ``sha256`` hashes the original file bytes (for demo items: the PNG bytes) and is the content
    id everything downstream keys on. ``theme`` is ground truth only for synthetic demo images.
    """

    sha256: str
    source_path: str
    image: NormalisedImage
    platform: str | None = None
    url: str | None = None
    caption: str | None = None
    author: str | None = None
    hashtags: tuple[str, ...] = ()
    collected_at: datetime | None = None
    theme: str | None = None
    extra: dict[str, Any] = field(default_factory=dict, compare=False)


@dataclass(frozen=True)
class Rejection:
    """A file that was considered but not accepted; ``reason`` uses the codes in images.py."""

    source_path: str
    reason: str


def scan_folder(
    folder: Path,
    *,
    max_pixels: int,
    recursive: bool = True,
    default_platform: str | None = None,
    min_side: int = 16,
) -> Iterator[CorpusItem | Rejection]:
    """Yield an item or a rejection for every candidate file, in sorted relative-path order.

    Paths in the results are absolute. Duplicates (same original bytes as an item accepted
    earlier in this scan) are rejected ``duplicate: same content as <path>``.
    """
    root = _check_folder(Path(folder))
    metadata = MetadataIndex(root)
    first_seen: dict[str, str] = {}
    accepted = rejected = 0
    for path in _candidates(root, recursive):
        result = _ingest(path, metadata, first_seen, max_pixels, min_side, default_platform)
        if isinstance(result, CorpusItem):
            accepted += 1
        else:
            rejected += 1
        yield result
    log.info("scanned %s: %d accepted, %d rejected", root, accepted, rejected)


def _check_folder(folder: Path) -> Path:
    if not folder.exists():
        raise FileNotFoundError(
            f"corpus.path={folder} does not exist; point corpus.path at a folder of images"
        )
    if not folder.is_dir():
        raise FileNotFoundError(
            f"corpus.path={folder} is not a directory; point corpus.path at a folder of images"
        )
    return folder.absolute()  # not resolve(): keep the caller's spelling in source_path


def _candidates(root: Path, recursive: bool) -> list[Path]:
    """Every file that should be reported, sorted so results are the same on every run."""
    found: list[Path] = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = [d for d in dirnames if not d.startswith(".")] if recursive else []
        for name in filenames:
            path = Path(dirpath) / name
            if not name.startswith(".") and _is_candidate(path):
                found.append(path)
    return sorted(found, key=lambda p: p.relative_to(root).as_posix())


def _is_candidate(path: Path) -> bool:
    suffix = path.suffix.lower()
    if suffix in IMAGE_EXTENSIONS:
        return True
    if suffix in SKIPPED_EXTENSIONS or not path.is_file():
        return False
    try:
        with Image.open(path):
            return True
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError):
        log.debug("skipping %s: not an image file and no image extension", path)
        return False
    except Image.DecompressionBombError:
        return True  # an image all right; let the normal path reject it with a reason


def _ingest(
    path: Path,
    metadata: MetadataIndex,
    first_seen: dict[str, str],
    max_pixels: int,
    min_side: int,
    default_platform: str | None,
) -> CorpusItem | Rejection:
    """Hash first and dedupe before decoding: a re-scanned folder is mostly duplicates."""
    source = str(path)
    try:
        data = read_bytes(path)
        sha = file_sha256(data)
        if sha in first_seen:
            return Rejection(source, f"duplicate: same content as {first_seen[sha]}")
        image = decode_image(data, max_pixels=max_pixels, min_side=min_side)
    except RejectedImage as exc:
        log.debug("rejected %s: %s", path, exc.reason)
        return Rejection(source, exc.reason)
    first_seen[sha] = source
    fields = parse_fields(metadata.lookup(path), path)
    return CorpusItem(
        sha256=sha,
        source_path=source,
        image=image,
        platform=fields.pop("platform", None) or default_platform,
        url=fields.pop("url", None),
        caption=fields.pop("caption", None),
        author=fields.pop("author", None),
        hashtags=fields.pop("hashtags", ()),
        collected_at=fields.pop("collected_at", None),
        extra=fields,
    )
