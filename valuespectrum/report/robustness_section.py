"""Robustness: how much each way of asking moves each value, and which values change rank.

Axes are the ``factor.<key>`` columns of ``ReportData.runs`` that describe how the question was
asked (a paraphrase preset, the answer order, the keying, the system prompt, a blank image,
repeated sampling, ...). Factors that say *what* is measured (the model, the modality, the
role-play settings: ``robustness_pairs.DESIGN_FACTORS``) are held fixed as the comparison's
context instead. For each
axis, jobs that agree on every other factor are compared level by level against the first level
(the reference, in the sweep's order): per value, the score at the level minus the reference's,
with a paired bootstrap over the screenshots both jobs answered (``stats/paired.py``). Scores
count forward-keyed answers only; yes / no / refusal / invalid are answers, error and no_image
are not scored (as ``probe/scoring.py``). A value's rank change is flagged only when it swaps
order with another value beyond noise (``stats.paired.order_reversals``).

Within one run, counterbalanced asking gives two more effects per value and overall (the mean
over values): the order effect, yes% asked "Yes or No" minus yes% asked "No or Yes" (forward
answers), and the acquiescence index, yes% forward + yes% reverse - 100 (0 for a respondent
whose "yes" to "Would you scroll past this?" means "no" to "Do you like it?"; positive for one
who says yes to both). The blank-image control (``probe.image=blank``) is the baseline: the
yes-rate of a model that sees nothing but the question, so it is reported beside the
screenshots' scores (``robustness_blank_baseline``) and never as a shift or a rank change.
"""

from __future__ import annotations

import zlib

import numpy as np
import pandas as pd

from valuespectrum.report.robustness_figures import baseline_figure, shift_figure
from valuespectrum.report.robustness_pairs import (
    ANSWERED,
    BLANK,
    Comparison,
    Paired,
    comparisons,
    image_counts,
    pair,
)
from valuespectrum.report.sections import ReportData, ReportSettings, Section
from valuespectrum.stats.paired import interval, order_reversals, rate_replicates
from valuespectrum.stats.ranks import rankdata
from valuespectrum.values import LABELS, VALUES

KEY = "robustness"
SHIFT_COLUMNS = ("factor", "context", "reference", "level", "reference_job", "job", "value",
                 "reference_score", "score", "shift", "ci_low", "ci_high", "n_shared",
                 "ci_method", "reference_rank", "rank", "rank_changed", "swapped_with")  # fmt: skip
WITHIN_COLUMNS = ("job", "effect", "value", "estimate", "ci_low", "ci_high", "n_images")


def shift_rows(c: Comparison, p: Paired, ci: float = 0.95) -> list[dict]:
    """One row per value: both scores, the shift with its interval, ranks and reversals."""
    shift = p.other.point - p.reference.point
    lo = hi = np.full(len(p.values), np.nan)
    if p.reference.boot is not None and p.other.boot is not None:
        lo, hi = interval(p.other.boot - p.reference.boot, ci)
    swaps: dict[int, list[str]] = {}
    for r in order_reversals(p.reference.point, p.other.point, p.reference.boot, p.other.boot,
                             ci):  # fmt: skip
        swaps.setdefault(r.a, []).append(LABELS[p.values[r.b]])
        swaps.setdefault(r.b, []).append(LABELS[p.values[r.a]])
    rank0, rank1 = rankdata(-p.reference.point), rankdata(-p.other.point)
    return [
        {"factor": c.factor, "context": c.context, "reference": c.reference, "level": c.level,
         "reference_job": c.reference_job, "job": c.job, "value": v,
         "reference_score": p.reference.point[i], "score": p.other.point[i], "shift": shift[i],
         "ci_low": lo[i], "ci_high": hi[i], "n_shared": int(p.n_shared[i]),
         "ci_method": p.method, "reference_rank": rank0[i], "rank": rank1[i],
         "rank_changed": i in swaps, "swapped_with": ", ".join(swaps.get(i, []))}
        for i, v in enumerate(p.values)
    ]  # fmt: skip


def range_table(shifts: pd.DataFrame) -> pd.DataFrame:
    """Per axis, context and value: the range of the score across all levels (reference too)."""
    rows = []
    for (factor, context, value), g in shifts.groupby(["factor", "context", "value"], sort=False):
        scores = pd.concat([
            pd.Series([g["reference_score"].iloc[0]], index=[g["reference"].iloc[0]]),
            pd.Series(g["score"].to_numpy(), index=g["level"].to_numpy())])
        rows.append({"factor": factor, "context": context, "value": value,
                     "range": scores.max() - scores.min(), "lowest": scores.idxmin(),
                     "highest": scores.idxmax(), "levels": len(scores)})  # fmt: skip
    return pd.DataFrame(rows, columns=["factor", "context", "value", "range", "lowest",
                                       "highest", "levels"])  # fmt: skip


