"""The paper's figures (radar, per-value means, per-model std) plus our CI bars and heatmaps
(contact sheets: ``contact_sheets``). Every function writes a PNG (screens, MLflow) and, of
the same stem, an SVG (default) and/or a PDF (``figure_formats``, ``plots.formats``), and returns
the PNG's path.

matplotlib is imported inside functions with the Agg backend, so importing this module (or the
package) never needs a display and stays cheap. The ``*_figure`` functions build a figure
without saving it, for callers who compose or inspect their own.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from valuespectrum.values import AXIS_ORDERS, LABELS, PAPER_AXIS_ORDER, VALUES

_DPI = 120
_PAD_INCHES = 0.1  # matplotlib's savefig.pad_inches, around the tight box
# Every figure, same stem; the first is the returned path. SVG keeps text as text (searchable,
# editable) and writes in a fifth of the time a TrueType-embedding PDF takes; PDF is an option
# (plots.formats=[png,pdf]) for LaTeX workflows. ``figure_formats`` sets them for a block.
FORMATS = ("png", "svg")
ALLOWED_FORMATS = ("png", "svg", "pdf")
_formats: ContextVar[tuple[str, ...]] = ContextVar("figure_formats", default=FORMATS)
CI_LABEL = "95% bootstrap CI"
AXIS_ORDER_CAPTIONS = {
    "paper": "axis order: paper (as in Value-Spectrum's radar charts), clockwise from the top",
    "circumplex": "axis order: circumplex (Schwartz 1992), clockwise from the top;"
    " neighbours are compatible values",
}
_NOTE_COLOR = "#b03a2e"  # a "SIMULATED" note must not be missed
_CAPTION_COLOR = "#555555"
_WHISKER = {"lw": 0.8, "ecolor": "#333333"}


def _pyplot() -> Any:
    """pyplot on the Agg backend (no display needed; safe in tests and on servers)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


@contextmanager
def figure_formats(formats: Sequence[str]) -> Iterator[None]:
    """Write the figures drawn inside the block in ``formats`` (PNG first; see ``FORMATS``)."""
    formats = tuple(formats)
    if not formats or formats[0] != "png" or not set(formats) <= set(ALLOWED_FORMATS):
        raise ValueError(f"figure formats must start with png and be among {ALLOWED_FORMATS}")
    token = _formats.set(formats)
    try:
        yield
    finally:
        _formats.reset(token)


def figure_paths(path: str | Path) -> list[Path]:
    """Where a figure for ``path`` lands: one file per current format, same stem."""
    out = Path(path)
    return [out.with_suffix(f".{fmt}") for fmt in _formats.get()]


def _save(fig: Any, path: str | Path) -> Path:
    """Write ``fig`` in every current format (creating parent folders), free it, and return
    the PNG's path. SVGs keep their text as text; PDFs embed TrueType fonts (Type 3 fonts
    upset paper submission checks). Neither carries a date and SVG ids are salted by a
    constant, so an unchanged figure is byte-identical."""
    import matplotlib

    paths = figure_paths(path)
    paths[0].parent.mkdir(parents=True, exist_ok=True)
    try:
        rc = {"pdf.fonttype": 42, "svg.fonttype": "none", "svg.hashsalt": "valuespectrum"}
        with matplotlib.rc_context(rc):
            fig.set_dpi(_DPI)
            # The tight box is measured once and reused by every format: "tight" in savefig
            # would draw the whole figure an extra time per file just to measure it.
            box = fig.get_tightbbox(fig.canvas.get_renderer()).padded(_PAD_INCHES)
            for out in paths:
                meta = _NO_DATE.get(out.suffix)
                fig.savefig(out, dpi=_DPI, bbox_inches=box, metadata=meta)
    finally:
        _pyplot().close(fig)
    return paths[0]


_NO_DATE = {".pdf": {"CreationDate": None}, ".svg": {"Date": None}}


def _titles(fig: Any, title: str, note: str | None) -> None:
    """Title on top, and the note (e.g. "SIMULATED respondent") right under it, in red."""
    fig.suptitle(title, fontsize=13, fontweight="bold", y=0.995 if note else 0.98)
    if note:
        fig.text(0.5, 0.94, note, ha="center", va="top", fontsize=10, color=_NOTE_COLOR)


