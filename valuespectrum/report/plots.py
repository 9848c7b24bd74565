"""The paper's figures (radar, per-value means, per-model std) plus our CI bars, heatmaps and
contact sheets. Every function writes one PNG and returns its path.

matplotlib is imported inside functions with the Agg backend, so importing this module (or the
package) never needs a display and stays cheap. Contact sheets use PIL directly: a sheet of 50
thumbnails per value is drawn for every value of every run, and PIL does that in milliseconds.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from valuespectrum.values import LABELS, PAPER_AXIS_ORDER, VALUES

if TYPE_CHECKING:
    from PIL import ImageFont

_DPI = 120
_NOTE_COLOR = "#b03a2e"  # a "SIMULATED" note must not be missed
_WHISKER = {"lw": 0.8, "ecolor": "#333333"}


def _pyplot() -> Any:
    """pyplot on the Agg backend (no display needed; safe in tests and on servers)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _save(fig: Any, path: str | Path) -> Path:
    """Write ``fig`` as PNG (creating parent folders) and free it; pyplot keeps figures alive."""
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    try:
        fig.savefig(out, dpi=_DPI, bbox_inches="tight")
    finally:
        _pyplot().close(fig)
    return out


def _titles(fig: Any, title: str, note: str | None) -> None:
    """Title on top, and the note (e.g. "SIMULATED respondent") right under it, in red."""
    fig.suptitle(title, fontsize=13, fontweight="bold", y=0.995 if note else 0.98)
    if note:
        fig.text(0.5, 0.94, note, ha="center", va="top", fontsize=10, color=_NOTE_COLOR)


def radar_angles(axis_order: Sequence[str] = PAPER_AXIS_ORDER) -> dict[str, float]:
    """Angle of each axis in radians, measured clockwise from the top (0 = 12 o'clock).

    ``radar_chart`` sets the polar axes to start at north and run clockwise, so these angles are
    exactly where the axes appear, in ``axis_order``.
    """
    step = 2 * math.pi / len(axis_order)
    return {value: i * step for i, value in enumerate(axis_order)}


def radar_chart(
    profiles: Mapping[str, Mapping[str, float]],
    path: str | Path,
    *,
    title: str,
    axis_order: Sequence[str] = PAPER_AXIS_ORDER,
    ci: Mapping[str, Mapping[str, tuple[float, float]]] | None = None,
    rmax: float = 100,
    note: str | None = None,
) -> Path:
    """One polygon per model on axes laid out like the paper's figure; optional CI band.

    A value a model lacks is drawn as a gap, not as zero, so missing data cannot look like
    a strong dislike.
    """
    plt = _pyplot()
    angles = radar_angles(axis_order)
    theta = np.array([angles[v] for v in axis_order] + [0.0])
    theta[-1] = 2 * math.pi
    fig = plt.figure(figsize=(8.4, 7.0))
    ax = fig.add_axes((0.07, 0.05, 0.64, 0.76 if note else 0.8), projection="polar")
    ax.set_theta_zero_location("N")
    ax.set_theta_direction(-1)
    colors = plt.get_cmap("tab10")
    for i, (model, profile) in enumerate(profiles.items()):
        r = np.array([profile.get(v, np.nan) for v in axis_order], float)
        color = colors(i % 10)
        ax.plot(theta, np.append(r, r[0]), color=color, lw=2, label=model)
        if len(profiles) <= 3 and not np.isnan(r).any():  # fills of many models turn to mud
            ax.fill(theta[:-1], r, color=color, alpha=0.06)
        if ci and model in ci:
            band = np.array([ci[model].get(v, (np.nan, np.nan)) for v in axis_order], float)
            band = np.vstack([band, band[:1]])
            ax.fill_between(theta, band[:, 0], band[:, 1], color=color, alpha=0.2, lw=0)
    ax.set_xticks(theta[:-1], [LABELS.get(v, v) for v in axis_order], fontsize=10)
    ax.tick_params(axis="x", pad=10)
    ax.set_ylim(0, rmax)
    ax.set_yticks(np.linspace(0, rmax, 6)[1:-1])  # no label on the rim, where axis names sit
    ax.set_rlabel_position(180 / len(axis_order))
    ax.tick_params(axis="y", labelsize=8, colors="#555555")
    ax.legend(loc="upper left", bbox_to_anchor=(1.12, 1.02), fontsize=9, frameon=False)
    _titles(fig, title, note)
    return _save(fig, path)


