"""Known truth: for SIMULATED-respondent jobs, how well the pipeline recovers a known profile,
and how many images a value needs before one pays for a real model.

``true_score`` (scores table) is the simulated respondent's expected score on the images it was
shown. Per value: the recovered score, its error (recovered - true) and whether its interval
holds the truth; per job: the mean absolute error, the largest error, the CI coverage (of ten
values, about 9.5 should be covered by 95% intervals) and the rank correlation.

The power curve (``stats/power.py``) simulates the same true profile at 5 to 200 images per
value (n = retrieve.k x keywords) in two designs: more keywords at the run's images per keyword,
or more images per keyword at the run's keywords. Keywords get the between-keyword spread seen
in the run (``keyword_scores``, else its answers; 0 without either, which makes the curve a
lower bound). Images beyond the keyword spread stop helping; more keywords always do.
"""

from __future__ import annotations

import zlib

import numpy as np
import pandas as pd

from valuespectrum.report.known_truth_figures import power_figure, recovery_figure
from valuespectrum.report.sections import ReportData, ReportSettings, Section
from valuespectrum.stats.power import allocation, keyword_spread, simulate
from valuespectrum.stats.ranks import rank_correlation
from valuespectrum.values import LABELS, VALUES

KEY = "known_truth"
GRID = (5, 10, 25, 50, 100, 200)  # images per value
TARGET_WIDTHS = (20.0, 10.0)  # points: +-10- and +-5-point 95% intervals, named in the text
MAX_SIM = 1000
ANSWERED = ("yes", "no", "refusal", "invalid")
DESIGNS = {"keywords": "more keywords (run's images per keyword)",
           "images_per_keyword": "more images per keyword (run's keywords)"}  # fmt: skip


def simulated_jobs(data: ReportData) -> list[str]:
    """Jobs of a simulated respondent whose scores carry a true score."""
    if "true_score" not in data.scores or data.runs.empty:
        return []
    simulated = data.runs.loc[data.runs["simulated"].eq(True), "job"]
    known = data.scores.loc[data.scores["true_score"].notna(), "job"]
    return [str(j) for j in pd.unique(simulated) if j in set(known)]


def recovery_table(scores: pd.DataFrame, jobs: list[str]) -> pd.DataFrame:
    """Per job and value: true, recovered, error, interval and whether it covers the truth."""
    s = scores[scores["job"].isin(jobs) & scores["true_score"].notna()].copy()
    s = s.assign(_v=s["value"].map(VALUES.index)).sort_values(["job", "_v"], kind="stable")
    s["error"] = s["score"] - s["true_score"]
    s["covered"] = (s["ci_low"] <= s["true_score"]) & (s["true_score"] <= s["ci_high"])
    cols = ["job", "value", "true_score", "score", "error", "ci_low", "ci_high", "covered"]
    return s[cols].reset_index(drop=True)


def summary_table(recovery: pd.DataFrame) -> pd.DataFrame:
    rows = []
    for job, g in recovery.groupby("job", sort=False):
        rho = rank_correlation(dict(zip(g["value"], g["score"], strict=True)),
                               dict(zip(g["value"], g["true_score"], strict=True)))
        rows.append({"job": job, "n_values": len(g), "mae": g["error"].abs().mean(),
                     "mean_error": g["error"].mean(), "max_abs_error": g["error"].abs().max(),
                     "coverage": g["covered"].mean(), "rank_rho": rho})  # fmt: skip
    return pd.DataFrame(rows)


def keyword_counts(data: ReportData, job: str) -> pd.DataFrame | None:
    """(value, keyword, yes, n, images) of a job: its keyword table, else its answers."""
    ks = data.keyword_scores
    if not ks.empty and {"n", "n_yes"} <= set(ks.columns):
        k = ks[ks["job"] == job]
        if not k.empty:
            images = k["n_images"] if "n_images" in k else k["n"]
            return pd.DataFrame({"value": k["value"], "keyword": k["keyword"],
                                 "yes": k["n_yes"].astype(float), "n": k["n"].astype(float),
                                 "images": images.astype(float)})  # fmt: skip
    a = data.answers
    if a.empty or "keyword" not in a:
        return None
    a = a[(a["job"] == job) & a["outcome"].isin(ANSWERED)]
    if "keying" in a:  # the score's answers: the reverse-keyed ones are the checks'
        a = a[a["keying"].isna() | (a["keying"] == "forward")]
    if a.empty:
        return None
    g = a.assign(yes=(a["outcome"] == "yes").astype(float)).groupby(["value", "keyword"])
    return pd.DataFrame({"yes": g["yes"].sum(), "n": g["yes"].size().astype(float),
                         "images": g["screenshot_id"].nunique().astype(float)}).reset_index()


