"""Validate one image file and normalise it to 8-bit RGB.

Screenshots arrive from phones, browser agents and hand-made folders, so anything can turn up:
empty files, half-downloaded JPEGs, CMYK exports, 16-bit PNGs, palettes with transparency,
rotated camera photos, and the occasional decompression bomb. Models only ever see RGB, so every
accepted file is converted here once, with a note of what was done; everything else raises
:class:`RejectedImage` with a short, stable reason code that is safe to store and group by.

Reason codes (the part before ``": "`` is stable, the detail after it is for people):
``unreadable: <os error>``, ``not_a_regular_file: <kind>``, ``too_large: <n> bytes > <cap> bytes``,
``empty_file``, ``not_an_image``, ``corrupt: <decoder message>``, ``truncated``,
``decompression_bomb: <pixels> px > <limit>``, ``too_small: <w>x<h>``, ``unsupported_mode: <mode>``.

Only regular files are read: a FIFO would block forever and a device such as ``/dev/zero`` never
ends, so the kind is checked with ``stat`` before opening and again on the opened descriptor
(opened non-blocking, so even a FIFO swapped in between cannot hang), and the size cap is checked
before reading; no more than cap + 1 bytes are ever read, for files whose size lies (``/proc``).

Pillow's global switches are left alone: ``ImageFile.LOAD_TRUNCATED_IMAGES`` must stay off (or
truncated files would be padded with grey and accepted) and ``Image.MAX_IMAGE_PIXELS`` is not
changed. Pillow itself still refuses, at open, images above twice its own limit (about 179 Mpx),
so ``max_pixels`` above that has no further effect.
"""

from __future__ import annotations

import hashlib
import io
import logging
import os
import re
import stat
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import TypeVar

import numpy as np
from PIL import Image, ImageFile, ImageOps, UnidentifiedImageError

log = logging.getLogger(__name__)

WHITE = (255, 255, 255)
_ALPHA_MODES = frozenset({"RGBA", "RGBa", "LA", "La", "PA"})
_SIXTEEN_BIT_MODES = frozenset({"I;16", "I;16L", "I;16B", "I;16N"})
DEFAULT_MAX_FILE_BYTES = 200_000_000  # = the corpus.max_file_mb default (200 MB)
_OPEN_FLAGS = (
    os.O_RDONLY
    | getattr(os, "O_NONBLOCK", 0)
    | getattr(os, "O_NOCTTY", 0)
    | getattr(os, "O_CLOEXEC", 0)
    | getattr(os, "O_BINARY", 0)
)
_CHUNK = 1 << 20
_T = TypeVar("_T")


class RejectedImage(Exception):
    """An input file that cannot become a screenshot; ``reason`` says why in a stable form."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class NormalisedImage:
    """An accepted image as the models will see it, plus what was changed to get there.

    ``width``/``height`` are those of ``image`` (after EXIF rotation); ``original_mode`` and
    ``original_format`` describe the file as it was, so odd sources can be found again later.
    """

    image: Image.Image
    width: int
    height: int
    original_mode: str
    original_format: str | None
    notes: tuple[str, ...] = ()


def file_sha256(data: bytes) -> str:
    """Hex SHA-256 of raw bytes: the content id that makes re-ingestion idempotent."""
    return hashlib.sha256(data).hexdigest()


def encode_png(img: Image.Image) -> bytes:
    """Encode as PNG with nothing but pixels, so equal images give equal bytes (and hashes).

    Metadata carried over from the source (ICC profile, text chunks, transparency) is dropped;
    Pillow writes no timestamp chunk, so the output depends only on the pixels. zlib level 1:
    about twice as fast as the default 6 for ~10% more bytes, and collect writes every image.
    """
    clean = img.convert("RGB") if img.mode != "RGB" else img.copy()
    clean.info = {}
    buf = io.BytesIO()
    clean.save(buf, format="PNG", compress_level=1)
    return buf.getvalue()


def load_image(
    path: Path,
    *,
    max_pixels: int = 50_000_000,
    min_side: int = 16,
    max_bytes: int = DEFAULT_MAX_FILE_BYTES,
) -> NormalisedImage:
    """Read ``path`` and return it as normalised RGB, or raise :class:`RejectedImage`."""
    data = read_bytes(path, max_bytes=max_bytes)
    return decode_image(data, max_pixels=max_pixels, min_side=min_side)


def read_bytes(path: Path, *, max_bytes: int = DEFAULT_MAX_FILE_BYTES) -> bytes:
    """Read a whole regular file of at most ``max_bytes``, or raise :class:`RejectedImage`."""
    chunks: list[bytes] = []
    left = max_bytes + 1  # one byte past the cap tells a file that grew (or lied) from one at it
    with open_regular(path, max_bytes=max_bytes) as handle:
        # Sized by fstat, so one read does it; a buffer of the whole cap would cost 200 MB a file.
        want = os.fstat(handle.fileno()).st_size + 1
        while left and (chunk := _guard(partial(handle.read, min(want, left)))):
            chunks.append(chunk)
            left -= len(chunk)
            want = _CHUNK
    if not left:
        raise RejectedImage(f"too_large: > {max_bytes} bytes")
    return b"".join(chunks) if len(chunks) != 1 else chunks[0]


def hash_file(path: Path, *, max_bytes: int = DEFAULT_MAX_FILE_BYTES) -> str:
    """:func:`file_sha256` of a file's bytes, read in chunks under the same rules as read_bytes."""
    digest = hashlib.sha256()
    left = max_bytes + 1
    with open_regular(path, max_bytes=max_bytes) as handle:
        while left and (chunk := _guard(partial(handle.read, min(_CHUNK, left)))):
            left -= len(chunk)
            digest.update(chunk)
    if not left:
        raise RejectedImage(f"too_large: > {max_bytes} bytes")
    return digest.hexdigest()