def score_bars(
    scores: pd.DataFrame,
    path: str | Path,
    *,
    title: str,
    note: str | None = None,
    column: str = "score",
) -> Path:
    """Grouped bars per value (circumplex order), one bar per model, with bootstrap whiskers.

    Whiskers come from ``score_table``'s ``ci_low``/``ci_high`` for ``column="score"`` and
    from ``<column>_ci_low``/``<column>_ci_high`` otherwise (e.g. ``column="centred"``), so a
    whisker is only ever drawn for the statistic it belongs to.
    """
    plt = _pyplot()
    models = list(pd.unique(scores["model"]))
    values = [v for v in VALUES if v in set(scores["value"])]
    lo, hi = (
        ("ci_low", "ci_high") if column == "score" else (f"{column}_ci_low", f"{column}_ci_high")
    )
    width = 0.8 / max(len(models), 1)
    x = np.arange(len(values))
    fig, ax = plt.subplots(figsize=(min(16.0, 3 + len(values) * (0.5 + 0.15 * len(models))), 4.6))
    for i, model in enumerate(models):
        rows = scores[scores["model"] == model].set_index("value").reindex(values)
        y = rows[column].to_numpy(float)
        yerr = None
        if {lo, hi} <= set(rows.columns):
            yerr = np.vstack([y - rows[lo], rows[hi] - y]).clip(min=0)
        shift = (i - (len(models) - 1) / 2) * width
        ax.bar(x + shift, y, width, label=model, yerr=yerr, capsize=2, error_kw=_WHISKER)
    ax.set_xticks(x, [LABELS.get(v, v) for v in values], rotation=30, ha="right")
    ax.set_ylabel(column)
    if column == "score":
        ax.set_ylim(0, 105)  # room for a whisker that reaches 100
    ax.axhline(0, color="black", lw=0.6)
    ax.grid(axis="y", alpha=0.3)
    ax.legend(fontsize=9, frameon=False, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    _titles(fig, title, note)
    return _save(fig, path)


def _bar(heights: pd.Series, path: str | Path, *, title: str, ylabel: str, note: str | None,
         fmt: str) -> Path:  # fmt: skip
    """Annotated bar chart of ``heights`` sorted high to low, as the paper's summary figures."""
    plt = _pyplot()
    heights = heights.dropna().sort_values(ascending=False)
    fig, ax = plt.subplots(figsize=(max(6.0, 0.75 * len(heights) + 1.5), 4.4))
    bars = ax.bar(range(len(heights)), heights.to_numpy(float), color="#4c72b0")
    ax.bar_label(bars, labels=[fmt.format(h) for h in heights], fontsize=8, padding=2)
    ax.set_xticks(range(len(heights)), [str(k) for k in heights.index], rotation=30, ha="right")
    ax.set_ylabel(ylabel)
    ax.set_ylim(0, max([*heights, 1.0]) * 1.15)
    ax.grid(axis="y", alpha=0.3)
    _titles(fig, title, note)
    return _save(fig, path)


def value_means_bar(
    profiles: Mapping[str, Mapping[str, float]],
    path: str | Path,
    *,
    title: str = "Mean score per value across models",
    note: str | None = None,
) -> Path:
    """Per-value mean over models, sorted high to low (the paper's per-value bar chart)."""
    means = pd.DataFrame(profiles).mean(axis=1).rename(index=LABELS)
    return _bar(means, path, title=title, ylabel="mean % yes", note=note, fmt="{:.2f}")


def model_std_bar(
    profiles: Mapping[str, Mapping[str, float]],
    path: str | Path,
    *,
    title: str = "Std of scores across values per model",
    note: str | None = None,
) -> Path:
    """Per-model sample std (ddof=1) over its value scores, sorted high to low (paper's chart)."""
    stds = pd.DataFrame(profiles).std(axis=0, ddof=1)
    return _bar(stds, path, title=title, ylabel="std (points)", note=note, fmt="{:.2f}")


def heatmap(
    matrix: pd.DataFrame,
    path: str | Path,
    *,
    title: str,
    cmap: str = "viridis",
    center: float | None = None,
    fmt: str = "{:.0f}",
    note: str | None = None,
) -> Path:
    """Annotated heatmap (rows = models, columns = values); ``center`` makes it diverging.

    Use ``center=0`` with a diverging ``cmap`` (e.g. "RdBu_r") for centred scores, so above and
    below the model's own mean read as two colours of equal strength. Columns that are all value
    ids are put in circumplex order, whatever order (a pivot's alphabetical one) they came in.
    """
    plt = _pyplot()
    from matplotlib.colors import TwoSlopeNorm

    if set(matrix.columns) <= set(VALUES):  # e.g. a pivot, which sorts columns alphabetically
        matrix = matrix[[v for v in VALUES if v in set(matrix.columns)]]
    data = matrix.to_numpy(float)
    fig, ax = plt.subplots(figsize=(1.0 + 0.8 * data.shape[1], 1.6 + 0.45 * data.shape[0]))
    norm = None
    if center is not None:
        span = np.nanmax(np.abs(data - center)) if np.isfinite(data).any() else 1.0
        span = span or 1.0
        norm = TwoSlopeNorm(vcenter=center, vmin=center - span, vmax=center + span)
    im = ax.imshow(data, cmap=cmap, norm=norm, aspect="auto")
    for (i, j), v in np.ndenumerate(data):
        if np.isfinite(v):
            r, g, b, _ = im.cmap(im.norm(v))
            ink = "black" if 0.299 * r + 0.587 * g + 0.114 * b > 0.55 else "white"
            text = fmt.format(v)
            text = text[1:] if text.startswith("-") and not text.strip("-0.") else text  # "-0"
            ax.text(j, i, text, ha="center", va="center", fontsize=8, color=ink)
    names = [LABELS.get(str(c), str(c)) for c in matrix.columns]
    ax.set_xticks(range(data.shape[1]), names, rotation=35, ha="right")
    ax.set_yticks(range(data.shape[0]), [str(i) for i in matrix.index])
    fig.colorbar(im, ax=ax, fraction=0.03, pad=0.02)
    _titles(fig, title, note)
    return _save(fig, path)


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


# Contact-sheet geometry, in pixels.
_PAD, _TITLE_H, _TEXT_H, _ROW_LABEL_W = 8, 36, 30, 150


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


def _font(size: int) -> ImageFont.ImageFont | ImageFont.FreeTypeFont:
    """DejaVu Sans from matplotlib's own data (wide glyph coverage: dashes, accents, ellipsis),
    else PIL's default font; keyword lists may well contain non-ASCII words."""
    import matplotlib
    from PIL import ImageFont

    dejavu = Path(matplotlib.get_data_path(), "fonts/ttf/DejaVuSans.ttf")
    try:
        return ImageFont.truetype(dejavu, size)
    except OSError:
        return ImageFont.load_default(size=size)


def _fit(draw: Any, text: str, font: Any, width: int) -> str:
    """``text`` cut (with an ellipsis) to ``width`` pixels, so labels never overlap neighbours."""
    if draw.textlength(text, font=font) <= width:
        return text
    while text and draw.textlength(text + "…", font=font) > width:
        text = text[:-1]
    return text + "…"


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
) -> Path:
    """Grid of thumbnails (``thumb`` = width, height) with labels; a missing or unreadable
    image becomes a grey "missing" tile, because one lost file must not lose the whole sheet."""
    from PIL import Image, ImageDraw

    cells = sheet_grid(items, columns)
    by_row = any(it.row is not None for it in items)
    n_rows = max((r for r, _ in cells), default=-1) + 1
    n_cols = max((c for _, c in cells), default=-1) + 1
    tw, th = thumb
    left = _PAD + (_ROW_LABEL_W if by_row else 0)
    width = left + max(n_cols, 1) * (tw + _PAD)
    height = _TITLE_H + n_rows * (th + _TEXT_H + _PAD) + _PAD
    sheet = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(sheet)
    big, small = _font(18), _font(12)
    draw.text((_PAD, _PAD), _fit(draw, title, big, width - 2 * _PAD), fill="black", font=big)
    labelled_rows: set[int] = set()
    for it, (r, c) in zip(items, cells, strict=True):
        x, y = left + c * (tw + _PAD), _TITLE_H + r * (th + _TEXT_H + _PAD)
        sheet.paste(_tile(it.image_path, thumb, small), (x, y))
        lines = [it.sublabel] if by_row and it.label == it.row else [it.label, it.sublabel]
        for k, line in enumerate(ln for ln in lines if ln):
            text = _fit(draw, line, small, tw)
            draw.text((x, y + th + 2 + 14 * k), text, fill="black", font=small)
        if by_row and r not in labelled_rows and c == 0:
            labelled_rows.add(r)
            name = _fit(draw, str(it.row), big, _ROW_LABEL_W - _PAD)
            draw.text((_PAD, y + th // 2), name, fill="black", font=big, anchor="lm")
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    sheet.save(path, format="PNG")
    return Path(path)
