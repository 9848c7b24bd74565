"""The report's role-play section: induction across jobs (models x strategies x platforms x
thresholds), from the stored ``sessions`` and ``impressions`` tables alone.

Per job and condition (adaptive feed vs the random-feed control) the induction I_avg with its
95% CI, the net effect (adaptive - control) and the amplification of the persona's favoured
values (induce/metrics.py, the induce stage's own measures); the paper's induction change for
the same model, strategy and platform beside ours where the paper has one (report/paper_rows.py;
the paper's values were read from a figure, ±0.3 points). Figures: the paper's I_avg bars, the
ISQ threshold curves (I_avg against the stay threshold per model and platform) and the
amplification curves against the control.

I compares the first and the last ``induce.window`` videos of each session, the window of the
job that ran it (from its record); a job without one (a hand-built selection) falls back to
half of each session, the default protocol's 50 of 100. Only complete
sessions count, each cut to the videos its last run asked for, as the induce stage does.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from valuespectrum.induce import metrics as m
from valuespectrum.report import roleplay_figures as figs
from valuespectrum.report.paper import INDUCTION_CHANGES, INDUCTION_READ_ERROR
from valuespectrum.report.paper_rows import PAPER_ISQ_THRESHOLD, induction_row
from valuespectrum.report.profile import SIMULATED_NOTE
from valuespectrum.report.sections import ReportData, ReportSettings, Section

KEY = "roleplay"
TITLE = "Role-play: preference induction by the feed"
CURVE_SMOOTH = 10  # as the induce stage's curves


def impressions_frame(sessions: pd.DataFrame, impressions: pd.DataFrame) -> pd.DataFrame:
    """The stored tables joined into the rows ``induce.metrics`` reads (``session_id,
    persona_id, condition, position, item_id, stay, invalid, values, favours``, plus ``job``):
    complete sessions only, each cut to its ``videos``."""
    done = sessions
    if "status" in sessions.columns:
        done = sessions[sessions["status"].fillna("complete") == "complete"]
    keep = ["session_id", "persona_id", "condition", "favours"]
    keep += [c for c in ("videos",) if c in done.columns]
    frame = impressions.drop(columns=[c for c in keep[1:] if c in impressions.columns])
    frame = frame.merge(done[keep].drop_duplicates("session_id"), on="session_id", how="inner")
    renames = {"stayed": "stay", "item_values": "values"}
    frame = frame.rename(columns={k: v for k, v in renames.items() if v not in frame.columns})
    if "invalid" not in frame.columns:
        frame["invalid"] = frame["outcome"] == "invalid"
    frame = frame.sort_values(["session_id", "position"], kind="stable")
    if "videos" in frame.columns:
        rank = frame.groupby("session_id").cumcount()
        frame = frame[rank < frame["videos"].fillna(np.inf)]
    return frame.reset_index(drop=True)


def _cells(data: ReportData, sessions: pd.DataFrame) -> pd.DataFrame:
    """One row per job with sessions: its model (label, simulated), strategy, platform and ISQ
    threshold; ``name`` tells the jobs of one model, strategy and platform apart by threshold."""
    runs = data.runs.set_index("job")
    cells = sessions.groupby("job", sort=False).agg(
        model=("model", "first"), strategy=("strategy", "first"),
        platform=("platform", "first"), threshold=("threshold", "first"))  # fmt: skip
    cells = cells.reindex([j for j in runs.index if j in cells.index] +
                          [j for j in cells.index if j not in runs.index])  # fmt: skip
    label = runs["model_label"] if "model_label" in runs else runs.get("label")
    cells["label"] = [str(label[j]) if label is not None and j in label.index
                      and isinstance(label[j], str) and label[j] else str(cells.at[j, "model"])
                      for j in cells.index]  # fmt: skip
    sim = runs["simulated"].reindex(cells.index) if "simulated" in runs else None
    cells["simulated"] = False if sim is None else sim.fillna(False).astype(bool).to_numpy()
    several = cells.groupby(["model", "strategy", "platform"])["threshold"].transform("nunique")
    cells["name"] = [
        (f"{r.label} (SIMULATED)" if r.simulated else r.label)
        + (f" @ {r.threshold:g}" if n > 1 and _finite(r.threshold) else "")
        for r, n in zip(cells.itertuples(), several, strict=True)
    ]
    cells["paper_row"] = [induction_row(str(r.model), simulated=bool(r.simulated)) or ""
                          for r in cells.itertuples()]  # fmt: skip
    window = runs.get("induce_window")
    cells["induce_window"] = [window.get(j) if window is not None else None
                              for j in cells.index]  # fmt: skip
    return cells


def _window(cell, part: pd.DataFrame) -> int:
    """The job's own ``induce.window`` where its record gives it, else half its sessions."""
    given = cell.get("induce_window")
    if given is not None and given == given and int(given) > 0:
        return int(given)
    return max(1, int(part.groupby("session_id").size().min()) // 2)


def _finite(x) -> bool:
    return x is not None and isinstance(x, (int, float)) and math.isfinite(x)


def _induction(cells: pd.DataFrame, frame: pd.DataFrame, settings: ReportSettings):
    """Per job: the induction table (I_avg per condition, the net effect) and the
    amplification curve with its last-window shares and time to personalisation."""
    rows, nets, amps, curves = [], [], [], {}
    for job, c in cells.iterrows():
        part = frame[frame["job"] == job]
        if part.empty:
            continue
        window = _window(c, part)
        table = m.induction_table(part, window=window, n_boot=settings.n_boot, seed=settings.seed)
        head = {"job": job, "model": c["name"], "strategy": c["strategy"],
                "platform": c["platform"], "threshold": c["threshold"]}  # fmt: skip
        for condition, r in table["conditions"].items():
            paper = _paper(c, condition)
            rows.append({**head, "condition": condition, "window": window, **r,
                         "paper_row": c["paper_row"] if paper == paper else "",
                         "paper_I_avg": paper})  # fmt: skip
        if table["net"] is not None:
            nets.append({**head, **table["net"]})
        curve = m.amplification_curve(part, n_boot=settings.n_boot, seed=settings.seed,
                                      smooth=CURVE_SMOOTH)  # fmt: skip
        if curve.empty:
            continue
        curves[job] = curve
        last = curve["position"].max() - window
        share = {k: float(g[g["position"] > last]["share"].mean())
                 for k, g in curve.groupby("condition")}  # fmt: skip
        ttp = m.time_to_personalisation(curve) if set(m.CONDITIONS) <= set(share) else None
        amps.append({**head, "amplification_adaptive": share.get("adaptive", np.nan),
                     "amplification_control": share.get("control", np.nan),
                     "amplification_gain": share.get("adaptive", np.nan)
                     - share.get("control", np.nan),
                     "time_to_personalisation": np.nan if ttp is None else float(ttp)})  # fmt: skip
    return pd.DataFrame(rows), pd.DataFrame(nets), pd.DataFrame(amps), curves


def _paper(cell: pd.Series, condition: str) -> float:
    """The paper's change for this model, strategy and platform (adaptive rows only: the
    paper ran no control; ISQ only at the paper's threshold), else NaN."""
    if condition != "adaptive" or not cell["paper_row"]:
        return float("nan")
    if cell["strategy"] == "isq" and cell["threshold"] != PAPER_ISQ_THRESHOLD:
        return float("nan")
    by_model = INDUCTION_CHANGES.get(str(cell["strategy"]), {}).get(cell["paper_row"], {})
    return float(by_model.get(str(cell["platform"]), float("nan")))


def _paper_table(induction: pd.DataFrame) -> pd.DataFrame:
    rows = induction[induction["paper_I_avg"].notna()] if len(induction) else induction
    if rows.empty:
        return pd.DataFrame()
    out = rows[["job", "model", "strategy", "platform", "paper_row", "I_avg", "ci_low",
                "ci_high", "paper_I_avg"]].copy()  # fmt: skip
    out["difference"] = out["I_avg"] - out["paper_I_avg"]
    out["paper_inside_ci"] = ((out["ci_low"] - INDUCTION_READ_ERROR <= out["paper_I_avg"])
                              & (out["paper_I_avg"] <= out["ci_high"] + INDUCTION_READ_ERROR))
    return out.reset_index(drop=True)


def _text(induction: pd.DataFrame, nets: pd.DataFrame, paper: pd.DataFrame,
          cells: pd.DataFrame) -> list[str]:  # fmt: skip
    window = sorted(set(induction["window"])) if len(induction) else []
    text = [
        "I = % stays in the last window minus the first (points; windows: "
        + ", ".join(str(w) for w in window) + " videos, each job's induce.window); I_avg averages"
        " personas, with a 95% two-stage bootstrap CI (personas, then sessions). The control"
        " is the same persona on a random feed.",
    ]
    for r in nets.itertuples():
        text.append(f"{r.model}, {r.strategy} on {r.platform}: net induction (adaptive - "
                    f"control) {r.effect:+.1f} points [{r.ci_low:+.1f}, {r.ci_high:+.1f}]"
                    + (" (paired by persona)." if r.paired else "."))  # fmt: skip
    for r in paper.itertuples():
        text.append(f"{r.model}, {r.strategy} on {r.platform}: I_avg {r.I_avg:+.1f} "
                    f"[{r.ci_low:+.1f}, {r.ci_high:+.1f}] vs the paper's {r.paper_row} "
                    f"{r.paper_I_avg:+.1f} (read from its figure, ±{INDUCTION_READ_ERROR:g}).")
    if cells["simulated"].any():
        text.append(SIMULATED_NOTE + ".")
    return text


def build(data: ReportData, settings: ReportSettings) -> Section | None:
    """The role-play section, or None when the selected jobs hold no sessions."""
    if data.sessions.empty or data.impressions.empty:
        return None
    frame = impressions_frame(data.sessions, data.impressions)
    if frame.empty:
        return None
    sessions = data.sessions[data.sessions["session_id"].isin(set(frame["session_id"]))]
    cells = _cells(data, sessions)
    induction, nets, amps, curves = _induction(cells, frame, settings)
    paper = _paper_table(induction)
    tables = {"induction": induction, "net_induction": nets, "amplification": amps,
              "paper_induction": paper}  # fmt: skip
    section = Section(key=KEY, title=TITLE, text=_text(induction, nets, paper, cells),
                      tables={k: t for k, t in tables.items() if not t.empty})  # fmt: skip
    section.figures = figs.roleplay_figures(cells, induction, curves)
    return section
