"""The report's modality section: does reading a description instead of seeing the image change
the answer (paper.md section 7: 3 describers x 3 answerers)?

Each ``modality=description`` job is paired with the ``modality=image`` job that is the same in
every other factor (the same answerer model config and retrieval: their answers share screenshot
ids). Per (answerer, describer, value) the table gives both scores, the text-minus-image
difference on the screenshots both jobs answered, and its paired bootstrap CI: one resampling of
those screenshots per replicate, shared by both scores, so what the two jobs have in common
(which images were shown) cancels out of the difference. A value whose difference CI excludes 0
is flagged. The figure is a dot plot of the differences with their CIs, one row per value.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from valuespectrum.report.plots import _pyplot, _save
from valuespectrum.report.sections import Figure, ReportData, ReportSettings, Section
from valuespectrum.stats.bootstrap import percentile_interval
from valuespectrum.values import LABELS, VALUES

COUNTED = ("yes", "no", "refusal", "invalid")  # the score's n: errors and no_image are not
TABLE_COLUMNS = (
    "answerer", "describer", "value", "score_image", "score_text", "difference", "ci_low",
    "ci_high", "n_shared", "excludes_zero", "image_job", "text_job",
)


def pairs(data: ReportData) -> list[tuple[str, str, str, str]]:
    """(answerer, describer, image job, description job) for every description job that has an
    image job equal to it in every other factor, in the order of ``runs``."""
    runs = data.runs
    if "factor.modality" not in runs.columns:
        return []
    others = [c for c in runs.columns if c.startswith("factor.")
              and c not in ("factor.modality", "factor.describer")]
    key = runs[others].astype(str).agg("|".join, axis=1) if others else pd.Series("", runs.index)
    key = key + "|" + runs["model"].astype(str)
    images = runs[runs["factor.modality"] == "image"]
    out = []
    for i, row in runs[runs["factor.modality"] == "description"].iterrows():
        match = images[key[images.index] == key[i]]
        if match.empty:
            continue
        given = row.get("factor.describer") or row.get("describer")  # swept, or the job's own
        describer = str(given) if isinstance(given, str) and given else "describer"
        out.append((str(row["model"]), describer, str(match.iloc[0]["job"]), str(row["job"])))
    return out


def _counts(answers: pd.DataFrame, job: str) -> pd.DataFrame:
    """yes and counted answers per (value, screenshot) of ``job``: forward-keyed answers."""
    a = answers[answers["job"] == job]
    if "keying" in a.columns:
        a = a[a["keying"].isna() | (a["keying"] == "forward")]
    a = a.assign(yes=(a["outcome"] == "yes").astype(int), n=a["outcome"].isin(COUNTED).astype(int))
    return a.groupby(["value", "screenshot_id"])[["yes", "n"]].sum()


def paired_difference(image: pd.DataFrame, text: pd.DataFrame, *, n_boot: int,
                      rng: np.random.Generator) -> tuple[float, float, float, int]:
    """(text - image score, CI low, CI high, shared screenshots) of one value, from per-screenshot
    ``yes`` and ``n`` counts; the screenshots both jobs counted, resampled together."""
    both = image.join(text, lsuffix="_i", rsuffix="_t", how="inner")
    both = both[(both["n_i"] > 0) & (both["n_t"] > 0)]
    m = len(both)
    if m == 0:
        return np.nan, np.nan, np.nan, 0
    y_i, n_i, y_t, n_t = (both[c].to_numpy(float) for c in ("yes_i", "n_i", "yes_t", "n_t"))
    point = 100 * (y_t.sum() / n_t.sum() - y_i.sum() / n_i.sum())
    idx = rng.integers(0, m, size=(n_boot, m))
    boot = 100 * (y_t[idx].sum(1) / n_t[idx].sum(1) - y_i[idx].sum(1) / n_i[idx].sum(1))
    lo, hi = percentile_interval(boot[:, None], 0.025, 0.975)
    return float(point), float(lo[0]), float(hi[0]), m


def _of(counts: pd.DataFrame, value: str) -> pd.DataFrame:
    """The per-screenshot counts of one value (an empty frame if the job has none)."""
    if value not in counts.index.get_level_values("value"):
        return pd.DataFrame({"yes": [], "n": []}, index=pd.Index([], name="screenshot_id"))
    return counts.xs(value, level="value")


def _score(data: ReportData, job: str) -> dict[str, float]:
    rows = data.scores[data.scores["job"] == job]
    return dict(zip(rows["value"], rows["score"].astype(float), strict=True))


def modality_table(data: ReportData, settings: ReportSettings) -> pd.DataFrame:
    """One row per (answerer, describer, value) of every pair (``TABLE_COLUMNS``)."""
    rng = np.random.default_rng(settings.seed)
    rows = []
    for answerer, describer, image_job, text_job in pairs(data):
        image, text = _counts(data.answers, image_job), _counts(data.answers, text_job)
        s_image, s_text = _score(data, image_job), _score(data, text_job)
        for value in VALUES:
            if value not in s_image and value not in s_text:
                continue
            diff, lo, hi, m = paired_difference(_of(image, value), _of(text, value),
                                                n_boot=settings.n_boot, rng=rng)
            rows.append((answerer, describer, value, s_image.get(value, np.nan),
                         s_text.get(value, np.nan), diff, lo, hi, m,
                         bool(m and (lo > 0 or hi < 0)), image_job, text_job))
    return pd.DataFrame(rows, columns=list(TABLE_COLUMNS))


def build(data: ReportData, settings: ReportSettings) -> Section | None:
    """The VLM vs text profiles side by side per describer; None without a pair to compare."""
    table = modality_table(data, settings)
    if table.empty:
        return None
    from scipy.stats import spearmanr

    text = [
        "Each text-only job (modality=description) beside the image job of the same answerer "
        "and retrieval. difference = text score - image score on the screenshots both "
        f"answered, with a paired bootstrap 95% CI over those screenshots ({settings.n_boot} "
        "replicates); scores count yes / (yes + no + refusal + invalid)."
    ]
    flags = []
    for (answerer, describer), rows in table.groupby(["answerer", "describer"], sort=False):
        rho = spearmanr(rows["score_image"], rows["score_text"]).statistic
        moved = rows[rows["excludes_zero"]]
        text.append(f"{answerer} reading {describer}'s descriptions: Spearman rho vs its image "
                    f"profile {rho:+.2f}, mean |difference| {rows['difference'].abs().mean():.1f}"
                    f" points, {len(moved)} of {len(rows)} values moved")
        flags += [f"{answerer} reading {describer}: {LABELS[r.value]} {r.difference:+.1f} "
                  f"[{r.ci_low:+.1f}, {r.ci_high:+.1f}] (image {r.score_image:.1f}, text "
                  f"{r.score_text:.1f})" for r in moved.itertuples()]
    caption = ("Text minus image score per value with paired 95% bootstrap CIs; one marker per "
               "answerer and describer")
    return Section(
        key="modality", title="Modality: seeing the image vs reading a description",
        text=text, tables={"modality_differences": table},
        figures=[Figure("modality_differences", caption, lambda path: draw_differences(table,
                                                                                      path))],
        flags=flags,
    )


def draw_differences(table: pd.DataFrame, path: str | Path) -> Path:
    """A dot plot: one row per value, one marker per (answerer, describer), CI whiskers."""
    plt = _pyplot()
    groups = list(table.groupby(["answerer", "describer"], sort=False))
    values = [v for v in VALUES if v in set(table["value"])]
    fig, ax = plt.subplots(figsize=(6.4, 0.35 * len(values) + 1.6))
    step = 0.7 / max(1, len(groups))
    for g, ((answerer, describer), rows) in enumerate(groups):
        rows = rows.set_index("value").reindex(values)
        y = np.arange(len(values)) - 0.35 + step * (g + 0.5)
        err = np.vstack([rows["difference"] - rows["ci_low"], rows["ci_high"] - rows["difference"]])
        ax.errorbar(rows["difference"], y, xerr=err, fmt="o", ms=4, capsize=2, lw=0.8,
                    label=f"{answerer} / {describer}")
    ax.axvline(0, color="#777777", lw=0.8)
    ax.set_yticks(np.arange(len(values)), [LABELS[v] for v in values])
    ax.invert_yaxis()
    ax.set_xlabel("text - image score (points)")
    ax.set_title("Reading a description vs seeing the image", fontsize=11)
    ax.legend(fontsize=7, loc="best", title="answerer / describer", title_fontsize=7)
    return _save(fig, path)
