"""Probe: ask the model the paper's questions about every retrieved screenshot and score it.

Steps: resolve the retrieval run -> encode each screenshot once -> decision calls (cached by
request fingerprint; only missing calls are made, each written to the cache the moment it
lands) -> "why" calls in the same conversation -> optional descriptions -> parse every decision
into yes / no / refusal / no_image / invalid (a failed call is ``error``, never a "no"; with
``parsing.judge`` a judge model labels what the rules leave invalid) -> answers and scores
tables, MLflow metrics, a printed table and the radar / bar plots.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Iterator
from dataclasses import asdict
from pathlib import Path

from valuespectrum.models.registry import build_model, generation_params
from valuespectrum.probe.ask import CallStats, ask
from valuespectrum.probe.encoding import encode_images
from valuespectrum.probe.judging import judge_replies
from valuespectrum.probe.plan import (
    ANSWER_COLUMNS,
    Call,
    answer_rows,
    decision_call,
    plan_call,
    probe_prompts,
)
from valuespectrum.probe.prompts import describe_messages, why_messages
from valuespectrum.probe.results import profile_metrics, score_answers
from valuespectrum.report.artifacts import fill_once
from valuespectrum.report.profile import FIGURES
from valuespectrum.retrieval.steps import ensure_retrieval
from valuespectrum.store import ProbeStore, content_id

log = logging.getLogger(__name__)
# The printed table also goes to the job log: conf/config.yaml sends this logger to Hydra's
# log file only, so the terminal shows the table once (printed), not twice.
results_log = logging.getLogger("valuespectrum.results")
# What one probe result folder holds (and what is logged of it).
RESULT_FILES = (*FIGURES, "summary.html", "answers.parquet", "answers.csv", "scores.parquet",
                "scores.csv")


def run(ctx) -> dict[str, float]:
    """Probe the configured model on the current retrieval run; return scores as metrics."""
    from valuespectrum.simulation.perception import corpus_perceiver

    cfg = ctx.cfg
    retrieval = ctx.retrieval or ensure_retrieval(ctx)
    prompts = probe_prompts(cfg.prompts)
    images = encode_images(ctx, retrieval.table)  # starts encoding in threads
    model = build_model(
        cfg.model, timeout_s=cfg.probe.timeout_s,
        perceiver=lambda: corpus_perceiver(ctx, images.all()),  # only a respondent asks
    )
    samples = cfg.probe.samples
    params = [generation_params(cfg.model, s, samples) for s in range(samples)]
    probe_run = content_id(
        {
            "retrieval": retrieval.run_id,
            "model": model.fingerprint(),
            "prompts": prompts.fingerprint(),
            "params": [asdict(p) for p in params],
            "why": cfg.probe.ask_why,
            **cfg.parsing.settings(),  # {} for the strict rules without a judge
        }
    )
    stats = CallStats()
    decisions: dict[tuple[int, int], Call] = {}

    def decision_calls() -> Iterator[Call]:
        """Planned as each image is encoded: the first calls go out before the last image."""
        for sid, img in images:
            for s in range(samples):
                decisions[(sid, s)] = call = decision_call(model, img, params[s], prompts)
                yield call

    n_decisions = retrieval.table["screenshot_id"].nunique() * samples
    replies = asyncio.run(
        ask(ctx, model, decision_calls(), stats, "decision calls", total=n_decisions)
    )
    whys = {}
    if cfg.probe.ask_why:
        whys = {
            key: plan_call(
                model, "why", c.image, why_messages(prompts, c.image, replies[c.fingerprint]),
                params[key[1]], prompts,
            )
            for key, c in decisions.items()
            if c.fingerprint in replies
        }
        asyncio.run(ask(ctx, model, list(whys.values()), stats, "why calls"))
    if cfg.probe.describe:
        described = [
            plan_call(model, "describe", img, describe_messages(prompts, img), params[0], prompts)
            for _, img in images
        ]
        asyncio.run(ask(ctx, model, described, stats, "describe calls"))
    verdicts = judge_replies(ctx, decisions, replies, prompts.decision, stats)
    answers = answer_rows(
        retrieval.table, decisions, whys, replies, probe_run, samples, stats.failures,
        mode=cfg.parsing.mode, verdicts=verdicts,
    )
    settings = {"model": model.fingerprint(), "params": [asdict(p) for p in params]}
    with ctx.store.connect() as con:
        ProbeStore.save_run(
            con,
            (
                probe_run, cfg.model.name, cfg.model.label or cfg.model.name, cfg.model.simulated,
                retrieval.run_id, prompts.version, json.dumps(settings),
            ),
        )
        ProbeStore.replace_answers(con, probe_run, answers)
        cost, _ = ProbeStore.usage(con, [c.fingerprint for c in decisions.values()])
    ctx.probe_run = probe_run
    metrics = _report(ctx, probe_run, answers, _expectations(model, decisions, answers))
    asyncio.run(model.aclose())
    metrics.update(stats.as_metrics())
    metrics["usage/cost_usd"] = cost
    return metrics


def _expectations(model, decisions, answers):
    """What a simulated respondent expects of each scored answer row (its own p(yes) on the
    image, ``scoring.expected_scores``); None for a model that cannot know."""
    import pandas as pd

    expected = getattr(model, "expected_outcomes", None)
    if expected is None:
        return None
    at = {c: i for i, c in enumerate(ANSWER_COLUMNS)}
    rows = []
    for a in answers:
        if a[at["outcome"]] != "error":  # a failed call is in no score
            image = decisions[(a[at["screenshot_id"]], a[at["sample"]])].image
            rows.append((model.name, a[at["value"]], *expected(image)))
    return pd.DataFrame(rows, columns=["model", "value", "p_yes", "p_counted"])


def _report(ctx, probe_run: str, answers, expectations=None) -> dict[str, float]:
    """Score the answers, store the scores, print the table, draw and log the figures."""
    import pandas as pd

    from valuespectrum.report.profile import draw_profile, render_table
    from valuespectrum.report.readings import reading_lines

    cfg = ctx.cfg
    frame = pd.DataFrame(list(answers), columns=list(ANSWER_COLUMNS))
    frame["model"] = cfg.model.name
    true_profile = cfg.model.true_profile
    folder = _results_folder(ctx, probe_run, answers)
    cached = folder / "scores.parquet"
    result = score_answers(
        frame, n_boot=cfg.probe.n_boot, seed=cfg.seed, hedonism_in=cfg.scoring.hedonism_in,
        true_profile=true_profile, scores=pd.read_parquet(cached) if cached.exists() else None,
        expectations=expectations,
    )
    if cfg.retrieve.k == 1:
        log.warning("retrieve.k=1: one image per keyword, so the bootstrap CIs (images resampled"
                    " within keywords) have zero width; use k >= 2 for intervals")
    with ctx.store.connect() as con:
        ProbeStore.replace_scores(con, probe_run, _scoring_settings(cfg), result.scores)
    metrics = profile_metrics(result, frame)
    notes = reading_lines(frame, result, metrics, parsing=cfg.parsing,
                          perceive=getattr(cfg.model, "perceive", None))
    table = render_table(
        result.scores, result.summary, label=cfg.model.label or cfg.model.name,
        true_profile=true_profile, rho=result.rho, probe_run=probe_run, notes=notes,
    )
    print(table)
    results_log.info("value profile\n%s", table)
    if not cached.exists():
        label = cfg.model.label or cfg.model.name

        def write(tmp: Path) -> None:
            draw_profile(
                result.scores, tmp, label=label, axis_order=cfg.plots.axis_order,
                true_profile=true_profile,
            )
            _write_summary(tmp, cfg, result, probe_run, true_profile)
            for name, rows in (("answers", frame), ("scores", result.scores)):
                rows.to_csv(tmp / f"{name}.csv", index=False)  # previewed in MLflow's UI
            frame.to_parquet(tmp / "answers.parquet", index=False)
            result.scores.to_parquet(tmp / "scores.parquet", index=False)  # the completion mark

        fill_once(folder, write, mark="scores.parquet", lock=ctx.store.lock)
    if _log_results(ctx, folder, probe_run):
        scores = result.scores.astype(object).where(result.scores.notna(), None)  # NaN: no JSON
        ctx.tracker.log_table(scores, "probe/scores_table.json")
    return metrics


def _results_folder(ctx, probe_run: str, answers) -> Path:
    """Scores and plots depend only on the answers and the scoring settings: keep them by that
    hash in the workspace, so a re-run with nothing new re-logs them instead of recomputing."""
    cfg = ctx.cfg
    digest = content_id(
        {
            "answers": sorted(map(list, answers)),
            **_scoring_settings(cfg),
            "label": cfg.model.label,
            "profile": cfg.model.true_profile or {},  # {} for a real model, as before
            "axis_order": cfg.plots.axis_order,
            "files": RESULT_FILES,  # a folder from before a new file was added is redrawn
        }
    )
    return ctx.workspace / "probe" / probe_run / digest


def _scoring_settings(cfg) -> dict:
    """Everything besides the answers that shapes the score rows (their key in ``scores``)."""
    return {"n_boot": cfg.probe.n_boot, "seed": cfg.seed, "hedonism_in": cfg.scoring.hedonism_in,
            **cfg.parsing.settings()}


def _log_results(ctx, folder: Path, probe_run: str) -> bool:
    """Copy the probe's files into this job's output folder and log them (or a reference)."""
    from valuespectrum.report.artifacts import publish

    def rename(name: str) -> str:
        stem, ext = name.split(".")
        return f"{stem}-{probe_run}.{ext}" if ext in ("parquet", "csv") else name

    return publish(ctx, folder, RESULT_FILES, "probe", rename=rename)


def _write_summary(folder: Path, cfg, result, probe_run: str, true_profile) -> None:
    """A one-page HTML summary of the scores with the radar chart embedded (opens offline)."""
    from valuespectrum.report.summary_html import summary_html

    (folder / "summary.html").write_text(
        summary_html(
            result.scores, result.summary, label=cfg.model.label or cfg.model.name,
            probe_run=probe_run, radar_png=folder / "radar.png", true_profile=true_profile,
            rho=result.rho,
        )
    )
