"""The report's profile section: the paper's models x values table, regenerated from the runs.

One row per job (a model, or a model under one setting of a sweep), the ten values in the
paper's column order, each score with its 95% CI; beside it the paper's published row for the
same model (report/paper_rows.py) with Spearman rho and the mean difference; the paper's
summary statistics (the std across each model's ten scores, ddof=1, and the mean per value
across models) with the binomial noise that alone would give a spread (stats/spread.py); the
centred scores; the refusal / invalid / error / no-image rates; and the per-keyword drill-down.

A published table given as input (``runs.source == "table"``, scores only) goes through the
same summary, which is how the paper's own numbers are reproduced: its per-model stds and
per-value means are printed to three significant figures, rounded half up, as the paper prints
them. A simulated respondent is labelled SIMULATED in every table and figure it appears in.
"""

from __future__ import annotations

import math
from decimal import ROUND_HALF_UP, Decimal

import numpy as np
import pandas as pd

from valuespectrum.report import profiles_figures as figs
from valuespectrum.report.paper import IMAGES_PER_VALUE, INTRINSIC, PAPER_STD
from valuespectrum.report.paper_rows import SAME_MODEL, intrinsic_row
from valuespectrum.report.profile import SIMULATED_NOTE
from valuespectrum.report.sections import ReportData, ReportSettings, Section
from valuespectrum.stats.ranks import rank_correlation
from valuespectrum.stats.spread import noise_corrected_std, noise_variance, spread_summary
from valuespectrum.values import LABELS, PAPER_AXIS_ORDER, VALUES

KEY = "profiles"
TITLE = "Value profiles: the models x values table"


def sig3(x: float) -> str:
    """``x`` to three significant figures, half up (16.47 -> "16.5", 73.25 -> "73.3",
    55 -> "55.0"): the precision the paper prints its summary statistics in."""
    if x is None or not math.isfinite(x):
        return "-"
    if x == 0:
        return "0.00"
    exponent = math.floor(math.log10(abs(x)))
    step = Decimal(1).scaleb(exponent - 2)
    return str(Decimal(repr(float(x))).quantize(step, rounding=ROUND_HALF_UP))


def _jobs(data: ReportData, scores: pd.DataFrame) -> pd.DataFrame:
    """The jobs that have scores, in the runs' order: name (unique, SIMULATED said), model,
    source, simulated, the paper row they stand beside and why."""
    runs = data.runs[data.runs["job"].isin(set(scores["job"]))].copy()
    runs["simulated"] = runs["simulated"].fillna(False).astype(bool)
    base = [str(lbl) if isinstance(lbl, str) and lbl else str(job)
            for lbl, job in zip(runs["label"], runs["job"], strict=True)]  # fmt: skip
    dup = pd.Series(base).duplicated(keep=False).to_numpy()
    runs["name"] = [f"{b} [{j}]" if d else b for b, j, d in zip(base, runs["job"], dup,
                                                                 strict=True)]  # fmt: skip
    runs["name"] = [f"{n} (SIMULATED)" if s else n
                    for n, s in zip(runs["name"], runs["simulated"], strict=True)]  # fmt: skip
    rows, bases = [], []
    for r in runs.itertuples():
        truth = getattr(r, "true_profile", None)  # the profile it was given, not its expectation
        truth = truth if isinstance(truth, dict) else None
        match = intrinsic_row(str(r.model), simulated=bool(r.simulated), true_profile=truth)
        rows.append(match[0] if match else "")  # "" not None: pandas would make it NaN
        bases.append(match[1] if match else "")
    runs["paper_row"], runs["basis"] = rows, bases
    return runs.set_index("job")[["name", "model", "source", "simulated", "paper_row", "basis"]]


def _cell(score: float, lo: float, hi: float) -> str:
    if not math.isfinite(score):
        return "-"
    if not (math.isfinite(lo) and math.isfinite(hi)):
        return f"{score:.1f}"
    return f"{score:.1f} [{lo:.1f}, {hi:.1f}]"


def _profiles_table(jobs: pd.DataFrame, scores: pd.DataFrame) -> pd.DataFrame:
    """The paper's table: a row per job, the ten values in its column order, score [95% CI]."""
    rows = []
    for job, j in jobs.iterrows():
        part = scores[scores["job"] == job].set_index("value")
        row = {"job": job, "model": j["name"], "source": j["source"]}
        for v in PAPER_AXIS_ORDER:
            r = part.loc[v] if v in part.index else None
            row[LABELS[v]] = "-" if r is None else _cell(
                float(r["score"]), float(r.get("ci_low", np.nan)), float(r.get("ci_high", np.nan)))
        rows.append(row)
    return pd.DataFrame(rows)


