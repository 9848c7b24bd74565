"""Synthetic ``ReportData`` for the report's section builders: jobs, their answers and scores,
built from planted yes-rates so a test knows the answer a section must find."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from valuespectrum.report.sections import RUN_COLUMNS, ReportData
from valuespectrum.values import VALUES

KEYWORDS = 10
PER_KEYWORD = 5


def screenshot_id(value: str, keyword: int, rank: int) -> int:
    return VALUES.index(value) * 10_000 + keyword * 100 + rank


def answers(job: str, rates: Mapping[str, float], *, seed: int = 0, keywords: int = KEYWORDS,
            per_keyword: int = PER_KEYWORD, **columns: str) -> pd.DataFrame:  # fmt: skip
    """One answer per screenshot: yes where the screenshot's fixed appeal u (the same for every
    job, from ``seed``) is below the value's rate (%), so two jobs differ only on the images
    between their rates, as a paired design does. ``columns`` are constant extra columns."""
    rng = np.random.default_rng(seed)
    rows = []
    for value in VALUES:
        u = rng.random(keywords * per_keyword)
        for i, appeal in enumerate(u):
            kw, rank = divmod(i, per_keyword)
            rows.append({"probe_run": f"run-{job}", "value": value, "keyword": f"{value}-kw{kw}",
                         "rank": rank, "sample": 0,
                         "screenshot_id": screenshot_id(value, kw, rank),
                         "outcome": "yes" if appeal < rates[value] / 100 else "no",
                         "job": job, **columns})  # fmt: skip
    return pd.DataFrame(rows)


def scores_from(answers_: pd.DataFrame, true: Mapping[str, Mapping[str, float]] | None = None
                ) -> pd.DataFrame:  # fmt: skip
    """Per (job, value) score = 100·yes/answers, with a normal-approximation CI."""
    a = answers_.assign(yes=(answers_["outcome"] == "yes").astype(float))
    g = a.groupby(["job", "value"], sort=False)["yes"].agg(["mean", "size"]).reset_index()
    g["score"] = 100 * g["mean"]
    se = 100 * np.sqrt(g["mean"].clip(0.02, 0.98) * (1 - g["mean"].clip(0.02, 0.98)) / g["size"])
    g["ci_low"], g["ci_high"] = g["score"] - 1.96 * se, g["score"] + 1.96 * se
    g["n_images"] = g["size"]
    g["true_score"] = [true[j][v] if true and j in true else np.nan
                       for j, v in zip(g["job"], g["value"], strict=True)]  # fmt: skip
    return g.drop(columns=["mean", "size"])


def runs(jobs: list[str], factors: Mapping[str, list[str]] | None = None,
         simulated: bool = False) -> pd.DataFrame:  # fmt: skip
    """The runs frame: RUN_COLUMNS plus ``factor.<key>`` columns (one level per job)."""
    rows = []
    for i, job in enumerate(jobs):
        row = {c: None for c in RUN_COLUMNS}
        row.update(job=job, label=job, source="run", probe_run=f"run-{job}", model="m",
                   model_label="m", simulated=simulated)
        for key, levels in (factors or {}).items():
            row[f"factor.{key}"] = levels[i]
        rows.append(row)
    return pd.DataFrame(rows)


def report_data(runs_: pd.DataFrame, scores: pd.DataFrame,
                answers_: pd.DataFrame | None = None,
                keyword_scores: pd.DataFrame | None = None) -> ReportData:  # fmt: skip
    empty = pd.DataFrame(columns=["job"])
    factors = tuple(c.removeprefix("factor.") for c in runs_.columns if c.startswith("factor."))
    return ReportData(runs=runs_, scores=scores,
                      keyword_scores=keyword_scores if keyword_scores is not None else empty,
                      answers=answers_ if answers_ is not None else empty, sessions=empty,
                      impressions=empty, factors=factors)  # fmt: skip
