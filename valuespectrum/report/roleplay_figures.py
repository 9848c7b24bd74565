"""The role-play section's figures (report/roleplay_section.py): the paper's I_avg bars with
the paper's own changes beside ours, the ISQ threshold curves, and the amplification curves
against the control, one small panel per job. Drawn only when the report writes them."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd

from valuespectrum.report import induce_plots, plots
from valuespectrum.report.paper import INDUCTION_READ_ERROR
from valuespectrum.report.profile import SIMULATED_NOTE
from valuespectrum.report.sections import Figure

MAX_PANELS = 12  # amplification panels in one figure; more jobs: the first twelve


def bars_table(cells: pd.DataFrame, induction: pd.DataFrame) -> pd.DataFrame:
    """``induction_bars`` rows: ours (adaptive and control) and, where the paper has the same
    model, strategy and platform, the paper's change as a bar of its own ("paper: <row>",
    whiskers = its reading error)."""
    ours = induction[["model", "strategy", "platform", "condition", "I_avg", "ci_low",
                      "ci_high"]]  # fmt: skip
    paper = induction[induction["paper_I_avg"].notna()]
    paper = paper.drop_duplicates(["paper_row", "strategy", "platform"])
    theirs = pd.DataFrame({
        "model": "paper: " + paper["paper_row"].astype(str), "strategy": paper["strategy"],
        "platform": paper["platform"], "condition": "adaptive", "I_avg": paper["paper_I_avg"],
        "ci_low": paper["paper_I_avg"] - INDUCTION_READ_ERROR,
        "ci_high": paper["paper_I_avg"] + INDUCTION_READ_ERROR,
    })  # fmt: skip
    return pd.concat([ours, theirs], ignore_index=True)


def threshold_curves(rows: pd.DataFrame, path: Path, *, note: str | None = None) -> Path:
    """I_avg against the ISQ stay threshold, one line per model and platform (adaptive: solid
    with CI whiskers; control: dashed, hollow markers)."""
    plt = plots._pyplot()
    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    colors = plt.get_cmap("tab10")
    for i, (line, part) in enumerate(rows.groupby("line", sort=False)):
        for condition, style in (("adaptive", "-"), ("control", "--")):
            p = part[part["condition"] == condition].sort_values("threshold")
            if p.empty:
                continue
            y = p["I_avg"].to_numpy(float)
            err = np.vstack([y - p["ci_low"], p["ci_high"] - y]).clip(min=0)
            ax.errorbar(p["threshold"], y, yerr=err, fmt="o" + style, color=colors(i % 10),
                        mfc="white" if condition == "control" else colors(i % 10), capsize=2,
                        lw=1.4, ms=4, label=f"{line}" + (" (control)" if condition == "control"
                                                        else ""))  # fmt: skip
    ax.axhline(0, color="black", lw=0.6)
    ax.set_xlabel("ISQ stay threshold (stay when S% > threshold)")
    ax.set_ylabel("I_avg (points)")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, frameon=False, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    plots._titles(fig, "Induction against the ISQ threshold (whiskers: 95% CI)", note)
    return plots._save(fig, path)


def amplification_panels(curves: dict[str, pd.DataFrame], titles: dict[str, str], path: Path,
                         *, note: str | None = None) -> Path:  # fmt: skip
    """One small panel per job: % served items with a favoured value along the session,
    adaptive vs control, CI bands shaded."""
    plt = plots._pyplot()
    jobs = list(curves)[:MAX_PANELS]
    cols = min(3, len(jobs))
    rows = math.ceil(len(jobs) / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(3.2 * cols + 0.6, 2.6 * rows + 1.4),
                             sharey=True, squeeze=False)  # fmt: skip
    for ax, job in zip(axes.flat, jobs, strict=False):
        for condition, part in curves[job].groupby("condition", sort=True):
            part = part.sort_values("position")
            color = induce_plots.COLORS.get(str(condition), "#555555")
            x = part["position"].to_numpy(float)
            ax.plot(x, part["share"], color=color, lw=1.6,
                    label=induce_plots.LABELS.get(str(condition), str(condition)))  # fmt: skip
            ax.fill_between(x, part["ci_low"], part["ci_high"], color=color, alpha=0.18, lw=0)
        ax.set_title(titles[job], fontsize=9)
        ax.set_ylim(0, 100)
        ax.grid(alpha=0.3)
    for ax in list(axes.flat)[len(jobs):]:
        ax.set_visible(False)
    for ax in axes[:, 0]:
        ax.set_ylabel("% favoured, smoothed", fontsize=8)
    for ax in axes[-1, :]:
        ax.set_xlabel("position", fontsize=8)
    handles, labels = axes.flat[0].get_legend_handles_labels()
    height = fig.get_figheight()
    head = 0.55 + (0.3 if note else 0.0)  # inches of titles above the legend
    fig.subplots_adjust(top=1 - (head + 0.55) / height, hspace=0.75)
    fig.legend(handles, labels[:2], fontsize=8, frameon=False, ncol=2, loc="upper center",
               bbox_to_anchor=(0.5, 1 - head / height))  # fmt: skip
    plots._titles(fig, "Amplification of the persona's values (bands: 95% CI)", note)
    return plots._save(fig, path)


def roleplay_figures(cells: pd.DataFrame, induction: pd.DataFrame,
                     curves: dict[str, pd.DataFrame]) -> list[Figure]:  # fmt: skip
    simulated = bool(cells["simulated"].any())
    note = SIMULATED_NOTE if simulated else None
    out: list[Figure] = []
    if len(induction):
        bars = bars_table(cells, induction)
        out.append(Figure("i_avg_bars", "I_avg by platform, strategy and model (adaptive bars,"
                          " control as hollow markers; the paper's change beside ours)",
                          lambda p: induce_plots.induction_bars(bars, p, simulated=simulated)))
    isq = induction[(induction["strategy"] == "isq") & induction["threshold"].notna()] \
        if len(induction) else induction
    if len(isq):
        # one line per model config and platform, whatever label each job carries
        label = cells.groupby("model")["label"].transform("first")
        base = label + np.where(cells["simulated"], " (SIMULATED)", "")
        isq = isq.assign(line=isq["job"].map(base) + " · " + isq["platform"].astype(str))
        if isq.groupby("line")["threshold"].nunique().max() >= 2:
            out.append(Figure("isq_threshold_curves", "I_avg against the ISQ stay threshold",
                              lambda p: threshold_curves(isq, p, note=note)))
    if curves:
        titles = {j: f"{c['name']}\n{c['strategy']} · {c['platform']}"
                  for j, c in cells.iterrows()}  # fmt: skip
        out.append(Figure("amplification_curves", "Amplification of the persona's favoured"
                          " values along the session, adaptive vs control",
                          lambda p: amplification_panels(curves, titles, p, note=note)))
    return out
