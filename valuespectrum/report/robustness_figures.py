"""The robustness section's figures: dot-and-whisker shifts per axis, the blank-image baseline.

Each ``*_figure`` returns a ``sections.Figure`` whose ``draw`` builds the matplotlib figure only
when called (the report decides when and where), saved through ``plots._save``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from valuespectrum.report.plots import CI_LABEL, _pyplot, _save
from valuespectrum.report.sections import Figure
from valuespectrum.values import LABELS, VALUES

MAX_SERIES = 6  # per panel; more would be unreadable (the table has them all)
_EFFECT_TITLES = {"order_effect": "answer order, within run\n(yes_first - no_first)",
                  "acquiescence": "acquiescence, within run\n(yes% fwd + yes% rev - 100)"}


def _panels(shifts: pd.DataFrame, within: pd.DataFrame) -> list[tuple[str, list[tuple]]]:
    """(title, [(label, values, estimate, low, high)]) per axis."""
    panels = []
    for factor, g in shifts.groupby("factor", sort=False):
        series = []
        for (context, level), s in g.groupby(["context", "level"], sort=False):
            label = f"{level} vs {s['reference'].iloc[0]}" + (f" ({context})" if context else "")
            series.append((label, s["value"].tolist(), s["shift"].to_numpy(float),
                           s["ci_low"].to_numpy(float), s["ci_high"].to_numpy(float)))
        panels.append((f"{factor}\n(level - reference)", series))
    for effect, g in within.groupby("effect", sort=False):
        series = [(str(job), s["value"].tolist(), s["estimate"].to_numpy(float),
                   s["ci_low"].to_numpy(float), s["ci_high"].to_numpy(float))
                  for job, s in g.groupby("job", sort=False)]  # fmt: skip
        panels.append((_EFFECT_TITLES.get(str(effect), str(effect)), series))
    return panels


def shift_figure(shifts: pd.DataFrame, within: pd.DataFrame) -> Figure:
    """One panel per axis: each value's shift (points) with its 95% interval, per comparison."""

    def draw(path: Path) -> Path:
        plt = _pyplot()
        panels = _panels(shifts, within)
        cols = min(3, len(panels))
        rows = -(-len(panels) // cols)
        fig, axes = plt.subplots(rows, cols, figsize=(3.4 * cols, 3.3 * rows), squeeze=False,
                                 sharey=True)  # fmt: skip
        names = [*VALUES, "overall"]
        for ax, (title, series) in zip(axes.flat, panels, strict=False):
            shown = series[:MAX_SERIES]
            for j, (label, values, est, lo, hi) in enumerate(shown):
                y = np.array([names.index(v) for v in values]) + 0.12 * (j - (len(shown) - 1) / 2)
                err = np.vstack([est - lo, hi - est])
                ax.errorbar(est, y, xerr=np.where(np.isnan(err), 0, err.clip(min=0)), fmt="o",
                            ms=3.5, lw=0.9, capsize=1.5, label=label)  # fmt: skip
            ax.axvline(0, color="#888888", lw=0.8)
            ax.set_title(title + (f" [{len(series) - MAX_SERIES} more in the table]"
                                  if len(series) > MAX_SERIES else ""), fontsize=9)  # fmt: skip
            ax.set_xlabel("points", fontsize=8)
            ax.tick_params(labelsize=7)
            ax.legend(fontsize=6, loc="best", frameon=False)
        for ax in list(axes.flat)[len(panels):]:
            ax.set_visible(False)
        axes[0, 0].set_yticks(range(len(names)), [LABELS.get(v, "Overall") for v in names])
        axes[0, 0].invert_yaxis()
        fig.suptitle(f"How each axis moves each value (dots: shift; whiskers: {CI_LABEL}, "
                     "paired over shared screenshots)", fontsize=10)  # fmt: skip
        fig.tight_layout()
        return _save(fig, path)

    return Figure("robustness_shifts", "Shift of each value's score per robustness axis "
                  "(level minus reference; within-run effects as defined in the text), with "
                  "95% paired bootstrap intervals.", draw)  # fmt: skip


def baseline_figure(baseline: pd.DataFrame) -> Figure:
    """Each value's score on screenshots against the blank-image baseline (a line and band)."""

    def draw(path: Path) -> Path:
        plt = _pyplot()
        jobs = list(pd.unique(baseline["job"]))[:3]
        fig, axes = plt.subplots(1, len(jobs), figsize=(3.8 * len(jobs), 3.4), squeeze=False,
                                 sharey=True)  # fmt: skip
        for ax, job in zip(axes.flat, jobs, strict=True):
            g = baseline[baseline["job"] == job]
            y = np.array([VALUES.index(v) for v in g["value"]])
            est = g["score"].to_numpy(float)
            err = np.vstack([est - g["score_ci_low"], g["score_ci_high"] - est]).clip(min=0)
            ax.errorbar(est, y, xerr=err, fmt="o", ms=3.5, lw=0.9, capsize=1.5,
                        label=f"screenshots ({CI_LABEL})")  # fmt: skip
            r = g.iloc[0]
            ax.axvspan(r["baseline_ci_low"], r["baseline_ci_high"], color="#d98880", alpha=0.3)
            ax.axvline(r["baseline"], color="#b03a2e", lw=1.2, ls="--",
                       label=f"blank image, mean yes% ({r['blank_job']})")
            ax.set_title(str(job) + (f"\n{r['context']}" if r["context"] else ""), fontsize=9)
            ax.set_xlim(0, 100)
            ax.set_xlabel("% yes", fontsize=8)
            ax.tick_params(labelsize=7)
            ax.legend(fontsize=6, loc="upper center", bbox_to_anchor=(0.5, -0.16),
                      frameon=False)
        axes[0, 0].set_yticks(range(len(VALUES)), [LABELS[v] for v in VALUES])
        axes[0, 0].invert_yaxis()
        fig.tight_layout()
        return _save(fig, path)

    return Figure("robustness_blank_baseline", "Each value's score on its screenshots against "
                  "the blank-image control: the dashed line (band: its 95% interval) is what the "
                  "model says when it sees no content.", draw)  # fmt: skip