def _comparison(jobs: pd.DataFrame, wide: pd.DataFrame, scores: pd.DataFrame):
    """Per matched job: rho and mean difference vs its paper row; and per value, the two
    scores, the difference and whether the paper's score lies inside our CI."""
    summary, detail = [], []
    for job, j in jobs.iterrows():
        if not j["paper_row"] or j["source"] == "table":
            continue
        paper = INTRINSIC[j["paper_row"]]
        ours = {v: float(s) for v, s in wide.loc[job].items() if pd.notna(s)}
        diffs = [ours[v] - paper[v] for v in VALUES if v in ours]
        summary.append({
            "job": job, "model": j["name"], "paper_row": j["paper_row"], "basis": j["basis"],
            "rho": rank_correlation(ours, paper), "mean_difference": float(np.mean(diffs)),
            "mean_abs_difference": float(np.mean(np.abs(diffs))), "n_values": len(diffs),
        })  # fmt: skip
        part = scores[scores["job"] == job].set_index("value")
        for v in VALUES:
            if v not in ours:
                continue
            lo, hi = float(part.at[v, "ci_low"]), float(part.at[v, "ci_high"])
            inside = bool(lo <= paper[v] <= hi) if math.isfinite(lo) and math.isfinite(hi) else None
            detail.append({
                "job": job, "model": j["name"], "value": LABELS[v], "ours": ours[v],
                "ci_low": lo, "ci_high": hi, "paper": paper[v], "difference": ours[v] - paper[v],
                "paper_inside_ci": inside,
            })  # fmt: skip
    return pd.DataFrame(summary), pd.DataFrame(detail)


def _spread(jobs: pd.DataFrame, scores: pd.DataFrame) -> pd.DataFrame:
    """Per job: mean, std (ddof=1) and the binomial noise's share of it. A published table has
    no counts: its noise is that of the paper's 50 images per value."""
    rows = []
    for job, j in jobs.iterrows():
        part = scores[scores["job"] == job].set_index("value").reindex(VALUES)
        part = part[part["score"].notna()]
        s = part["score"].to_numpy(float)
        n = part["n_images"].to_numpy(float) if "n_images" in part else np.full(len(s), np.nan)
        n = np.where(np.isfinite(n) & (n > 0), n, IMAGES_PER_VALUE)
        summ = spread_summary(dict(zip(part.index, s, strict=True)),
                              dict(zip(part.index, n, strict=True)))  # fmt: skip
        var = (part["noise_se"].to_numpy(float) ** 2) if "noise_se" in part else None
        paper_std = PAPER_STD.get(j["paper_row"]) if j["paper_row"] else None
        rows.append({
            "job": job, "model": j["name"], "n_values": len(s), "mean": float(np.mean(s)),
            "std": summ["std"], "std_printed": sig3(summ["std"]),
            "noise_std": float(np.sqrt(noise_variance(s, n, var))),
            "std_noise_corrected": noise_corrected_std(s, n, var),
            "homogeneity_p": summ["homogeneity_p"],
            "paper_std": np.nan if paper_std is None else paper_std,
        })  # fmt: skip
    return pd.DataFrame(rows)


def _value_means(wide: pd.DataFrame) -> pd.DataFrame:
    paper = pd.DataFrame(INTRINSIC).mean(axis=1)
    rows = [{"value": LABELS[v], "mean": float(wide[v].mean()), "mean_printed":
             sig3(float(wide[v].mean())), "sd_across_jobs": float(wide[v].std(ddof=1)),
             "n_jobs": int(wide[v].notna().sum()), "paper_mean": float(paper[v])}
            for v in VALUES if v in wide.columns]  # fmt: skip
    return pd.DataFrame(rows).sort_values("mean", ascending=False, kind="stable")


RATES = ("refusal_rate", "invalid_rate", "error_rate", "no_image_rate")