def check_file(path: Path, *, max_bytes: int = DEFAULT_MAX_FILE_BYTES) -> int:
    """Size of ``path`` (symlinks followed) if it may be read; else raise :class:`RejectedImage`."""
    info = _guard(lambda: os.stat(path))
    _check_stat(info, max_bytes)
    return info.st_size


@contextmanager
def open_regular(path: Path, *, max_bytes: int) -> Iterator[io.FileIO]:
    """Open ``path`` for reading only if it is a regular file within the size cap.

    Checked by ``stat`` before opening (so a device is never opened) and by ``fstat`` on the
    descriptor (so a file swapped in between is caught); non-blocking, so a FIFO cannot hang.
    """
    check_file(path, max_bytes=max_bytes)
    fd = _guard(lambda: os.open(path, _OPEN_FLAGS))
    with os.fdopen(fd, "rb", buffering=0) as handle:
        _check_stat(_guard(lambda: os.fstat(fd)), max_bytes)
        yield handle


def _check_stat(info: os.stat_result, max_bytes: int) -> None:
    if not stat.S_ISREG(info.st_mode):
        raise RejectedImage(f"not_a_regular_file: {_file_kind(info.st_mode)}")
    if info.st_size > max_bytes:
        raise RejectedImage(f"too_large: {info.st_size} bytes > {max_bytes} bytes")


def _file_kind(mode: int) -> str:
    for test, kind in (
        (stat.S_ISDIR, "directory"),
        (stat.S_ISFIFO, "fifo"),
        (stat.S_ISCHR, "character device"),
        (stat.S_ISBLK, "block device"),
        (stat.S_ISSOCK, "socket"),
    ):
        if test(mode):
            return kind
    return f"mode {stat.S_IFMT(mode):o}"


def _guard(call: Callable[[], _T]) -> _T:
    """Run one file-system call, turning permission and I/O failures into a rejection."""
    try:
        return call()
    except PermissionError as exc:
        raise RejectedImage(f"unreadable: {exc.strerror or 'Permission denied'}") from exc
    except OSError as exc:
        raise RejectedImage(f"unreadable: {exc.strerror or exc}") from exc


def decode_image(
    data: bytes, *, max_pixels: int = 50_000_000, min_side: int = 16
) -> NormalisedImage:
    """Validate and normalise image bytes already in memory.

    Split from :func:`load_image` so a caller that hashes the original bytes (to dedupe before
    paying for a decode) reads each file only once.
    """
    if not data:
        raise RejectedImage("empty_file")
    if ImageFile.LOAD_TRUNCATED_IMAGES:
        log.warning("PIL ImageFile.LOAD_TRUNCATED_IMAGES is on; truncated files may pass")
    im = _open(data)
    width, height = im.size
    if width * height > max_pixels:
        raise RejectedImage(f"decompression_bomb: {width * height} px > {max_pixels}")
    if min(width, height) < min_side:
        raise RejectedImage(f"too_small: {width}x{height}")
    original_mode, original_format = im.mode, im.format
    notes: list[str] = []
    _decode_pixels(im)
    frames = _frame_count(im)
    if frames > 1:
        notes.append(f"first of {frames} frames")
    oriented = ImageOps.exif_transpose(im)
    if _orientation(im) not in (None, 1):
        notes.append("EXIF orientation applied")
    rgb = _to_rgb(oriented, notes)
    rgb.info = {}
    return NormalisedImage(
        image=rgb,
        width=rgb.width,
        height=rgb.height,
        original_mode=original_mode,
        original_format=original_format,
        notes=tuple(notes),
    )


def _open(data: bytes) -> Image.Image:
    """Parse the header only (no pixel decode), mapping Pillow's errors to reason codes."""
    try:
        with warnings.catch_warnings():
            # Our own max_pixels check follows; Pillow's softer warning would only be noise.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            return Image.open(io.BytesIO(data))
    except Image.DecompressionBombError as exc:
        raise RejectedImage(_bomb_reason(exc)) from exc
    except UnidentifiedImageError as exc:
        raise RejectedImage("not_an_image") from exc
    except (OSError, SyntaxError, ValueError, EOFError) as exc:
        raise RejectedImage(_damage_reason(exc)) from exc


