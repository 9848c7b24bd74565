"""Structure check: across the selected jobs, do the ten scores behave like Schwartz values?

Each job's profile is centred (score minus the job's mean over its values, so a model that
says yes to everything does not make every pair correlate); for each pair of values, the
Pearson correlation of their centred scores across jobs is set against the pair's distance on
the circle (``stats/structure.py``: Spearman's rho, a Mantel test with a permutation p-value
that shuffles the values' places on the circle). Neighbours should correlate more than
opposites, so a circumplex-like set of profiles gives a negative rho and a small p. The angles
are a setting (``scoring.circumplex``: schwartz | shared_wedge, or ``circumplex_angles`` per
value); ``hedonism_in`` places Hedonism for the higher-order summary (mean r of pairs within a
group, between adjacent groups and between opposite groups).

Correlations across few jobs are noisy (three jobs give each r two degrees of freedom); the
permutation p-value accounts for that, a reader should still prefer many jobs.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from valuespectrum.report.plots import _pyplot, _save
from valuespectrum.report.sections import Figure, ReportData, ReportSettings, Section
from valuespectrum.stats.structure import (
    centred_rows,
    circle_distances,
    circle_test,
    pair_correlations,
)
from valuespectrum.values import CIRCUMPLEX_LAYOUTS, LABELS, VALUES, higher_order_groups

KEY = "structure"
MIN_JOBS = 3
OPPOSITE = {frozenset(("openness_to_change", "conservation")),
            frozenset(("self_enhancement", "self_transcendence"))}  # fmt: skip


def angles_of(settings: ReportSettings) -> dict[str, float]:
    """The values' angles (degrees): ``circumplex_angles`` if given, else the named layout."""
    if settings.circumplex_angles:
        missing = [v for v in VALUES if v not in settings.circumplex_angles]
        if missing:
            raise ValueError(f"scoring.circumplex_angles lacks {missing}; give all ten values")
        return {v: float(settings.circumplex_angles[v]) for v in VALUES}
    if settings.circumplex not in CIRCUMPLEX_LAYOUTS:
        raise ValueError(f"scoring.circumplex={settings.circumplex!r} is not known; use one of "
                         f"{', '.join(CIRCUMPLEX_LAYOUTS)} or set scoring.circumplex_angles")
    return dict(CIRCUMPLEX_LAYOUTS[settings.circumplex])


def profile_matrix(scores: pd.DataFrame) -> pd.DataFrame:
    """Jobs x values of ``score`` (values in circumplex order, NaN where a job lacks one)."""
    if scores.empty:
        return pd.DataFrame(columns=list(VALUES))
    table = scores.pivot_table(index="job", columns="value", values="score", sort=False)
    return table.reindex(columns=[v for v in VALUES if v in table.columns])


def relation(a: str, b: str, group_of: dict[str, str]) -> str:
    ga, gb = group_of[a], group_of[b]
    if ga == gb:
        return "within"
    return "opposite" if frozenset((ga, gb)) in OPPOSITE else "adjacent"