def _rates(jobs: pd.DataFrame, scores: pd.DataFrame) -> pd.DataFrame:
    """Per job, over all its values: refusals and invalid replies as shares of the answers,
    errors and replies that never saw the image as shares of all attempts (probe/scoring.py).
    Jobs without counts (a published table) have no row."""
    rows = []
    for job, j in jobs.iterrows():
        part = scores[scores["job"] == job]
        sums = {c: float(part[c].fillna(0).sum()) if c in part else 0.0
                for c in ("n", "n_refusal", "n_invalid", "n_error", "n_no_image")}  # fmt: skip
        total = sums.__getitem__
        n = total("n")
        if n <= 0 and total("n_error") <= 0:
            continue
        attempts = n + total("n_error") + total("n_no_image")
        rows.append({
            "job": job, "model": j["name"], "n": int(n), "attempts": int(attempts),
            "refusal_rate": total("n_refusal") / n if n else np.nan,
            "invalid_rate": total("n_invalid") / n if n else np.nan,
            "error_rate": total("n_error") / attempts, "no_image_rate":
            total("n_no_image") / attempts,
        })  # fmt: skip
    return pd.DataFrame(rows, columns=["job", "model", "n", "attempts", *RATES])


def _keywords(jobs: pd.DataFrame, keyword_scores: pd.DataFrame) -> pd.DataFrame:
    if keyword_scores.empty:
        return pd.DataFrame()
    kw = keyword_scores[keyword_scores["job"].isin(jobs.index)].copy()
    kw["model"] = kw["job"].map(jobs["name"])
    kw["order"] = kw["job"].map({j: i for i, j in enumerate(jobs.index)})
    kw["v"] = kw["value"].map({v: i for i, v in enumerate(VALUES)})
    kw = kw.sort_values(["order", "v", "keyword"], kind="stable")
    kw["value"] = kw["value"].map(lambda v: LABELS.get(v, v))
    kw["driver"] = kw["driver"].fillna(False).astype(bool)
    cols = ["job", "model", "value", "keyword", "n", "n_images", "n_yes", "score", "ci_low",
            "ci_high", "loo_shift", "driver"]  # fmt: skip
    return kw[[c for c in cols if c in kw.columns]].reset_index(drop=True)


def _summary_text(spread: pd.DataFrame, means: pd.DataFrame, comparison: pd.DataFrame,
                  jobs: pd.DataFrame) -> list[str]:  # fmt: skip
    by_std = spread.sort_values("std", ascending=False, kind="stable")
    text = [
        "Scores are % yes per value with their 95% bootstrap CI; a published table given as"
        " input has scores only.",
        "Std across each model's values (ddof=1, the paper's), high to low: "
        + ", ".join(f"{r.model} {r.std_printed}" for r in by_std.itertuples()) + ".",
        f"Mean per value across the {len(jobs)} job(s), high to low: "
        + ", ".join(f"{r.value} {r.mean_printed}" for r in means.itertuples()) + ".",
    ]
    for r in comparison.itertuples():
        who = r.model if r.basis == SAME_MODEL else f"{r.model} ({r.basis})"
        text.append(f"{who} vs the paper's {r.paper_row}: Spearman rho {r.rho:+.2f}, mean "
                    f"difference {r.mean_difference:+.1f} points (ours - paper).")
    if jobs["simulated"].any():
        text.append(SIMULATED_NOTE + ".")
    return text


def build(data: ReportData, settings: ReportSettings) -> Section | None:
    """The profile section, or None when no selected job has value scores."""
    scores = data.scores[data.scores["value"].isin(VALUES)] if len(data.scores) else data.scores
    if scores.empty:
        return None
    jobs = _jobs(data, scores)
    scores = scores[scores["job"].isin(jobs.index)]
    wide = scores.pivot_table(index="job", columns="value", values="score", aggfunc="first")
    wide = wide.reindex(index=jobs.index, columns=[v for v in VALUES if v in wide.columns])
    comparison, detail = _comparison(jobs, wide, scores)
    spread, means = _spread(jobs, scores), _value_means(wide)
    rates, keywords = _rates(jobs, scores), _keywords(jobs, data.keyword_scores)
    tables = {"profiles": _profiles_table(jobs, scores), "paper_comparison": comparison,
              "paper_differences": detail, "spread": spread, "value_means": means,
              "rates": rates, "keyword_scores": keywords}  # fmt: skip
    section = Section(key=KEY, title=TITLE, text=_summary_text(spread, means, comparison, jobs),
                      tables={k: t for k, t in tables.items() if not t.empty})  # fmt: skip
    if len(keywords) and keywords["driver"].any():
        for r in keywords[keywords["driver"]].itertuples():
            section.flags.append(f"{r.model}: {r.value} rests on the keyword {r.keyword!r} "
                                 f"(leaving it out moves the score {r.loo_shift:+.1f} points)")
    section.figures = figs.profile_figures(jobs, wide, scores, spread, rates, settings)
    return section