def within_run_table(answers: pd.DataFrame, settings: ReportSettings,
                     cs: tuple[Comparison, ...] = ()) -> pd.DataFrame:  # fmt: skip
    """Order effect and acquiescence index per job that asked both ways (see module doc), and
    the acquiescence index of a forward-keyed job with its reverse-keyed twin (``cs`` with
    ``probe.keying`` forward vs reverse: the two jobs' answers pooled, paired by screenshot)."""
    rows: list[dict] = []
    if answers.empty:
        return pd.DataFrame(columns=list(WITHIN_COLUMNS))
    scored = answers[answers["outcome"].isin(ANSWERED)]
    for job, a in scored.groupby("job", sort=False):
        forward = a[a["keying"].isna() | (a["keying"] == "forward")] if "keying" in a else a
        if "answer_order" in a:
            rows += _effect(job, "order_effect", forward, "answer_order",
                            ("yes_first", "no_first"), -1.0, settings)  # fmt: skip
        if "keying" in a:
            rows += _effect(job, "acquiescence", a, "keying", ("forward", "reverse"), 1.0,
                            settings, offset=-100.0)  # fmt: skip
    for c in cs:
        if c.factor == "probe.keying" and {c.reference, c.level} == {"forward", "reverse"} \
                and "keying" in scored:
            both = scored[scored["job"].isin([c.reference_job, c.job])]
            rows += _effect(f"{c.reference_job} + {c.job}", "acquiescence", both, "keying",
                            ("forward", "reverse"), 1.0, settings, offset=-100.0)  # fmt: skip
    return pd.DataFrame(rows, columns=list(WITHIN_COLUMNS))


def _effect(job: str, name: str, a: pd.DataFrame, column: str, levels: tuple[str, str],
            sign: float, settings: ReportSettings, offset: float = 0.0) -> list[dict]:  # fmt: skip
    """rate(level 0) + sign·rate(level 1) + offset per value and overall (mean over values),
    over clear answers (yes / no) as the run's own checks (probe/checks.py): a refusal is
    neither agreement nor disagreement."""
    a = a[a[column].isin(levels) & a["outcome"].isin(("yes", "no"))]
    if set(a[column]) != set(levels):
        return []
    values = [v for v in VALUES if v in set(a["value"])]
    v = len(values)
    counts = a.assign(yes=(a["outcome"] == "yes").astype(float), n=1.0).groupby(
        [column, "value", "screenshot_id"], as_index=False)[["yes", "n"]].sum()
    group = counts["value"].map(values.index).to_numpy() + v * (counts[column] == levels[1])
    rng = np.random.default_rng([settings.seed, zlib.crc32(f"{job}|{name}".encode())])
    rates = rate_replicates(counts["yes"], counts["n"], pd.factorize(counts["screenshot_id"])[0],
                            group, 2 * v, n_boot=settings.n_boot, rng=rng)  # fmt: skip
    point = rates.point[:v] + sign * rates.point[v:] + offset
    boot = rates.boot[:, :v] + sign * rates.boot[:, v:] + offset
    point, boot = np.r_[point, np.nanmean(point)], np.c_[boot, np.nanmean(boot, axis=1)]
    lo, hi = interval(boot)
    images = counts.groupby("value")["screenshot_id"].nunique()
    names = [*values, "overall"]
    return [{"job": job, "effect": name, "value": n, "estimate": point[i], "ci_low": lo[i],
             "ci_high": hi[i], "n_images": int(images.get(n, images.sum()))}
            for i, n in enumerate(names)]  # fmt: skip


def _is_blank(c: Comparison) -> bool:
    return c.factor == "probe.image" and BLANK in (c.level, c.reference)