def _bomb_reason(exc: Exception) -> str:
    """Rephrase Pillow's bomb message in our ``<pixels> px > <limit>`` form when possible."""
    numbers = re.findall(r"\d+", str(exc))
    if len(numbers) >= 2:
        return f"decompression_bomb: {numbers[0]} px > {numbers[1]}"
    return f"decompression_bomb: {exc}"


def _decode_pixels(im: Image.Image) -> None:
    """Force a full decode now, so damage shows up here and not in a later stage."""
    try:
        im.load()
    except Image.DecompressionBombError as exc:
        raise RejectedImage(_bomb_reason(exc)) from exc
    except (OSError, SyntaxError, ValueError, EOFError, IndexError) as exc:
        raise RejectedImage(_damage_reason(exc)) from exc


def _damage_reason(exc: Exception) -> str:
    """``truncated`` when the data simply stops (the common case: an interrupted download)."""
    if isinstance(exc, EOFError) or "truncat" in str(exc).lower():
        return "truncated"
    return f"corrupt: {exc}"


def _frame_count(im: Image.Image) -> int:
    """Frames in an animation (we keep the first); damage after frame one is not our problem."""
    try:
        return int(getattr(im, "n_frames", 1))
    except (OSError, EOFError, ValueError, SyntaxError):
        return 1


def _orientation(im: Image.Image) -> int | None:
    try:
        return im.getexif().get(0x0112)
    except Exception:  # a broken EXIF block must not reject an otherwise good image
        return None


def _to_rgb(im: Image.Image, notes: list[str]) -> Image.Image:
    """Convert any Pillow mode to 8-bit RGB the way a viewer would display it."""
    mode = im.mode
    if mode == "RGB":
        return _apply_icc(im, notes)
    if mode == "CMYK":
        converted = _apply_icc(im, notes)
        if converted.mode != "RGB":
            converted = im.convert("RGB")
            notes.append("converted CMYK->RGB")
        return converted
    if mode in ("P", "PA"):
        notes.append("palette expanded")
        has_alpha = mode == "PA" or "transparency" in im.info
        return _flatten(im.convert("RGBA"), notes) if has_alpha else im.convert("RGB")
    if mode in _ALPHA_MODES:
        return _flatten(im.convert("RGBA"), notes)
    if mode in _SIXTEEN_BIT_MODES or mode in ("I", "F"):
        return _scale_to_8bit(im, notes)
    if mode in ("1", "L"):
        return im.convert("RGB")
    try:
        rgb = im.convert("RGB")
    except (ValueError, OSError) as exc:
        raise RejectedImage(f"unsupported_mode: {mode}") from exc
    notes.append(f"converted {mode}->RGB")
    return rgb


def _apply_icc(im: Image.Image, notes: list[str]) -> Image.Image:
    """Map an embedded colour profile to sRGB when LittleCMS is available; else leave as is."""
    icc = im.info.get("icc_profile")
    if not icc:
        return im
    try:
        from PIL import ImageCms

        source = ImageCms.ImageCmsProfile(io.BytesIO(icc))
        srgb = ImageCms.createProfile("sRGB")
        converted = ImageCms.profileToProfile(im, source, srgb, outputMode="RGB")
    except Exception as exc:  # a bad profile is common and harmless: fall back to raw values
        log.debug("ignoring unusable ICC profile: %s", exc)
        return im
    if converted is None:
        return im
    notes.append(f"ICC profile converted {im.mode}->sRGB")
    return converted


def _flatten(rgba: Image.Image, notes: list[str]) -> Image.Image:
    """Composite on white, as platforms show transparent PNGs on a light page."""
    alpha = rgba.getchannel("A")
    if alpha.getextrema()[0] == 255:
        notes.append("dropped opaque alpha")
        return rgba.convert("RGB")
    notes.append("flattened alpha on white")
    base = Image.new("RGB", rgba.size, WHITE)
    base.paste(rgba.convert("RGB"), mask=alpha)
    return base


def _scale_to_8bit(im: Image.Image, notes: list[str]) -> Image.Image:
    """Rescale high-bit-depth greys; Pillow's own convert would clip them to white."""
    values = np.asarray(im).astype(np.float64)
    if im.mode in _SIXTEEN_BIT_MODES or (
        im.mode == "I" and values.size and values.min() >= 0 and values.max() <= 65535
    ):
        scaled = values / 257.0
        notes.append("16-bit scaled to 8-bit")
    elif im.mode == "F" and values.size and values.min() >= 0.0 and values.max() <= 1.0:
        scaled = values * 255.0
        notes.append("float scaled to 8-bit")
    else:
        finite = values[np.isfinite(values)]
        low, high = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0)
        span = high - low or 1.0
        scaled = (np.nan_to_num(values, nan=low) - low) / span * 255.0
        notes.append(f"{im.mode} stretched to 8-bit")
    grey = np.clip(np.rint(scaled), 0, 255).astype(np.uint8)
    return Image.fromarray(grey).convert("RGB")
