"""The robustness section's comparisons: which jobs differ in one asking factor only, and
their rates per value over the screenshots both answered (``stats/paired.py``).

A comparison's context names the other factors' levels; ``DESIGN_FACTORS`` (what is measured:
the model, the modality, the role-play settings) are never axes, only contexts.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass

import numpy as np
import pandas as pd

from valuespectrum.report.sections import ReportData, ReportSettings
from valuespectrum.stats.paired import Rates, rate_replicates
from valuespectrum.values import VALUES

ANSWERED = ("yes", "no", "refusal", "invalid")
DESIGN_FACTORS = ("model", "modality", "describer", "strategy", "threshold", "persona",
                  "platform", "recommender")  # fmt: skip
BLANK = "blank"


@dataclass(frozen=True)
class Comparison:
    """Two jobs that differ in ``factor`` only: ``reference_job`` at the first level."""

    factor: str
    context: str
    reference: str
    level: str
    reference_job: str
    job: str


@dataclass(frozen=True)
class Paired:
    """Both sides' rates per value (``values``) over their shared screenshots."""

    values: list[str]
    reference: Rates
    other: Rates
    n_shared: np.ndarray
    method: str


def comparisons(data: ReportData) -> list[Comparison]:
    """Every (reference, level) pair of jobs that differ in one asking factor only."""
    runs = data.runs
    columns = [c.removeprefix("factor.") for c in runs.columns if c.startswith("factor.")]
    keys = [k for k in data.factors if k in columns] + [k for k in columns
                                                         if k not in data.factors]
    out = []
    for factor in keys:
        top = factor.split("/", 1)[0].split(".", 1)[0]  # model.acquiescence is the model's
        if factor in DESIGN_FACTORS or top in (*DESIGN_FACTORS, "describer_overrides",
                                               "experiment"):
            continue
        others = [k for k in keys if k != factor]
        rows = runs[runs[f"factor.{factor}"].notna()]
        if rows.empty:
            continue
        context_of = rows.apply(
            lambda r, others=others: ", ".join(f"{k}={r[f'factor.{k}']}" for k in others), axis=1)
        for label in pd.unique(context_of):
            group = rows[context_of == label]
            first = group.drop_duplicates(f"factor.{factor}")  # one job per level
            if len(first) < 2:
                continue
            ref = first.iloc[0]
            for _, row in first.iloc[1:].iterrows():
                out.append(Comparison(factor, label, str(ref[f"factor.{factor}"]),
                                      str(row[f"factor.{factor}"]), str(ref["job"]),
                                      str(row["job"])))  # fmt: skip
    return out


def image_counts(answers: pd.DataFrame) -> pd.DataFrame:
    """yes and answered counts per (job, value, screenshot) of forward-keyed, scored answers."""
    if answers.empty:
        return pd.DataFrame(columns=["job", "value", "screenshot_id", "yes", "n"])
    a = answers[answers["outcome"].isin(ANSWERED)]
    if "keying" in a:
        a = a[a["keying"].isna() | (a["keying"] == "forward")]
    a = a.assign(yes=(a["outcome"] == "yes").astype(float), n=1.0)
    return a.groupby(["job", "value", "screenshot_id"], as_index=False)[["yes", "n"]].sum()


def pair(data: ReportData, counts: pd.DataFrame, ref_job: str, job: str,
         settings: ReportSettings) -> Paired | None:  # fmt: skip
    """The two jobs' rates per value: paired over shared screenshots where both have answers,
    else independent draws from their stored CIs (no pairing possible), else None."""
    rng = np.random.default_rng([settings.seed, zlib.crc32(f"{ref_job}|{job}".encode())])
    a, b = counts[counts["job"] == ref_job], counts[counts["job"] == job]
    shared = a.merge(b, on=["value", "screenshot_id"], suffixes=("_a", "_b"))
    if not shared.empty:
        values = [v for v in VALUES if v in set(shared["value"])]
        idx = shared["value"].map(values.index).to_numpy()
        unit = pd.factorize(shared["screenshot_id"])[0]
        v = len(values)
        rates = rate_replicates(
            np.r_[shared["yes_a"], shared["yes_b"]], np.r_[shared["n_a"], shared["n_b"]],
            np.r_[unit, unit], np.r_[idx, idx + v], 2 * v, n_boot=settings.n_boot, rng=rng)
        n_shared = np.bincount(idx, minlength=v)
        return Paired(values, Rates(rates.point[:v], rates.boot[:, :v]),
                      Rates(rates.point[v:], rates.boot[:, v:]), n_shared, "paired")
    return _from_scores(data.scores, ref_job, job, settings.n_boot, rng)


def _from_scores(scores: pd.DataFrame, ref_job: str, job: str, n_boot: int,
                 rng: np.random.Generator) -> Paired | None:  # fmt: skip
    sides = [scores[scores["job"] == j].set_index("value") for j in (ref_job, job)]
    values = [v for v in VALUES if all(v in s.index for s in sides)]
    if not values:
        return None
    out = []
    for side in sides:
        s = side.reindex(values)
        point = s["score"].to_numpy(float)
        cols = {"ci_low", "ci_high"} <= set(s.columns)
        se = ((s["ci_high"] - s["ci_low"]).to_numpy(float) / (2 * 1.96) if cols
              else np.full(len(values), np.nan))  # fmt: skip
        out.append((point, se))
    if any(np.isnan(se).any() for _, se in out):
        return Paired(values, Rates(out[0][0], None), Rates(out[1][0], None),  # type: ignore[arg-type]
                      np.zeros(len(values), int), "none")
    rates = [Rates(p, p + se * rng.standard_normal((n_boot, len(p)))) for p, se in out]
    return Paired(values, rates[0], rates[1], np.zeros(len(values), int), "independent")