def power_table(data: ReportData, job: str, settings: ReportSettings) -> pd.DataFrame:
    """The power curve of one simulated job: per design and n, error and interval width."""
    truth = data.scores[(data.scores["job"] == job) & data.scores["true_score"].notna()]
    true = truth.set_index("value")["true_score"].reindex([v for v in VALUES
                                                           if v in set(truth["value"])])
    counts = keyword_counts(data, job)
    if counts is not None and not counts.empty:
        spread = keyword_spread(counts["yes"], counts["n"], counts["value"].map(VALUES.index))
        keywords = int(counts.groupby("value")["keyword"].nunique().median())
        per_keyword = max(1, round(float(counts["images"].median())))
        source = "run"
    else:
        spread, keywords, per_keyword, source = 0.0, 10, 5, "assumed (no keyword data)"
    rng = np.random.default_rng([settings.seed, zlib.crc32(job.encode())])
    n_sim = min(settings.n_boot, MAX_SIM)
    rows = []
    for design in DESIGNS:
        for n in GRID:
            k = -(-n // per_keyword) if design == "keywords" else keywords
            images = allocation(n, k)
            point = simulate(true.to_numpy(float), images, spread, n_sim=n_sim, rng=rng)
            rows.append({"job": job, "design": design, "n_images": n, "keywords": len(images),
                         "images_per_keyword": n / len(images), "mae": point.mae.mean(),
                         "ci_width": point.width.mean(), "ci_width_max": point.width.max(),
                         "keyword_sd": 100 * spread, "run_keywords": keywords,
                         "run_images_per_keyword": per_keyword, "spread_from": source,
                         "n_sim": n_sim})  # fmt: skip
    return pd.DataFrame(rows)


def build(data: ReportData, settings: ReportSettings) -> Section | None:
    """The known-truth section; None when no selected job is a simulated respondent."""
    jobs = simulated_jobs(data)
    if not jobs:
        return None
    recovery = recovery_table(data.scores, jobs)
    summary = summary_table(recovery)
    power = pd.concat([power_table(data, j, settings) for j in jobs], ignore_index=True)
    section = Section(KEY, "Known truth: SIMULATED respondent, recovered vs true profile")
    section.tables = {"known_truth_values": recovery, "known_truth_summary": summary,
                      "known_truth_power": power}  # fmt: skip
    section.text = _text(summary, recovery, power)
    section.figures = [recovery_figure(recovery), power_figure(power, DESIGNS)]
    section.flags = [f"{r['job']}: only {r['coverage']:.0%} of the intervals hold the true "
                     "score (expected about 95%)" for _, r in summary.iterrows()
                     if r["n_values"] >= 5 and r["coverage"] < 0.7]  # fmt: skip
    return section


def needed(power: pd.DataFrame, design: str, width: float) -> str:
    """The smallest grid n whose worst value's interval is at most ``width`` points wide."""
    g = power[(power["design"] == design) & (power["ci_width_max"] <= width)]
    return f"about {int(g['n_images'].min())}" if not g.empty else f"more than {GRID[-1]}"


def _text(summary: pd.DataFrame, recovery: pd.DataFrame, power: pd.DataFrame) -> list[str]:
    text = ["SIMULATED respondent: these numbers check the instrument (prompting, parsing, "
            "scoring) against a known profile; they say nothing about any real model."]
    for _, r in summary.iterrows():
        g = recovery[recovery["job"] == r["job"]]
        worst = g.loc[g["error"].abs().idxmax()]
        text.append(f"{r['job']}: mean absolute error {r['mae']:.1f} points (bias "
                    f"{r['mean_error']:+.1f}); largest {worst['error']:+.1f} "
                    f"({LABELS[worst['value']]}); {int(g['covered'].sum())} of {len(g)} "
                    f"intervals hold the true score; rank correlation {r['rank_rho']:.2f}.")
    for job, g in power.groupby("job", sort=False):
        r = g.iloc[0]
        parts = [f"±{w / 2:g} points, {needed(g, 'keywords', w)} with more keywords "
                 f"({r['run_images_per_keyword']} images each) or "
                 f"{needed(g, 'images_per_keyword', w)} with more images on the run's "
                 f"{r['run_keywords']} keywords" for w in TARGET_WIDTHS]
        text.append(f"{job}: images a value needs for a 95% interval of {'; of '.join(parts)} "
                    f"(keyword spread {r['keyword_sd']:.1f} points, {r['spread_from']}).")
    return text