def baseline_table(data: ReportData, counts: pd.DataFrame, cs: list[Comparison],
                   settings: ReportSettings) -> pd.DataFrame:  # fmt: skip
    """Per screenshot job with a blank-image twin: each value's score, the blank job's, the
    difference (what the image itself adds) and the blank job's mean yes-rate (the baseline)."""
    rows = []
    for c in cs:
        if not _is_blank(c):
            continue
        blank, image = ((c.job, c.reference_job) if c.level == BLANK
                        else (c.reference_job, c.job))  # fmt: skip
        p = pair(data, counts, blank, image, settings)
        if p is None or p.method == "none":
            continue
        lo, hi = interval(p.other.boot - p.reference.boot)
        slo, shi = interval(p.other.boot)
        base = np.nanmean(p.reference.boot, axis=1)
        blo, bhi = interval(base[:, None])
        for i, v in enumerate(p.values):
            rows.append({"context": c.context, "job": image, "blank_job": blank, "value": v,
                         "score": p.other.point[i], "score_ci_low": slo[i],
                         "score_ci_high": shi[i], "blank_score": p.reference.point[i],
                         "above_blank": p.other.point[i] - p.reference.point[i],
                         "ci_low": lo[i], "ci_high": hi[i],
                         "baseline": float(np.nanmean(p.reference.point)),
                         "baseline_ci_low": blo[0], "baseline_ci_high": bhi[0]})  # fmt: skip
    return pd.DataFrame(rows)


def build(data: ReportData, settings: ReportSettings) -> Section | None:
    """The robustness section, or None when no asking factor varies and no run asked both
    ways."""
    cs = comparisons(data)
    counts = image_counts(data.answers)
    rows = []
    for c in cs:
        if _is_blank(c):  # a control, not a way of asking: it has no content to rank
            continue
        p = pair(data, counts, c.reference_job, c.job, settings)
        if p is not None:
            rows += shift_rows(c, p)
    shifts = pd.DataFrame(rows, columns=list(SHIFT_COLUMNS))
    within = within_run_table(data.answers, settings, tuple(cs))
    baseline = baseline_table(data, counts, cs, settings)
    if shifts.empty and within.empty and baseline.empty:
        return None
    section = Section(KEY, "Robustness: does the profile survive how the question is asked?")
    section.text = _text(shifts, within, baseline)
    if not shifts.empty:
        section.tables["robustness_shifts"] = shifts
        section.tables["robustness_ranges"] = range_table(shifts)
    if not within.empty:
        section.tables["robustness_within_run"] = within
    if not baseline.empty:
        section.tables["robustness_blank_baseline"] = baseline
        section.figures.append(baseline_figure(baseline))
    if not (shifts.empty and within.empty):
        section.figures.insert(0, shift_figure(shifts, within))
    if settings.rank_flag:
        section.flags = _flags(shifts)
    return section


def _flags(shifts: pd.DataFrame) -> list[str]:
    out = []
    for _, r in shifts[shifts["rank_changed"]].iterrows():
        where = f" ({r['context']})" if r["context"] else ""
        out.append(f"{LABELS[r['value']]}: rank {r['reference_rank']:g} -> {r['rank']:g} with "
                   f"{r['factor']}={r['level']} vs {r['reference']}{where}; swaps beyond noise "
                   f"with {r['swapped_with']}")  # fmt: skip
    return out


def _text(shifts: pd.DataFrame, within: pd.DataFrame, baseline: pd.DataFrame) -> list[str]:
    text = []
    for factor, g in shifts.groupby("factor", sort=False):
        worst = g.loc[g["shift"].abs().idxmax()]
        text.append(f"{factor}: {g['level'].nunique() + 1} levels; the largest shift is "
                    f"{worst['shift']:+.1f} points ({LABELS[worst['value']]}, {worst['level']} "
                    f"vs {worst['reference']}); mean |shift| {g['shift'].abs().mean():.1f}.")
    for (job, effect), g in within[within["value"] == "overall"].groupby(["job", "effect"]):
        r = g.iloc[0]
        name = "order effect (yes_first - no_first)" if effect == "order_effect" else \
            "acquiescence index (yes% forward + yes% reverse - 100)"
        text.append(f"{job}: {name} {r['estimate']:+.1f} points "
                    f"(95% CI {r['ci_low']:+.1f} to {r['ci_high']:+.1f}).")
    for (job, blank), g in (baseline.groupby(["job", "blank_job"], sort=False)
                            if not baseline.empty else ()):
        text.append(f"{job}: with a blank image ({blank}) the model says yes "
                    f"{g['baseline'].iloc[0]:.1f}% on average; values whose score is not above "
                    "that baseline carry no image-specific signal.")
    text.append("Shifts are a level's score minus the reference level's (the sweep's first), "
                "paired over the screenshots both jobs answered. A rank change is flagged only "
                "when two values swap order, the change of their gap is beyond its 95% "
                "interval, and the two were apart beyond noise on at least one side (values "
                "within noise of each other have no order to lose). The blank-image control "
                "is a baseline, not an axis: its ranks mean nothing.")
    return text
