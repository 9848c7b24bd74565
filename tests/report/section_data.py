"""Synthetic ReportData for the section builders' tests: the frames the report's loader gives,
built from a few numbers (no workspace, no run)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from valuespectrum.report.paper import INTRINSIC
from valuespectrum.report.sections import RUN_COLUMNS, ReportData
from valuespectrum.values import VALUES

SCORE_COLUMNS = ("job", "probe_run", "scoring_key", "model", "value", "score", "ci_low",
                 "ci_high", "centred", "n", "n_images", "n_yes", "n_no", "n_refusal",
                 "n_invalid", "n_error", "n_no_image", "refusal_rate", "invalid_rate",
                 "error_rate", "no_image_rate", "noise_se", "true_score")  # fmt: skip
SESSION_COLUMNS = ("job", "session_id", "condition", "persona_id", "favours", "model",
                   "strategy", "threshold", "platform", "videos", "status")  # fmt: skip
IMPRESSION_COLUMNS = ("job", "session_id", "position", "item_id", "outcome", "stayed",
                      "item_values")  # fmt: skip


def run_row(job: str, model: str, *, label: str | None = None, source: str = "run",
            simulated: bool = False, true_profile: Mapping[str, float] | None = None,
            **factors: str) -> dict:  # fmt: skip
    row = dict.fromkeys(RUN_COLUMNS)
    row.update(job=job, label=label or model, source=source, model=model, model_label=label
               or model, simulated=simulated, probe_run=f"pr-{job}", scoring_key="sk",
               true_profile=None if true_profile is None else dict(true_profile))  # fmt: skip
    row.update({f"factor.{k}": v for k, v in factors.items()})
    return row


def score_rows(job: str, model: str, profile: Mapping[str, float], *, n: int | None = 50,
               truth: Mapping[str, float] | None = None, refusals: int = 0,
               errors: int = 0) -> list[dict]:  # fmt: skip
    """One scores row per value; ``n=None`` gives a published table's row (score only)."""
    rows = []
    for v in VALUES:
        s = float(profile[v])
        row = dict.fromkeys(SCORE_COLUMNS, np.nan)
        row.update(job=job, probe_run=f"pr-{job}", scoring_key="sk", model=model, value=v,
                   score=s, true_score=np.nan if truth is None else float(truth[v]))
        if n is not None:
            half = 100 / np.sqrt(n)
            yes = round(s * n / 100)
            row.update(ci_low=max(0.0, s - half), ci_high=min(100.0, s + half), n=n + refusals,
                       n_images=n, n_yes=yes, n_no=n - yes, n_refusal=refusals, n_invalid=0,
                       n_error=errors, n_no_image=0,
                       noise_se=100 * np.sqrt(s / 100 * (1 - s / 100) / n))  # fmt: skip
        rows.append(row)
    return rows


def report_data(runs: Sequence[dict], scores: Sequence[dict] = (), *,
                keyword_scores: pd.DataFrame | None = None,
                sessions: pd.DataFrame | None = None,
                impressions: pd.DataFrame | None = None) -> ReportData:  # fmt: skip
    runs_frame = pd.DataFrame(list(runs))
    factors = tuple(c.removeprefix("factor.") for c in runs_frame.columns
                    if c.startswith("factor."))  # fmt: skip
    return ReportData(
        runs=runs_frame,
        scores=pd.DataFrame(list(scores), columns=list(SCORE_COLUMNS)),
        keyword_scores=keyword_scores if keyword_scores is not None else pd.DataFrame(
            columns=["job", "model", "value", "keyword", "n", "score", "ci_low", "ci_high",
                     "loo_shift", "driver"]),
        answers=pd.DataFrame(columns=["job", "value", "keyword", "outcome"]),
        sessions=sessions if sessions is not None else pd.DataFrame(columns=SESSION_COLUMNS),
        impressions=impressions if impressions is not None
        else pd.DataFrame(columns=IMPRESSION_COLUMNS),
        factors=factors,
    )


def paper_table_data() -> ReportData:
    """The paper's published table (paper.md section 5) given as input: one job per row,
    source=table, scores only."""
    runs = [run_row(f"paper-{m}", m, source="table") for m in INTRINSIC]
    scores = [r for m, prof in INTRINSIC.items() for r in score_rows(f"paper-{m}", m, prof, n=None)]
    return report_data(runs, scores)


def roleplay_rows(job: str, model: str, *, strategy: str = "isq", platform: str = "tiktok",
                  threshold: float | None = 60.0, personas: int = 3, videos: int = 40,
                  rise: float = 0.6, seed: int = 0) -> tuple[list[dict], list[dict]]:  # fmt: skip
    """(sessions, impressions) rows of one job: each persona on the adaptive feed (its stays
    and favoured items rise by ``rise`` over the session) and on the control (flat)."""
    rng = np.random.default_rng(seed)
    sessions, impressions = [], []
    for p in range(personas):
        for condition in ("adaptive", "control"):
            sid = f"{job}-{condition}-{p}"
            sessions.append({
                "job": job, "session_id": sid, "condition": condition, "persona_id": f"p{p}",
                "favours": ["hedonism"], "model": model, "strategy": strategy,
                "threshold": threshold if strategy == "isq" else None, "platform": platform,
                "videos": videos, "status": "complete",
            })  # fmt: skip
            for pos in range(videos):
                lift = rise * pos / videos if condition == "adaptive" else 0.0
                favoured = rng.random() < 0.2 + lift
                stayed = bool(rng.random() < (0.3 + lift if favoured else 0.2))
                impressions.append({
                    "job": job, "session_id": sid, "position": pos, "item_id": pos,
                    "outcome": "yes" if stayed else "no", "stayed": stayed,
                    "item_values": ["hedonism"] if favoured else ["power"],
                })  # fmt: skip
    return sessions, impressions
