"""Ingest a folder of screenshots, with optional sidecar metadata, into corpus items.

Which files count:

* files with an image extension (:data:`IMAGE_EXTENSIONS`, any case) are always reported, as an
  item or a :class:`Rejection` — a text file renamed ``.jpg`` is rejected ``not_an_image``;
* companion files with a text-like extension (:data:`SKIPPED_EXTENSIONS`: ``.txt``, ``.json``,
  ``.csv``, ``.md`` …) are skipped silently — that is where sidecars and notes live;
* any other file (no extension, ``.bin``, ``.dat`` …) is sniffed: ingested if Pillow recognises
  its header (downloads often lose their extension), otherwise skipped with a debug log;
* hidden files and folders (name starting with ``.``) are ignored.

Only regular files are read, each up to a size cap (``corpus.max_file_mb``); a FIFO or a device
with an image name is rejected ``not_a_regular_file``, a file over the cap ``too_large``, both
before any byte is read (:func:`valuespectrum.corpus.images.read_bytes`).

Symlinks follow ``follow_symlinks`` (``corpus.follow_symlinks``): ``inside`` (default) follows a
link only when its resolved target lies inside the folder, and rejects the others
``symlink_outside_folder``; ``all`` follows every link; ``none`` rejects every link
``symlink_not_followed``. A link that is not followed is reported if it names a directory or has
an image extension (others are skipped: sniffing would mean following them). Every
real directory is scanned once, so a link back to a parent (a loop) or a second link to the same
folder adds nothing; real paths are walked before links, so files are reported under their own
path where they have one.

Names that are not valid UTF-8 (``café.png`` saved by a Latin-1 system) are read like any other:
the image is ingested and its ``source_path`` is the escaped text form (``caf\\xe9.png``, see
:func:`valuespectrum.corpus.sidecars.escape_path`), so it can be stored and shown.

Duplicates (same original bytes): the file kept is the one whose path relative to the folder
comes first in byte order; every other copy is rejected ``duplicate: same content as <kept>``.
The copies' metadata is merged into the kept item field by field (the kept file's own values
win, empty fields are filled from the copies in path order, hashtags are unioned), so renaming
or copying a screenshot never loses its caption. Only files that share a size are hashed before
the main pass, so an ordinary folder is read once.

Metadata comes from sidecar files (``metadata.csv``/``metadata.json`` per folder, ``<image>.json``
per image); :mod:`valuespectrum.corpus.sidecars` describes where they are looked for and how bad
values are handled (dropped with a warning; the image is kept).
"""

from __future__ import annotations

import heapq
import logging
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from PIL import Image, UnidentifiedImageError

from valuespectrum.corpus.images import (
    DEFAULT_MAX_FILE_BYTES,
    NormalisedImage,
    RejectedImage,
    check_file,
    decode_image,
    file_sha256,
    hash_file,
    open_regular,
    read_bytes,
)
from valuespectrum.corpus.sidecars import MetadataIndex, escape_path, merge_fields, parse_fields

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
SYMLINK_POLICIES = ("inside", "all", "none")
_NO_CAP = 1 << 62  # sniffing reads a header only; the size cap is applied when the file is read


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
    max_bytes: int = DEFAULT_MAX_FILE_BYTES,
    follow_symlinks: str = "inside",
) -> Iterator[CorpusItem | Rejection]:
    """Yield an item or a rejection for every candidate file, in byte order of relative path.

    Paths in the results are absolute (and escaped to valid UTF-8). Of files with the same
    original bytes the first is kept, with its copies' metadata merged in, and the others are
    rejected ``duplicate: same content as <path>``.
    """
    if follow_symlinks not in SYMLINK_POLICIES:
        raise ValueError(
            f"follow_symlinks={follow_symlinks!r} is not allowed; "
            f"use one of {', '.join(SYMLINK_POLICIES)}"
        )
    root = _check_folder(Path(folder))
    found = _Walk(root, recursive, follow_symlinks).run()
    scan = _Scan(MetadataIndex(root), _copies(found, max_bytes), max_bytes, default_platform)
    accepted = rejected = 0
    for entry in found:
        if entry.rejection is not None:
            result: CorpusItem | Rejection = Rejection(escape_path(entry.path), entry.rejection)
        else:
            result = scan.ingest(entry.path, max_pixels=max_pixels, min_side=min_side)
        if isinstance(result, CorpusItem):
            accepted += 1
        else:
            rejected += 1
        yield result
    log.info("scanned %s: %d accepted, %d rejected", escape_path(root), accepted, rejected)


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


@dataclass(frozen=True)
class _Found:
    """A file to read, or a path the walk already rejected (a symlink it may not follow)."""

    path: Path
    key: bytes  # path relative to the root, as bytes: the order of results and duplicates
    rejection: str | None = None