def resolve_axis_order(axis_order: str | Sequence[str]) -> tuple[tuple[str, ...], str]:
    """(axes, caption) for an order name of ``AXIS_ORDERS`` or an explicit sequence of values.

    The caption names the order in the figure, so a reader comparing two radar charts can tell
    a change of layout from a change of profile.
    """
    if isinstance(axis_order, str):
        if axis_order not in AXIS_ORDERS:
            raise ValueError(
                f"axis_order={axis_order!r} is not known; use one of {', '.join(AXIS_ORDERS)}"
            )
        return AXIS_ORDERS[axis_order], AXIS_ORDER_CAPTIONS[axis_order]
    order = tuple(axis_order)
    for name, known in AXIS_ORDERS.items():
        if order == known:
            return order, AXIS_ORDER_CAPTIONS[name]
    names = ", ".join(LABELS.get(v, v) for v in order)
    return order, f"axis order: custom, clockwise from the top: {names}"


def radar_angles(axis_order: str | Sequence[str] = PAPER_AXIS_ORDER) -> dict[str, float]:
    """Angle of each axis in radians, measured clockwise from the top (0 = 12 o'clock).

    ``radar_chart`` sets the polar axes to start at north and run clockwise, so these angles are
    exactly where the axes appear, in ``axis_order`` (a name of ``AXIS_ORDERS`` or the values).
    """
    order, _ = resolve_axis_order(axis_order)
    step = 2 * math.pi / len(order)
    return {value: i * step for i, value in enumerate(order)}


def radar_figure(
    profiles: Mapping[str, Mapping[str, float]],
    *,
    title: str,
    axis_order: str | Sequence[str] = "paper",
    ci: Mapping[str, Mapping[str, tuple[float, float]]] | None = None,
    rmax: float = 100,
    note: str | None = None,
    ci_label: str = CI_LABEL,
) -> Any:
    """The radar chart as a matplotlib figure (see ``radar_chart``)."""
    from matplotlib.patches import Patch

    plt = _pyplot()
    order, caption = resolve_axis_order(axis_order)
    angles = radar_angles(order)
    theta = np.array([angles[v] for v in order] + [2 * math.pi])
    banded = [m for m in profiles if ci and m in ci]
    fig = plt.figure(figsize=(7.2, 8.0))
    side = 0.76 * 7.2 / 8.0  # a square polar plot, as tall as it is wide
    top = 0.86 if note else 0.9
    ax = fig.add_axes((0.12, top - side, 0.76, side), projection="polar")
    ax.set_theta_zero_location("N")
    ax.set_theta_direction(-1)
    colors = plt.get_cmap("tab10")
    handles: list[Any] = []
    for i, (model, profile) in enumerate(profiles.items()):
        r = np.array([profile.get(v, np.nan) for v in order], float)
        color = colors(i % 10)
        (line,) = ax.plot(theta, np.append(r, r[0]), color=color, lw=2, label=model)
        handles.append(line)
        if model in banded:
            assert ci is not None
            band = np.array([ci[model].get(v, (np.nan, np.nan)) for v in order], float)
            band = np.vstack([band, band[:1]])
            ax.fill_between(theta, band[:, 0], band[:, 1], color=color, alpha=0.2, lw=0)
            if len(banded) == 1:  # its entry right under the line it belongs to
                handles.append(Patch(facecolor=color, alpha=0.2, lw=0, label=ci_label))
        elif not banded and len(profiles) <= 3 and not np.isnan(r).any():
            ax.fill(theta[:-1], r, color=color, alpha=0.06)  # more fills, or bands, are mud
    if len(banded) > 1:
        handles.append(Patch(facecolor="#888888", alpha=0.2, lw=0, label=f"shaded: {ci_label}"))
    ax.set_xticks(theta[:-1], [LABELS.get(v, v) for v in order], fontsize=10)
    ax.tick_params(axis="x", pad=8)
    ax.set_ylim(0, rmax)
    ax.set_yticks(np.linspace(0, rmax, 6)[1:-1])  # no label on the rim, where axis names sit
    ax.set_rlabel_position(180 / len(order))
    ax.tick_params(axis="y", labelsize=8, colors=_CAPTION_COLOR)
    _titles(fig, title, note)
    # Legend and caption go under the axis names, wherever those end (measured, not guessed).
    to_fig = fig.transFigure.inverted()
    renderer = fig.canvas.get_renderer()
    below = ax.get_tightbbox(renderer).transformed(to_fig).y0 - 0.015
    legend = fig.legend(handles=handles, loc="upper center", bbox_to_anchor=(0.5, below),
                        ncol=1 if len(handles) <= 4 else 2, fontsize=9, frameon=False)  # fmt: skip
    below = legend.get_window_extent(renderer).transformed(to_fig).y0 - 0.01
    fig.text(0.5, below, caption, ha="center", va="top", fontsize=8, color=_CAPTION_COLOR,
             style="italic")  # fmt: skip
    return fig


