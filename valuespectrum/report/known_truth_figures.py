"""The known-truth section's figures: recovered vs true profile, and the power curve.

Both carry the red "SIMULATED respondent" note (``plots._titles``): their numbers check the
instrument, never a real model.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from valuespectrum.report.plots import CI_LABEL, _pyplot, _save, _titles
from valuespectrum.report.sections import Figure

NOTE = "SIMULATED respondent (known truth)"
MAX_JOBS = 4


def recovery_figure(recovery: pd.DataFrame) -> Figure:
    """Recovered score against the true score per value, with intervals and the diagonal."""

    def draw(path: Path) -> Path:
        plt = _pyplot()
        fig, ax = plt.subplots(figsize=(4.6, 4.6))
        for job in list(pd.unique(recovery["job"]))[:MAX_JOBS]:
            g = recovery[recovery["job"] == job]
            y = g["score"].to_numpy(float)
            err = np.vstack([y - g["ci_low"], g["ci_high"] - y]).clip(min=0)
            ax.errorbar(g["true_score"], y, yerr=np.nan_to_num(err), fmt="o", ms=4, lw=0.8,
                        capsize=1.5, label=str(job))  # fmt: skip
        ax.plot([0, 100], [0, 100], color="#888888", lw=0.8, ls="--", label="recovered = true")
        ax.set_xlim(0, 100)
        ax.set_ylim(0, 100)
        ax.set_xlabel("true score (% yes expected)", fontsize=9)
        ax.set_ylabel(f"recovered score (whiskers: {CI_LABEL})", fontsize=9)
        ax.legend(fontsize=7, frameon=False, loc="upper left")
        ax.tick_params(labelsize=8)
        _titles(fig, "Recovered vs true profile", NOTE)
        fig.tight_layout(rect=(0, 0, 1, 0.92))
        return _save(fig, path)

    return Figure("known_truth_recovery", "Each dot is one value of a simulated job: the score "
                  "the pipeline recovered against the respondent's expected score; dots on the "
                  "diagonal are recovered exactly, whiskers should cross it about 95% of the "
                  "time.", draw)  # fmt: skip


def power_figure(power: pd.DataFrame, designs: dict[str, str]) -> Figure:
    """Mean absolute error and 95% interval width against images per value, per design."""

    def draw(path: Path) -> Path:
        plt = _pyplot()
        fig, axes = plt.subplots(1, 2, figsize=(8.4, 3.6))
        styles = {"keywords": "-", "images_per_keyword": "--"}
        for i, job in enumerate(list(pd.unique(power["job"]))[:MAX_JOBS]):
            color = f"C{i}"
            for design, label in designs.items():
                g = power[(power["job"] == job) & (power["design"] == design)]
                for ax, column in zip(axes, ("mae", "ci_width"), strict=True):
                    ax.plot(g["n_images"], g[column], styles.get(design, ":"), marker="o",
                            ms=3, color=color, label=f"{job}: {label}")  # fmt: skip
        first = power[power["design"] == "keywords"]
        if not first.empty:  # what noise alone would give: 1/sqrt(n) through the first point
            n = first["n_images"].to_numpy(float)
            w = first["ci_width"].iloc[0] * np.sqrt(n[0] / n)
            axes[1].plot(n, w, ":", color="#888888", label="1/sqrt(n)")
        for ax, ylabel in zip(axes, ("mean |recovered - true| (points)",
                                     "95% interval width (points)"), strict=True):
            ax.set_xscale("log")
            ax.set_xlabel("images per value (retrieve.k x keywords)", fontsize=9)
            ax.set_ylabel(ylabel, fontsize=9)
            ax.tick_params(labelsize=8)
        for width in (20, 10):
            axes[1].axhline(width, color="#b03a2e", lw=0.7, ls=":")
        handles, labels = axes[1].get_legend_handles_labels()
        fig.legend(handles, labels, loc="lower center", ncol=2, fontsize=7, frameon=False,
                   bbox_to_anchor=(0.5, -0.02 - 0.035 * (len(labels) // 2)))
        _titles(fig, "How many images a value needs", NOTE)
        fig.tight_layout(rect=(0, 0, 1, 0.9))
        return _save(fig, path)

    return Figure("known_truth_power", "Simulated from the true profile with the run's keyword "
                  "spread: error and 95% interval width of a value's score against its images. "
                  "The dotted red lines are +-10- and +-5-point intervals.", draw)  # fmt: skip
