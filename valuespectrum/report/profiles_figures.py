"""The profile section's figures (report/profiles_section.py), each drawn only when the report
writes it: radar overlays (all jobs; ours beside the paper's rows), per-value means, per-model
std against its binomial noise, centred scores, and the answer rates. Small and cheap: a 2 x 2
multirun's report draws all of them in a few seconds."""

from __future__ import annotations

from functools import partial
from pathlib import Path

import numpy as np
import pandas as pd

from valuespectrum.report import plots
from valuespectrum.report.paper import INTRINSIC
from valuespectrum.report.profile import SIMULATED_NOTE
from valuespectrum.report.sections import Figure, ReportSettings

_CI_BANDS_UP_TO = 2  # more bands on one radar are mud
RATE_LABELS = {"refusal_rate": "refusal", "invalid_rate": "invalid", "error_rate": "error",
               "no_image_rate": "no image"}  # fmt: skip


def _profiles(jobs: pd.DataFrame, wide: pd.DataFrame) -> dict[str, dict[str, float]]:
    return {jobs.at[job, "name"]: {v: float(s) for v, s in row.items() if pd.notna(s)}
            for job, row in wide.iterrows()}  # fmt: skip


def _bands(jobs: pd.DataFrame, scores: pd.DataFrame) -> dict[str, dict[str, tuple[float, float]]]:
    if len(jobs) > _CI_BANDS_UP_TO or not {"ci_low", "ci_high"} <= set(scores.columns):
        return {}
    out = {}
    for job, part in scores.groupby("job", sort=False):
        if part[["ci_low", "ci_high"]].notna().all().all():
            out[jobs.at[job, "name"]] = {r.value: (r.ci_low, r.ci_high) for r in part.itertuples()}
    return out


def std_bars(spread: pd.DataFrame, path: Path, *, note: str | None = None) -> Path:
    """The paper's per-model std bar chart (sorted high to low), with the std that binomial
    noise alone gives at these counts as a black tick on each bar and the paper's own std (where
    it reports one for the same model) as a hollow diamond."""
    plt = plots._pyplot()
    rows = spread.sort_values("std", ascending=False, kind="stable")
    x = np.arange(len(rows))
    fig, ax = plt.subplots(figsize=(max(5.0, 0.8 * len(rows) + 2.0), 4.2))
    bars = ax.bar(x, rows["std"], color="#4c72b0", label="std across values (ddof=1)")
    ax.bar_label(bars, labels=list(rows["std_printed"]), fontsize=8, padding=2)
    ax.scatter(x, rows["noise_std"], marker="_", s=500, color="black", zorder=3,
               label="binomial noise alone")  # fmt: skip
    if rows["paper_std"].notna().any():
        ax.scatter(x, rows["paper_std"], marker="D", s=30, facecolors="white",
                   edgecolors="#b03a2e", zorder=4, label="paper's std")  # fmt: skip
    ax.set_xticks(x, list(rows["model"]), rotation=30, ha="right")
    ax.set_ylabel("std of the ten scores (points)")
    top = np.nanmax(rows[["std", "noise_std", "paper_std"]].to_numpy(float))
    ax.set_ylim(0, (top if np.isfinite(top) else 1.0) * 1.25)
    ax.grid(axis="y", alpha=0.3)
    ax.legend(fontsize=8, frameon=False, loc="upper right")
    plots._titles(fig, "Spread of each model's scores against binomial noise", note)
    return plots._save(fig, path)


def rate_bars(rates: pd.DataFrame, path: Path, *, note: str | None = None) -> Path:
    """Grouped bars per job: refusal, invalid, error and no-image rates (%)."""
    plt = plots._pyplot()
    x = np.arange(len(rates))
    width = 0.8 / len(RATE_LABELS)
    fig, ax = plt.subplots(figsize=(max(5.0, 1.0 * len(rates) + 2.5), 4.0))
    for i, (col, label) in enumerate(RATE_LABELS.items()):
        ax.bar(x + (i - 1.5) * width, 100 * rates[col].to_numpy(float), width, label=label)
    ax.set_xticks(x, list(rates["model"]), rotation=30, ha="right")
    ax.set_ylabel("% of answers (error, no image: of attempts)")
    ax.grid(axis="y", alpha=0.3)
    ax.legend(fontsize=8, frameon=False, ncol=4, loc="lower center", bbox_to_anchor=(0.5, 1.0))
    fig.subplots_adjust(top=0.78 if note else 0.84)
    plots._titles(fig, "Refusal, invalid, error and no-image rates", note)
    return plots._save(fig, path)


def _paper_overlay(jobs: pd.DataFrame, wide: pd.DataFrame) -> dict[str, dict[str, float]]:
    out: dict[str, dict[str, float]] = {}
    ours = _profiles(jobs, wide)
    for _, j in jobs.iterrows():
        if j["paper_row"] and j["source"] != "table":
            out[j["name"]] = ours[j["name"]]
            out.setdefault(f"paper: {j['paper_row']}", INTRINSIC[j["paper_row"]])
    return out


def profile_figures(jobs: pd.DataFrame, wide: pd.DataFrame, scores: pd.DataFrame,
                    spread: pd.DataFrame, rates: pd.DataFrame,
                    settings: ReportSettings) -> list[Figure]:  # fmt: skip
    note = SIMULATED_NOTE if jobs["simulated"].any() else None
    profiles = _profiles(jobs, wide)
    radar = partial(plots.radar_chart, axis_order=settings.axis_order, note=note)
    out = [Figure("radar_overlay", "Radar overlay of every job's profile (% yes)",
                  lambda p: radar(profiles, p, title="Value profiles",
                                  ci=_bands(jobs, scores) or None))]  # fmt: skip
    beside = _paper_overlay(jobs, wide)
    if beside:
        out.append(Figure("radar_paper", "Our profiles beside the paper's published rows",
                          lambda p: radar(beside, p, title="Ours beside the paper")))
    out.append(Figure("value_means", "Mean score per value across the jobs",
                      lambda p: plots.value_means_bar(profiles, p, note=note)))  # fmt: skip
    out.append(Figure("model_std", "Std across values per job, with binomial noise alone",
                      lambda p: std_bars(spread, p, note=note)))  # fmt: skip
    centred = wide.sub(wide.mean(axis=1), axis=0).set_axis(list(jobs["name"]), axis=0)
    out.append(Figure("centred_heatmap", "Centred scores (score minus the job's mean)",
                      lambda p: plots.heatmap(centred, p, title="Centred scores (points)",
                                              cmap="RdBu_r", center=0, fmt="{:+.0f}",
                                              note=note)))  # fmt: skip
    if len(rates):
        out.append(Figure("answer_rates", "Refusal, invalid, error and no-image rates per job",
                          lambda p: rate_bars(rates, p, note=note)))  # fmt: skip
    return out
