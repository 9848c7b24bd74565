"""Figures of the role-play: curves along the session (adaptive vs control, with CI bands) and
the paper's I_avg bar chart per model x strategy x platform.

Inputs are the frames of ``valuespectrum.induce.metrics`` (``yes_rate_curve``,
``amplification_curve``, ``diversity_curve``) and a tidy frame of I_avg rows. Each function
writes its figure in the current figure formats (``report.plots.figure_formats``: PNG and SVG
unless ``plots.formats`` says otherwise) as the probe's figures are, and returns the PNG's path.
A simulated respondent's figure says so under its title, in red, with the probe's note.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from valuespectrum.report.plots import CI_LABEL, _pyplot, _save, _titles
from valuespectrum.report.profile import SIMULATED_NOTE

COLORS = {"adaptive": "#c0392b", "control": "#4c72b0"}
LABELS = {"adaptive": "adaptive feed", "control": "control (random feed)"}


def _note(simulated: bool) -> str | None:
    return SIMULATED_NOTE if simulated else None


def session_curve(
    curve: pd.DataFrame,
    path: str | Path,
    *,
    title: str,
    ylabel: str,
    value: str = "share",
    simulated: bool = False,
    window: int | None = None,
    marker: int | None = None,
    marker_label: str = "",
    ylim: tuple[float, float] | None = (0, 100),
) -> Path:
    """One line per condition along the session, its CI band shaded; ``window`` marks the end of
    the first and the start of the last window that I compares, ``marker`` draws a vertical
    line (e.g. personalisation)."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(8.0, 4.4))
    for condition, part in curve.groupby("condition", sort=True):
        part = part.sort_values("position")
        color = COLORS.get(str(condition), "#555555")
        x = part["position"].to_numpy(float)
        ax.plot(x, part[value].to_numpy(float), color=color, lw=2,
                label=LABELS.get(str(condition), str(condition)))  # fmt: skip
        band = part["ci_low"].to_numpy(float), part["ci_high"].to_numpy(float)
        ax.fill_between(x, *band, color=color, alpha=0.18, lw=0, label=f"{CI_LABEL} ({condition})")
    if window and len(curve):  # where the first window ends and the last begins
        first, last = curve["position"].min(), curve["position"].max()
        edges = sorted({first + window - 0.5, last - window + 0.5})
        label = f"first / last {window} (induction I)"
        for k, edge in enumerate(edges):
            ax.axvline(edge, color="#777777", lw=1, ls=":", label=None if k else label)
    if marker is not None:
        ax.axvline(marker, color="black", lw=1, ls="--", label=marker_label or f"position {marker}")
    ax.set_xlabel("position in the session (videos served)")
    ax.set_ylabel(ylabel)
    if ylim is not None:
        ax.set_ylim(*ylim)
    ax.grid(alpha=0.3)
    fig.subplots_adjust(top=0.78 if simulated else 0.84)
    ax.legend(fontsize=8, frameon=False, loc="lower center", bbox_to_anchor=(0.5, 1.0), ncol=3)
    _titles(fig, title, _note(simulated))
    return _save(fig, path)


def yes_rate_plot(curve: pd.DataFrame, path: str | Path, *, simulated: bool = False,
                  window: int | None = None,
                  title: str = "Yes-rate along the session") -> Path:  # fmt: skip
    """``metrics.yes_rate_curve``: % stays (smoothed) by position, adaptive vs control."""
    return session_curve(curve, path, title=title, ylabel="% stay (yes), smoothed",
                         simulated=simulated, window=window)  # fmt: skip


def amplification_plot(curve: pd.DataFrame, path: str | Path, *, simulated: bool = False,
                       personalised_at: int | None = None,
                       title: str = "Amplification of the persona's values") -> Path:  # fmt: skip
    """``metrics.amplification_curve``: % served items matching the persona's favoured values;
    ``personalised_at`` (``time_to_personalisation``) is drawn as a dashed line."""
    return session_curve(curve, path, title=title, simulated=simulated,
                         ylabel="% served items with a favoured value, smoothed",
                         marker=personalised_at,
                         marker_label="time to personalisation")  # fmt: skip