def radar_chart(
    profiles: Mapping[str, Mapping[str, float]],
    path: str | Path,
    *,
    title: str,
    axis_order: str | Sequence[str] = "paper",
    ci: Mapping[str, Mapping[str, tuple[float, float]]] | None = None,
    rmax: float = 100,
    note: str | None = None,
    ci_label: str = CI_LABEL,
) -> Path:
    """One polygon per model on axes in ``axis_order`` ("paper", "circumplex" or the values,
    named in a caption), with optional CI bands that get a legend entry of their own.

    A value a model lacks is drawn as a gap, not as zero, so missing data cannot look like
    a strong dislike.
    """
    fig = radar_figure(profiles, title=title, axis_order=axis_order, ci=ci, rmax=rmax,
                       note=note, ci_label=ci_label)  # fmt: skip
    return _save(fig, path)


def score_bars_figure(
    scores: pd.DataFrame,
    *,
    title: str,
    note: str | None = None,
    column: str = "score",
    truth: Mapping[str, Mapping[str, float]] | None = None,
    truth_label: str = "true profile",
    ci_label: str = CI_LABEL,
    ylabel: str | None = None,
) -> Any:
    """The grouped bar chart as a matplotlib figure (see ``score_bars``)."""
    plt = _pyplot()
    models = list(pd.unique(scores["model"]))
    values = [v for v in VALUES if v in set(scores["value"])]
    lo, hi = (
        ("ci_low", "ci_high") if column == "score" else (f"{column}_ci_low", f"{column}_ci_high")
    )
    width = 0.8 / max(len(models), 1)
    x = np.arange(len(values))
    fig, ax = plt.subplots(figsize=(min(16.0, 3 + len(values) * (0.5 + 0.15 * len(models))), 4.6))
    handles: list[Any] = []
    marks: list[Any] = []
    whiskers = False
    for i, model in enumerate(models):
        rows = scores[scores["model"] == model].set_index("value").reindex(values)
        y = rows[column].to_numpy(float)
        yerr = None
        if {lo, hi} <= set(rows.columns):
            yerr = np.vstack([y - rows[lo], rows[hi] - y]).clip(min=0)
            whiskers = True
        shift = (i - (len(models) - 1) / 2) * width
        handles.append(
            ax.bar(x + shift, y, width, label=model, yerr=yerr, capsize=2, error_kw=_WHISKER)
        )
        if truth and model in truth:
            target = [truth[model].get(v, np.nan) for v in values]
            marks = [ax.scatter(x + shift, target, marker="D", s=26, color="black", zorder=3,
                                label=truth_label)]  # fmt: skip
    if whiskers:  # a legend entry of its own: readers must not guess what the whiskers are
        handles.append(
            ax.errorbar([], [], yerr=[], fmt="none", capsize=2, label=ci_label, **_WHISKER)
        )
    handles += marks
    ax.set_xticks(x, [LABELS.get(v, v) for v in values], rotation=30, ha="right")
    default = {"score": "% yes", "centred": "centred score (points from the model's mean)"}
    ax.set_ylabel(ylabel or default.get(column, column))
    if column == "score":
        ax.set_ylim(0, 105)  # room for a whisker that reaches 100
    ax.axhline(0, color="black", lw=0.6)
    ax.grid(axis="y", alpha=0.3)
    if len(handles) <= 4:  # one row between the titles and the bars
        fig.subplots_adjust(top=0.78 if note else 0.83)
        ax.legend(handles=handles, fontsize=9, frameon=False, loc="lower center",
                  bbox_to_anchor=(0.5, 1.0), ncol=len(handles))  # fmt: skip
    else:
        ax.legend(handles=handles, fontsize=9, frameon=False, loc="upper left",
                  bbox_to_anchor=(1.01, 1.0))  # fmt: skip
    _titles(fig, title, note)
    return fig


def score_bars(
    scores: pd.DataFrame,
    path: str | Path,
    *,
    title: str,
    note: str | None = None,
    column: str = "score",
    truth: Mapping[str, Mapping[str, float]] | None = None,
    truth_label: str = "true profile",
    ci_label: str = CI_LABEL,
    ylabel: str | None = None,
) -> Path:
    """Grouped bars per value (circumplex order), one bar per model, with bootstrap whiskers.

    Whiskers come from ``score_table``'s ``ci_low``/``ci_high`` for ``column="score"`` and
    from ``<column>_ci_low``/``<column>_ci_high`` otherwise (e.g. ``column="centred"``), so a
    whisker is only ever drawn for the statistic it belongs to; the legend names them
    (``ci_label``). ``truth`` (model -> value -> score), e.g. a simulated respondent's given
    profile, is drawn as black diamonds on that model's bars.
    """
    fig = score_bars_figure(scores, title=title, note=note, column=column, truth=truth,
                            truth_label=truth_label, ci_label=ci_label, ylabel=ylabel)  # fmt: skip
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
