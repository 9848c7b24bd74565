"""The report's first section: what was selected, how many calls and answers each job holds,
and how many of its answers were refusals, unreadable, failed calls or never saw the image."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from valuespectrum.report.plots import _DPI, _pyplot, _save
from valuespectrum.report.sections import Figure, ReportData, ReportSettings, Section

OUTCOMES = ("yes", "no", "refusal", "invalid", "no_image", "error")
RATES = ("refusal", "invalid", "error", "no_image")
COLORS = {"yes": "#4c72b0", "no": "#c9c9c9", "refusal": "#dd8452", "invalid": "#8172b3",
          "no_image": "#937860", "error": "#c44e52"}  # fmt: skip
# A job losing more than this share of its answers to failed calls or missing images is flagged.
FLAG_SHARE = 0.05


def build(data: ReportData, settings: ReportSettings) -> Section | None:
    """Per job: factors, answers (decision calls) and their outcomes, rates, sessions."""
    runs = data.runs
    if runs.empty:
        return None
    table = outcome_table(data)
    section = Section("overview", "Overview of the selected runs")
    n_run = int((runs["source"] == "run").sum())
    n_table = int((runs["source"] == "table").sum())
    section.text.append(
        f"{n_run} job(s) and {n_table} published row(s)"
        + (f"; factors that differ between jobs: {', '.join(data.factors)}" if data.factors
           else "; no setting differs between the jobs")
        + ". Rates are shares of all answers of a job (every decision call, failed or not); "
        "errors and no_image replies enter no score."
    )
    section.tables["jobs"] = table
    simulated = runs.loc[runs["simulated"].fillna(False).astype(bool), "label"].tolist()
    if simulated:
        section.flags.append(f"SIMULATED respondent, not a VLM: {', '.join(simulated)}")
    for r in table.itertuples():
        lost = (r.error_rate or 0) + (r.no_image_rate or 0)
        if r.answers and lost > FLAG_SHARE:
            section.flags.append(f"{r.label}: {lost:.0%} of the answers are failed calls or "
                                 "replies that never saw the image")
    answered = table[table["answers"] > 0]
    if len(answered):
        section.figures.append(Figure(
            "overview_outcomes", "Share of each answer outcome per job (all decision calls).",
            lambda path: _draw_outcomes(answered, path),
        ))
    return section


def outcome_table(data: ReportData) -> pd.DataFrame:
    """One row per job: its factors, counts of answers by outcome, rates, sessions, scores."""
    runs = data.runs
    answers = data.answers
    counts = (answers.groupby(["job", "outcome"]).size().unstack(fill_value=0)
              if len(answers) else pd.DataFrame())  # fmt: skip
    counts = counts.reindex(index=runs["job"], columns=list(OUTCOMES), fill_value=0)
    images = answers.groupby("job")["screenshot_id"].nunique() if len(answers) else pd.Series()
    sessions = data.sessions.groupby("job").size() if len(data.sessions) else pd.Series()
    shown = data.impressions.groupby("job").size() if len(data.impressions) else pd.Series()
    scored = data.scores.groupby("job")["score"]
    mean, std = scored.mean(), scored.std(ddof=1)
    factors = [f"factor.{k}" for k in data.factors]
    out = runs[["job", "label", "source", "model_label", *factors]].copy()
    total = counts.sum(axis=1)
    out["answers"] = total.to_numpy()
    out["images"] = out["job"].map(images).fillna(0).astype(int)
    for outcome in OUTCOMES:
        out[outcome] = counts[outcome].to_numpy()
    for outcome in RATES:
        out[f"{outcome}_rate"] = (counts[outcome] / total.where(total > 0)).round(4).to_numpy()
    out["sessions"] = out["job"].map(sessions).fillna(0).astype(int)
    out["impressions"] = out["job"].map(shown).fillna(0).astype(int)
    out["mean_score"] = out["job"].map(mean).round(2)
    out["std_score"] = out["job"].map(std).round(2)
    return out.reset_index(drop=True)


def _draw_outcomes(table: pd.DataFrame, path: Path) -> Path:
    plt = _pyplot()
    height = 0.9 + 0.32 * len(table)
    fig, ax = plt.subplots(figsize=(7.0, min(height, 12.0)), dpi=_DPI)
    left = pd.Series(0.0, index=table.index)
    for outcome in OUTCOMES:
        share = table[outcome] / table["answers"]
        ax.barh(table["label"], share, left=left, color=COLORS[outcome], label=outcome)
        left += share
    ax.set_xlim(0, 1)
    ax.invert_yaxis()
    ax.set_xlabel("share of answers")
    ax.legend(ncol=6, fontsize=7, loc="lower center", bbox_to_anchor=(0.5, 1.0), frameon=False)
    ax.tick_params(axis="y", labelsize=8)
    return _save(fig, path)