def diversity_plot(curve: pd.DataFrame, path: str | Path, *, simulated: bool = False,
                   title: str = "Diversity of served values") -> Path:  # fmt: skip
    """``metrics.diversity_curve``: entropy (bits) of the values served in a trailing window."""
    top = max(float(np.nanmax(curve["ci_high"])) if len(curve) else 1.0, np.log2(10)) * 1.05
    return session_curve(curve, path, title=title, value="entropy", simulated=simulated,
                         ylabel="entropy of served values (bits)", ylim=(0, top))  # fmt: skip


def induction_bars(
    table: pd.DataFrame,
    path: str | Path,
    *,
    simulated: bool = False,
    title: str = "Induction I_avg per model, strategy and platform",
) -> Path:
    """The paper's I_avg chart: one panel per strategy, models on x, one bar per platform, with
    CI whiskers. ``table``: columns ``model, strategy, platform, I_avg, ci_low, ci_high``, and
    optionally ``condition`` (control rows are drawn as hollow markers on their bar) and
    ``simulated`` (those models' names say SIMULATED)."""
    need = {"model", "strategy", "platform", "I_avg", "ci_low", "ci_high"}
    if not need <= set(table.columns):
        raise ValueError(f"induction_bars needs columns {sorted(need)}")
    plt = _pyplot()
    table = table.copy()
    if "condition" not in table.columns:
        table["condition"] = "adaptive"
    if "simulated" in table.columns:
        simulated = simulated or bool(table["simulated"].any())
        flags = zip(table["model"], table["simulated"], strict=True)
        table["model"] = [f"{m} (SIMULATED)" if s else str(m) for m, s in flags]
    strategies = list(pd.unique(table["strategy"]))
    models = list(pd.unique(table["model"]))
    size = (1.5 + 2.2 * len(models) * len(strategies), 4.6)
    fig, axes = plt.subplots(1, len(strategies), figsize=size, sharey=True, squeeze=False)
    for ax, strategy in zip(axes[0], strategies, strict=True):
        _bar_panel(ax, table[table["strategy"] == strategy], models,
                   list(pd.unique(table["platform"])))  # fmt: skip
        ax.set_title(f"strategy = {strategy}", fontsize=10)
    axes[0][0].set_ylabel("I_avg (points of % yes: last - first window)")
    entries: dict[str, Any] = {}
    for ax in axes[0]:
        for handle, label in zip(*ax.get_legend_handles_labels(), strict=True):
            entries.setdefault(label, handle)
    entries = {k: v for k, v in entries.items() if not k.startswith("control")} | {
        k: v for k, v in entries.items() if k.startswith("control")}  # control last
    entries[f"whiskers: {CI_LABEL}"] = ax.errorbar([], [], yerr=[], fmt="none", color="#333333",
                                                   capsize=2, lw=0.8)  # fmt: skip
    fig.subplots_adjust(top=0.74 if simulated else 0.8)
    fig.legend(list(entries.values()), list(entries), fontsize=8, frameon=False,
               loc="upper center", bbox_to_anchor=(0.5, 0.9 if simulated else 0.93),
               ncol=max(len(entries), 1))  # fmt: skip
    _titles(fig, title, _note(simulated))
    return _save(fig, path)


def _bar_panel(ax: Any, rows: pd.DataFrame, models: list[str], platforms: list[str]) -> None:
    colors = _pyplot().get_cmap("tab10")
    width = 0.8 / max(len(platforms), 1)
    control_labelled = False
    for j, platform in enumerate(platforms):
        x = np.arange(len(models)) + (j - (len(platforms) - 1) / 2) * width
        for condition in ("adaptive", "control"):
            part = rows[(rows["platform"] == platform) & (rows["condition"] == condition)]
            part = part.set_index("model").reindex(models)
            y = part["I_avg"].to_numpy(float)
            if np.isnan(y).all():
                continue
            err = np.vstack([y - part["ci_low"], part["ci_high"] - y]).clip(min=0)
            if condition == "adaptive":
                ax.bar(x, y, width, color=colors(j % 10), label=str(platform), yerr=err,
                       capsize=2, error_kw={"lw": 0.8, "ecolor": "#333333"})  # fmt: skip
            else:
                label = None if control_labelled else "control (random feed)"
                control_labelled = True
                ax.errorbar(x, y, yerr=err, fmt="o", mfc="white", color="black", ms=5,
                            capsize=2, lw=0.8, label=label)  # fmt: skip
    ax.axhline(0, color="black", lw=0.6)
    ax.set_xticks(np.arange(len(models)), models, rotation=20, ha="right")
    ax.grid(axis="y", alpha=0.3)
