"""Contact sheets: the screenshots a retrieval returned, one row per keyword, so a reader sees
at a glance whether a keyword retrieved what it was meant to.

Drawn with PIL directly: a sheet of 50 thumbnails per value is drawn for every value of every
run, and PIL does that in milliseconds. Every sheet is written as PNG and as PDF (same stem),
like the figures of ``plots``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from PIL import ImageFont

_DPI = 120  # the PDF's page size: pixels / _DPI inches, as the figures of ``plots``


@dataclass(frozen=True)
class ContactItem:
    """One thumbnail on a contact sheet.

    ``label`` is the keyword that retrieved the image, ``sublabel`` its rank and similarity
    (e.g. "#1  0.312"); ``row`` groups items into one sheet row (normally the keyword), so a
    reader sees at a glance whether a keyword retrieved what it was meant to.
    """

    image_path: Path
    label: str
    sublabel: str = ""
    row: str | None = None


# Contact-sheet geometry, in pixels. A title-only header is _TITLE_H high and a cell's text
# area _TEXT_H (two label lines); both grow when a text needs more lines, never cutting it.
_PAD, _TITLE_H, _TEXT_H, _ROW_LABEL_W = 8, 36, 30, 150
_LINE = {18: 22, 13: 17, 12: 14}  # font size -> line height
_WARN_FILL, _WARN_INK = (253, 226, 222), (150, 30, 20)


def sheet_grid(items: Sequence[ContactItem], columns: int = 5) -> list[tuple[int, int]]:
    """(row, column) cell of each item. Items with a ``row`` key get one sheet row per key (in
    first-seen order, wrapping after ``columns``); otherwise items fill ``columns``-wide rows."""
    if columns < 1:
        raise ValueError(f"columns={columns} must be at least 1, e.g. 5")
    if not any(it.row is not None for it in items):
        return [divmod(i, columns) for i in range(len(items))]
    cells: list[tuple[int, int]] = []
    seen: dict[str, list[int]] = {}  # row key -> [first sheet row, items so far]
    next_row = 0
    for it in items:
        key = it.row or ""
        if key not in seen:
            seen[key] = [next_row, 0]
        r0, k = seen[key]
        row, col = r0 + k // columns, k % columns
        if row >= next_row:
            next_row = row + 1
        seen[key][1] += 1
        cells.append((row, col))
    return cells


@lru_cache(maxsize=16)
def _font(size: int, bold: bool = False) -> ImageFont.ImageFont | ImageFont.FreeTypeFont:
    """DejaVu Sans from matplotlib's own data (wide glyph coverage: dashes, accents, ellipsis),
    else PIL's default font; keyword lists may well contain non-ASCII words."""
    import matplotlib
    from PIL import ImageFont

    name = "DejaVuSans-Bold.ttf" if bold else "DejaVuSans.ttf"
    dejavu = Path(matplotlib.get_data_path(), "fonts/ttf", name)
    try:
        return ImageFont.truetype(dejavu, size)
    except OSError:
        return ImageFont.load_default(size=size)


def _wrap(draw: Any, text: str, font: Any, width: int) -> list[str]:
    """``text`` in lines of at most ``width`` pixels: greedy over words, a word too long for a
    line broken between characters. Nothing is dropped, so no label is ever cut."""
    if draw.textlength(text, font=font) <= width:
        return [text]  # as given, spacing included
    lines: list[str] = []
    for word in text.split():
        joined = f"{lines[-1]} {word}" if lines else word
        if lines and draw.textlength(joined, font=font) <= width:
            lines[-1] = joined
            continue
        while len(word) > 1 and draw.textlength(word, font=font) > width:
            fits = (
                i
                for i in range(len(word) - 1, 0, -1)
                if draw.textlength(word[:i], font=font) <= width
            )
            cut = next(fits, 1)
            lines.append(word[:cut])
            word = word[cut:]
        lines.append(word)
    return lines or [""]


def _fit_block(draw: Any, text: str, width: int, height: int) -> tuple[Any, list[str], int]:
    """(font, lines, line height) of the largest size at which ``text`` wraps between words
    into ``width`` x ``height``; the smallest size (words broken if need be) otherwise."""
    for size in (18, 16, 14, 12, 11):
        font = _font(size)
        lines = _wrap(draw, text, font, width)
        whole = all(draw.textlength(w, font=font) <= width for w in text.split())
        if whole and len(lines) * (size + 4) <= height:
            break
    return font, lines, size + 4