def build(data: ReportData, settings: ReportSettings) -> Section | None:
    """The structure section; None without scores, a note with fewer than three jobs."""
    matrix = profile_matrix(data.scores)
    matrix = matrix[matrix.notna().sum(axis=1) >= 4]  # a job needs a profile to centre
    if matrix.empty:
        return None
    section = Section(KEY, "Structure: do the scores follow Schwartz's circle?")
    if len(matrix) < MIN_JOBS:
        section.text = [f"Not enough runs: the structure check correlates values across jobs "
                        f"and needs at least {MIN_JOBS} (models, personas or prompts); this "
                        f"report has {len(matrix)}."]
        return section
    angles = angles_of(settings)
    values = list(matrix.columns)
    r, n = pair_correlations(centred_rows(matrix.to_numpy(float)))
    rng = np.random.default_rng(settings.seed)
    test = circle_test(r, np.array([angles[v] for v in values]), n_perm=settings.n_perm, rng=rng)
    group_of = {v: g for g, m in higher_order_groups(settings.hedonism_in).items() for v in m}
    dist = circle_distances(np.array([angles[v] for v in values]))
    kept = {values[k] for k in test.kept}
    pairs = pd.DataFrame([
        {"a": values[i], "b": values[j], "distance": dist[i, j], "r": r[i, j],
         "n_jobs": int(n[i, j]), "relation": relation(values[i], values[j], group_of),
         "in_test": values[i] in kept and values[j] in kept}
        for i in range(len(values)) for j in range(i + 1, len(values))
    ])  # fmt: skip
    means = pairs.groupby("relation")["r"].mean()
    summary = pd.DataFrame([{
        "rho": test.rho, "p": test.p, "n_jobs": len(matrix), "n_values": len(test.kept),
        "n_pairs": test.n_pairs, "n_perm": test.n_perm,
        "circumplex": "custom" if settings.circumplex_angles else settings.circumplex,
        "hedonism_in": settings.hedonism_in, **{f"mean_r_{k}": means.get(k, np.nan)
                                                for k in ("within", "adjacent", "opposite")},
    }])  # fmt: skip
    section.tables = {"structure_test": summary, "structure_pairs": pairs}
    section.text = _text(summary.iloc[0], values, kept)
    tables = _published(data.runs, list(matrix.index))
    if tables:
        section.text.append(f"{tables} of the jobs are published tables given as input (e.g. "
                            "the paper's), not runs.")
    section.figures = [_figure(pairs, test.rho, test.p)]
    return section


def _published(runs: pd.DataFrame, jobs: list[str]) -> int:
    if "source" not in runs or runs.empty:
        return 0
    return int(runs[runs["job"].isin(jobs)]["source"].eq("table").sum())


def _text(s: pd.Series, values: list[str], kept: set[str]) -> list[str]:
    verdict = ("neighbours on the circle correlate more than opposites, as Schwartz's values do"
               if s["p"] < 0.05 and s["rho"] < 0 else
               "no evidence that the scores follow the circle (or too few jobs to tell)")
    text = [f"Across {s['n_jobs']} jobs, Spearman's rho between pair correlation and circle "
            f"distance is {s['rho']:+.2f} (permutation p = {s['p']:.3g}, {s['n_perm']} "
            f"shufflings of the values' places, one-sided for neighbours correlating more): "
            f"{verdict}.",
            f"Mean pair correlation of centred scores: within a higher-order group "
            f"{s['mean_r_within']:+.2f}, adjacent groups {s['mean_r_adjacent']:+.2f}, opposite "
            f"groups {s['mean_r_opposite']:+.2f} (Hedonism in {s['hedonism_in']}; angles: "
            f"{s['circumplex']}). Centring alone makes the average r -1/9, not 0."]  # fmt: skip
    dropped = [LABELS[v] for v in values if v not in kept]
    if dropped:
        text.append(f"Left out of the test (constant or missing across jobs): "
                    f"{', '.join(dropped)}.")
    return text


def _figure(pairs: pd.DataFrame, rho: float, p: float) -> Figure:
    def draw(path):
        plt = _pyplot()
        fig, ax = plt.subplots(figsize=(5.2, 3.6))
        colors = {"within": "#1f77b4", "adjacent": "#7f7f7f", "opposite": "#d62728"}
        for kind, g in pairs.groupby("relation"):
            ax.scatter(g["distance"], g["r"], s=16, alpha=0.8, color=colors.get(kind),
                       label=f"{kind} higher-order group")  # fmt: skip
        means = pairs.groupby("distance")["r"].mean()
        ax.plot(means.index, means.to_numpy(), color="black", lw=1.2, label="mean per distance")
        ax.axhline(0, color="#aaaaaa", lw=0.7)
        ax.set_xlabel("distance on the circle (degrees)", fontsize=9)
        ax.set_ylabel("correlation across jobs\n(centred scores)", fontsize=9)
        ax.set_ylim(-1.05, 1.05)
        ax.set_title(f"Pair correlation vs circle distance (rho = {rho:+.2f}, p = {p:.3g})",
                     fontsize=10)  # fmt: skip
        ax.legend(fontsize=7, frameon=False, loc="best")
        ax.tick_params(labelsize=8)
        fig.tight_layout()
        return _save(fig, path)

    return Figure("structure_circle", "Each dot is a pair of values: how strongly their centred "
                  "scores move together across jobs, against how far apart they sit on "
                  "Schwartz's circle (adjacent should correlate more than opposite).", draw)