class _Walk:
    """Every candidate under ``root`` in sorted order, each real directory visited once."""

    def __init__(self, root: Path, recursive: bool, policy: str) -> None:
        self.root, self.recursive, self.policy = root, recursive, policy
        self.real_root = Path(os.path.realpath(root))
        self.seen: set[tuple[int, int]] = set()
        self.found: list[_Found] = []
        self.links: list[tuple[bytes, Path]] = []  # directory links, walked after the real tree

    def run(self) -> list[_Found]:
        self._tree(self.root)
        while self.links:
            self._tree(heapq.heappop(self.links)[1])
        return sorted(self.found, key=lambda f: f.key)

    def _tree(self, top: Path) -> None:
        pending = [top]
        while pending:
            directory = pending.pop()
            try:
                info = os.stat(directory)
                if (info.st_dev, info.st_ino) in self.seen:
                    log.debug("%s: already scanned", escape_path(directory))
                    continue
                self.seen.add((info.st_dev, info.st_ino))
                with os.scandir(directory) as listing:
                    entries = sorted(listing, key=lambda e: e.name)
            except OSError as exc:
                log.warning("cannot list %s: %s", escape_path(directory), exc.strerror or exc)
                self._add(directory, f"unreadable: {exc.strerror or exc}")
                continue
            for entry in entries:
                path = Path(entry.path)
                if entry.name.startswith("."):
                    continue
                if entry.is_symlink():
                    self._link(path)
                elif entry.is_dir(follow_symlinks=False):
                    if self.recursive:
                        pending.append(path)
                elif _is_candidate(path):
                    self._add(path)

    def _link(self, path: Path) -> None:
        is_dir = path.is_dir()
        if is_dir and not self.recursive:
            return
        refusal = self._refusal(path)
        if refusal is not None:
            if is_dir or path.suffix.lower() in IMAGE_EXTENSIONS:
                self._add(path, refusal)
            else:
                log.debug("skipping %s: %s", escape_path(path), refusal)
        elif is_dir:
            heapq.heappush(self.links, (self._key(path), path))
        elif _is_candidate(path):
            self._add(path)

    def _refusal(self, link: Path) -> str | None:
        if self.policy == "none":
            return "symlink_not_followed"
        if self.policy == "inside" and not _inside(os.path.realpath(link), self.real_root):
            return "symlink_outside_folder"
        return None

    def _key(self, path: Path) -> bytes:
        return os.fsencode(path.relative_to(self.root).as_posix())

    def _add(self, path: Path, rejection: str | None = None) -> None:
        self.found.append(_Found(path, self._key(path), rejection))


def _inside(target: str, root: Path) -> bool:
    return Path(target).is_relative_to(root)


def _is_candidate(path: Path) -> bool:
    suffix = path.suffix.lower()
    if suffix in IMAGE_EXTENSIONS:
        return True
    if suffix in SKIPPED_EXTENSIONS:
        return False
    try:
        with open_regular(path, max_bytes=_NO_CAP) as handle, Image.open(handle):
            return True
    except (RejectedImage, UnidentifiedImageError, OSError, ValueError, SyntaxError):
        log.debug("skipping %s: not an image file and no image extension", escape_path(path))
        return False
    except Image.DecompressionBombError:
        return True  # an image all right; let the normal path reject it with a reason


def _copies(found: list[_Found], max_bytes: int) -> dict[str, list[Path]]:
    """Files by content hash, for the files that share their size with another (in found order).

    Only these can be duplicates; knowing them before the main pass lets the kept file absorb
    its copies' metadata. A file that fails here is left to the main pass to reject.
    """
    by_size: dict[int, list[Path]] = {}
    for entry in found:
        if entry.rejection is None:
            try:
                by_size.setdefault(check_file(entry.path, max_bytes=max_bytes), []).append(
                    entry.path
                )
            except RejectedImage:
                continue
    groups: dict[str, list[Path]] = {}
    for paths in by_size.values():
        for path in paths if len(paths) > 1 else ():
            try:
                groups.setdefault(hash_file(path, max_bytes=max_bytes), []).append(path)
            except RejectedImage:
                continue
    return groups


class _Scan:
    """The main pass: read, hash and decode each file once; dedupe before decoding."""

    def __init__(
        self,
        metadata: MetadataIndex,
        copies: dict[str, list[Path]],
        max_bytes: int,
        default_platform: str | None,
    ) -> None:
        self.metadata, self.copies = metadata, copies
        self.max_bytes, self.default_platform = max_bytes, default_platform
        self.kept: dict[str, str] = {}

    def ingest(self, path: Path, *, max_pixels: int, min_side: int) -> CorpusItem | Rejection:
        source = escape_path(path)
        try:
            data = read_bytes(path, max_bytes=self.max_bytes)
            sha = file_sha256(data)
            if sha in self.kept:
                return Rejection(source, f"duplicate: same content as {self.kept[sha]}")
            image = decode_image(data, max_pixels=max_pixels, min_side=min_side)
        except RejectedImage as exc:
            log.debug("rejected %s: %s", source, exc.reason)
            return Rejection(source, exc.reason)
        self.kept[sha] = source
        fields = self._fields(path)
        for copy in self.copies.get(sha, ()):
            if copy != path:
                fields = merge_fields(fields, self._fields(copy))
        return CorpusItem(
            sha256=sha,
            source_path=source,
            image=image,
            platform=fields.pop("platform", None) or self.default_platform,
            url=fields.pop("url", None),
            caption=fields.pop("caption", None),
            author=fields.pop("author", None),
            hashtags=fields.pop("hashtags", ()),
            collected_at=fields.pop("collected_at", None),
            extra=fields,
        )

    def _fields(self, path: Path) -> dict[str, Any]:
        return parse_fields(self.metadata.lookup(path), escape_path(path))