def _header(draw: Any, title: str, subtitle: Sequence[str], warning: str | None,
            width: int) -> list[tuple[str, int, Any]]:  # fmt: skip
    """(line, font size, ink) of the header, wrapped to ``width``; warning lines last."""
    lines = [(ln, 18, "black") for ln in _wrap(draw, title, _font(18), width)]
    for text in subtitle:
        lines += [(ln, 13, "black") for ln in _wrap(draw, text, _font(13), width)]
    if warning:
        lines += [(ln, 13, _WARN_INK) for ln in _wrap(draw, warning, _font(13, True), width - 8)]
    return lines


def _cell_lines(draw: Any, item: ContactItem, by_row: bool, width: int) -> list[str]:
    """The text under a thumbnail, wrapped; the keyword is left out where the row names it."""
    texts = [item.sublabel] if by_row and item.label == item.row else [item.label, item.sublabel]
    return [ln for text in texts if text for ln in _wrap(draw, text, _font(12), width)]


def _tile(path: Path, size: tuple[int, int], font: Any) -> Any:
    """The image letterboxed to ``size``, or a grey "missing" tile if it cannot be read."""
    from PIL import Image, ImageDraw, ImageOps

    try:
        with Image.open(path) as im:
            return ImageOps.pad(im.convert("RGB"), size, color=(235, 235, 235))
    except (OSError, ValueError, Image.DecompressionBombError):
        tile = Image.new("RGB", size, (160, 160, 160))
        ImageDraw.Draw(tile).text((size[0] // 2, size[1] // 2), "missing", font=font, anchor="mm")
        return tile


def contact_sheet(
    items: Sequence[ContactItem],
    path: str | Path,
    *,
    title: str,
    columns: int = 5,
    thumb: tuple[int, int] = (144, 256),
    subtitle: Sequence[str] = (),
    warning: str | None = None,
) -> Path:
    """Grid of thumbnails (``thumb`` = width, height) with labels, under a header: ``title``,
    ``subtitle`` lines (e.g. the score type and the embedder) and a ``warning`` on a red band
    (e.g. a random-init embedder). Labels wrap (row labels also shrink) rather than being cut.
    A missing or unreadable image becomes a grey "missing" tile: one lost file must not lose
    the whole sheet. Written as PNG and PDF (same stem); returns the PNG's path."""
    from PIL import Image, ImageDraw

    cells = sheet_grid(items, columns)
    by_row = any(it.row is not None for it in items)
    n_rows = max((r for r, _ in cells), default=-1) + 1
    n_cols = max((c for _, c in cells), default=-1) + 1
    tw, th = thumb
    left = _PAD + (_ROW_LABEL_W if by_row else 0)
    width = left + max(n_cols, 1) * (tw + _PAD)
    draw = ImageDraw.Draw(Image.new("RGB", (1, 1)))  # measures text before the sheet exists
    header = _header(draw, title, subtitle, warning, width - 2 * _PAD)
    n_warn = sum(ink == _WARN_INK for _, _, ink in header)
    head_h = _PAD + sum(_LINE[size] for _, size, _ in header) + 6 + (6 if n_warn else 0)
    labels = [_cell_lines(draw, it, by_row, tw) for it in items]
    cell_h = th + max([_TEXT_H, *(2 + _LINE[12] * len(lines) for lines in labels)]) + _PAD
    sheet = Image.new("RGB", (width, head_h + n_rows * cell_h + _PAD), "white")
    draw = ImageDraw.Draw(sheet)
    y = _PAD
    for i, (line, size, ink) in enumerate(header):
        if i == len(header) - n_warn:  # the warning sits on a band across the whole sheet
            band = (_PAD // 2, y, width - _PAD // 2, y + n_warn * _LINE[13] + 6)
            draw.rectangle(band, fill=_WARN_FILL)
            y += 3
        warn = ink == _WARN_INK
        draw.text((_PAD + 4 * warn, y), line, fill=ink, font=_font(size, warn))
        y += _LINE[size]
    small = _font(12)
    labelled_rows: set[int] = set()
    for it, lines, (r, c) in zip(items, labels, cells, strict=True):
        x, y = left + c * (tw + _PAD), head_h + r * cell_h
        sheet.paste(_tile(it.image_path, thumb, small), (x, y))
        for k, line in enumerate(lines):
            draw.text((x, y + th + 2 + _LINE[12] * k), line, fill="black", font=small)
        if by_row and r not in labelled_rows and c == 0:
            labelled_rows.add(r)
            font, names, lh = _fit_block(draw, str(it.row), _ROW_LABEL_W - _PAD, th)
            top = y + th // 2 - lh * len(names) // 2
            for k, name in enumerate(names):
                draw.text((_PAD, top + lh * k), name, fill="black", font=font)
    png, pdf = Path(path).with_suffix(".png"), Path(path).with_suffix(".pdf")
    png.parent.mkdir(parents=True, exist_ok=True)
    sheet.save(png, format="PNG")
    sheet.save(pdf, format="PDF", resolution=_DPI)
    return png
