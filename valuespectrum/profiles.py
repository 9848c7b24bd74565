"""Value profiles from probe answers: score, store, log, print and draw them.

Kept apart from the probe stage so the stage reads as its list of steps, and so the printed
table and plots have one definition. A simulated respondent's profile is labelled as simulated
everywhere it appears and is compared with the profile it was given (Spearman rho).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from valuespectrum.store import ProbeStore, content_id
from valuespectrum.values import LABELS, VALUES

log = logging.getLogger(__name__)
# The printed table also goes to the job log: conf/config.yaml sends this logger to Hydra's
# log file only, so the terminal shows the table once (printed), not twice.
results_log = logging.getLogger("valuespectrum.results")

SIMULATED_NOTE = "SIMULATED respondent: a known-truth check of the instrument, not a real VLM"
FIGURES = ("radar.png", "radar.pdf", "scores.png", "scores.pdf")
ANSWER_COLUMNS = (
    "probe_run",
    "value",
    "keyword",
    "rank",
    "sample",
    "screenshot_id",
    "fingerprint",
    "outcome",
    "parse_reason",
    "why_fingerprint",
)


def finish(ctx, probe_run: str, answers: Sequence[tuple]) -> dict[str, float]:
    """Score the answers, store the scores, log metrics and artifacts, print the table."""
    import pandas as pd

    from valuespectrum.scoring import model_summary, rank_correlation, score_table

    cfg = ctx.cfg
    frame = pd.DataFrame(list(answers), columns=list(ANSWER_COLUMNS))
    frame["model"] = cfg.model.name
    # Scores and plots depend only on the answers and the scoring settings: keep them by that
    # hash in the workspace, so a re-run with nothing new re-logs them instead of recomputing.
    digest = content_id(
        {
            "answers": sorted(map(list, answers)),
            "n_boot": cfg.probe.n_boot,
            "seed": cfg.seed,
            "hedonism_in": cfg.scoring.hedonism_in,
            "label": cfg.model.label,
            "profile": cfg.model.profile,
            "axis_order": cfg.plots.axis_order,
            "figures": FIGURES,  # a folder from before a new figure format is redrawn
        }
    )
    folder = ctx.workspace / "probe" / probe_run / digest
    cached = folder / "scores.parquet"
    if cached.exists():
        scores = pd.read_parquet(cached)
    else:
        scores = score_table(
            frame, n_boot=cfg.probe.n_boot, seed=cfg.seed, hedonism_in=cfg.scoring.hedonism_in
        )
    if cfg.retrieve.k == 1:
        log.warning("retrieve.k=1: one image per keyword, so the bootstrap CIs (images resampled"
                    " within keywords) have zero width; use k >= 2 for intervals")
    summary = model_summary(scores, hedonism_in=cfg.scoring.hedonism_in).iloc[0]
    with ctx.store.connect() as con:
        ProbeStore.replace_scores(con, probe_run, scores)
    metrics: dict[str, float] = {}
    for r in scores.itertuples():
        metrics[r.value] = r.score
        metrics[f"{r.value}_centred"] = r.centred
    counts = frame["outcome"].value_counts()
    n_all = len(frame)
    for outcome in ("yes", "no", "refusal", "invalid", "error"):
        metrics[f"n_{outcome}"] = float(counts.get(outcome, 0))
    metrics["error_rate"] = counts.get("error", 0) / n_all if n_all else 0.0
    metrics["refusal_rate"] = counts.get("refusal", 0) / n_all if n_all else 0.0
    metrics["invalid_rate"] = counts.get("invalid", 0) / n_all if n_all else 0.0
    for key in (
        "mean",
        "std",
        "circumplex_r",
        "openness_to_change",
        "self_enhancement",
        "conservation",
        "self_transcendence",
    ):
        metrics[key] = float(summary[key])
    true_profile = cfg.model.profile if cfg.model.simulated else None
    rho = None
    if true_profile:
        rho = rank_correlation({r.value: r.score for r in scores.itertuples()}, true_profile)
        metrics["rho_true_profile"] = rho
    table = render_table(
        scores,
        summary,
        label=cfg.model.label or cfg.model.name,
        true_profile=true_profile,
        rho=rho,
        probe_run=probe_run,
    )
    print(table)
    results_log.info("value profile\n%s", table)
    if not cached.exists():
        _draw(ctx, frame, scores, folder)
    _log(ctx, folder, probe_run)
    return metrics


def render_table(
    scores, summary, *, label: str, true_profile=None, rho=None, probe_run: str = ""
) -> str:
    """The profile as a plain-text table; simulated results say so in the title."""
    head = f"Value profile: {label}, probe run {probe_run}"
    if true_profile:
        head += f"\n{SIMULATED_NOTE}"
    cols = (
        f"{'value':16}{'score':>7}{'95% CI':>15}{'centred':>9}{'n':>5}{'refus':>7}"
        f"{'inval':>7}{'error':>7}" + (f"{'true':>7}" if true_profile else "")
    )
    lines = [head, cols, "-" * len(cols)]
    by_value = {r.value: r for r in scores.itertuples()}
    for v in VALUES:
        r = by_value.get(v)
        if r is None:
            continue
        line = (
            f"{LABELS[v]:16}{_f(r.score):>7}{f'[{_f(r.ci_low)}, {_f(r.ci_high)}]':>15}"
            f"{_f(r.centred, signed=True):>9}{int(r.n):>5}{_pct(r.refusal_rate):>7}"
            f"{_pct(r.invalid_rate):>7}{_pct(r.error_rate):>7}"
        )
        if true_profile:
            line += f"{true_profile.get(v, float('nan')):>7.0f}"
        lines.append(line)
    lines.append("-" * len(cols))
    lines.append(
        f"mean {_f(summary['mean'])}  std (ddof=1) {_f(summary['std'])}  "
        f"circumplex r {summary['circumplex_r']:+.2f}"
    )
    if rho is not None:
        lines.append(f"Spearman rho, recovered vs true profile: {rho:+.2f}")
    return "\n".join(lines)


def _f(x: Any, signed: bool = False) -> str:
    if x is None or x != x:
        return "-"
    return f"{x:+.1f}" if signed else f"{x:.1f}"


def _pct(x: Any) -> str:
    return "-" if x is None or x != x else f"{100 * x:.0f}%"


def _draw(ctx, frame, scores, folder) -> None:
    """Write plots and tables into ``folder``; scores.parquet last, as the completion mark."""
    import os

    from valuespectrum.plots import radar_chart, score_bars

    cfg = ctx.cfg
    tmp = folder.with_name(f"{folder.name}.tmp{os.getpid()}")
    tmp.mkdir(parents=True, exist_ok=True)
    label = cfg.model.label or cfg.model.name
    note = SIMULATED_NOTE if cfg.model.simulated else None
    profile = {r.value: r.score for r in scores.itertuples()}
    ci = {r.value: (r.ci_low, r.ci_high) for r in scores.itertuples()}
    # The title names the model; legend entries say what each line is, without repeating it.
    profiles, truth = {label: profile}, None
    if cfg.model.simulated and cfg.model.profile:
        profiles = {"recovered profile": profile, "true profile": dict(cfg.model.profile)}
        truth = {label: dict(cfg.model.profile)}
    radar_chart(
        profiles,
        tmp / "radar.png",
        title=f"Value profile: {label}",
        axis_order=cfg.plots.axis_order,
        ci={next(iter(profiles)): ci},
        note=note,
    )
    score_bars(
        scores.assign(model=label),
        tmp / "scores.png",
        title=f"% yes per value: {label}",
        note=note,
        truth=truth,
        truth_label="true profile (given to the respondent)",
    )
    frame.to_parquet(tmp / "answers.parquet", index=False)
    scores.to_parquet(tmp / "scores.parquet", index=False)
    if folder.exists():  # a sibling job finished the same folder meanwhile
        import shutil

        shutil.rmtree(tmp)
        return
    os.replace(tmp, folder)


def _log(ctx, folder, probe_run: str) -> None:
    """Copy the probe's files into this job's output folder and log them to MLflow."""
    import shutil

    out = ctx.output_dir / "probe"
    out.mkdir(parents=True, exist_ok=True)
    for name in (*FIGURES, "answers.parquet", "scores.parquet"):
        stem, ext = name.split(".")
        dest = out / (f"{stem}-{probe_run}.{ext}" if ext == "parquet" else name)
        shutil.copyfile(folder / name, dest)
        ctx.tracker.log_artifact(dest, "probe")
