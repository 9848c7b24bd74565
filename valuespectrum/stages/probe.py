"""Probe: ask the model the paper's questions about every retrieved screenshot and score it.

Steps: resolve the retrieval run -> encode each screenshot once -> decision calls (cached by
request fingerprint; only missing calls are made, each written to the cache the moment it
lands) -> "why" calls in the same conversation -> optional descriptions -> parse every decision
into yes / no / refusal / no_image / invalid (a failed call is ``error``, never a "no"; with
``parsing.judge`` a judge model labels what the rules leave invalid) -> answers and scores
tables, MLflow metrics, a printed table and the radar / bar plots. With
``modality=description`` the describer describes each screenshot first and the decisions are
text-only questions about the descriptions (``probe.describing``).
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict
from pathlib import Path

from valuespectrum.models.registry import build_model, generation_params, price_of
from valuespectrum.models.spread import offload, processes_for
from valuespectrum.probe.ask import CallStats, ask
from valuespectrum.probe.axes import KEYED, Axes, scored_answers
from valuespectrum.probe.checks import answer_checks
from valuespectrum.probe.costplan import Budget
from valuespectrum.probe.describing import Describing
from valuespectrum.probe.encoding import encode_images
from valuespectrum.probe.estimate import plan_probe, report_plan
from valuespectrum.probe.judging import judge_replies
from valuespectrum.probe.options import ORDERS
from valuespectrum.probe.plan import (
    ANSWER_COLUMNS,
    Call,
    answer_rows,
    decision_call,
    plan_call,
    probe_prompts,
)
from valuespectrum.probe.prompts import blank_like, describe_messages, why_messages
from valuespectrum.probe.results import (
    expected_answers,
    profile_metrics,
    score_answers,
    with_checks,
)
from valuespectrum.report.artifacts import fill_once
from valuespectrum.report.profile import figure_files
from valuespectrum.retrieval.steps import ensure_retrieval
from valuespectrum.run_record import cost_metrics
from valuespectrum.store import ProbeStore, content_id

log = logging.getLogger(__name__)
# The printed table also goes to the job log: conf/config.yaml sends this logger to Hydra's
# log file only, so the terminal shows the table once (printed), not twice.
results_log = logging.getLogger("valuespectrum.results")
# What one probe result folder holds besides its figures (and what is logged of it).
TABLE_FILES = ("summary.html", "answers.parquet", "answers.csv", "keywords.parquet", "keywords.csv",
               "images.parquet", "images.csv", "scores.parquet", "scores.csv")
_FINGERPRINT = ANSWER_COLUMNS.index("fingerprint")


def result_files(cfg) -> tuple[str, ...]:
    return (*figure_files(cfg.plots.formats), *TABLE_FILES)


def run(ctx) -> dict[str, float]:
    """Probe the configured model on the current retrieval run; return scores as metrics."""
    from valuespectrum.simulation.perception import corpus_perceiver

    cfg = ctx.cfg
    retrieval = ctx.retrieval or ensure_retrieval(ctx)
    prompts = probe_prompts(cfg.prompts)
    axes = Axes.of(cfg.probe, cfg.prompts)
    variants = axes.variants(prompts)  # (answer order, keying) -> the wording asked
    row_orders = axes.row_orders(retrieval.table)
    orders_of: dict[int, set[str]] = {}
    for sid, order in zip(retrieval.table["screenshot_id"], row_orders, strict=True):
        orders_of.setdefault(int(sid), set()).add(order)
    images = encode_images(ctx, retrieval.table)  # starts encoding in threads
    samples = cfg.probe.samples
    n_decisions = sum(map(len, orders_of.values())) * samples * len(KEYED[axes.keying])
    model = build_model(
        cfg.model, timeout_s=cfg.probe.timeout_s,
        perceiver=lambda: corpus_perceiver(ctx, images.all()),  # only a respondent asks
        processes=processes_for(cfg.probe.client_processes, concurrency=cfg.probe.concurrency,
                                calls=n_decisions),
    )
    if cfg.probe.client_processes not in ("auto", "0") and not hasattr(model, "spread_calls"):
        log.warning("probe.client_processes=%s: model=%s makes its calls in this process (only"
                    " API models spread theirs)", cfg.probe.client_processes, cfg.model.name)
    params = [generation_params(cfg.model, s, samples) for s in range(samples)]
    describing = Describing(ctx, images, prompts) if cfg.modality == "description" else None
    probe_run = content_id(
        {
            "retrieval": retrieval.run_id,
            "model": model.fingerprint(),
            "prompts": prompts.fingerprint(),
            "params": [asdict(p) for p in params],
            "why": cfg.probe.ask_why,
            **cfg.parsing.settings(),  # {} for the strict rules without a judge
            **axes.run_identity(),  # {} at the axes' defaults
            **(describing.identity() if describing else {}),  # {} for modality=image
        }
    )
    stats = CallStats()
    decisions: dict[tuple[int, int, str, str], Call] = {}  # (sid, sample, order, keying)
    shown = _shown(axes)

    def decision_calls() -> Iterator[Call]:
        """Planned as each image is encoded: the first calls go out before the last image."""
        for sid, img in images:
            for order in (o for o in ORDERS if o in orders_of[sid]):
                for keying in KEYED[axes.keying]:
                    for s in range(samples):
                        decisions[(sid, s, order, keying)] = call = decision_call(
                            model, shown(img), params[s], variants[(order, keying)])
                        yield call

    calls, budget = decision_calls(), None
    if cfg.probe.plan or cfg.probe.max_cost_usd is not None:
        price, source = _price(cfg.model)
        if describing is None:
            calls = list(calls)  # the plan needs every call, so every image is encoded first
            plans = plan_probe(ctx, model, calls, axes.framed(prompts), params, price,
                               [c for key, c in decisions.items() if key[3] == "forward"])
        else:
            plans = describing.plan(model, params, price, _price)
        if cfg.probe.plan:
            asyncio.run(model.aclose())
            return report_plan(ctx, plans, source)  # nothing is called
        budget = Budget(cfg.probe.max_cost_usd, price)
        budget.check_plan(plans, f"model={cfg.model.name}")
    if describing is not None:  # describe first: the decisions are about the descriptions
        decisions = describing.decision_calls(model, params, stats, budget, _price)
        calls, n_decisions = list(decisions.values()), len(decisions)
    replies = asyncio.run(
        ask(ctx, model, calls, stats, "decision calls", total=n_decisions, budget=budget)
    )
    whys = {}
    if cfg.probe.ask_why:
        whys = {
            key: plan_call(
                model, "why", c.image,
                describing.why_messages(c, replies[c.fingerprint]) if describing
                else why_messages(variants[key[2:]], c.image, replies[c.fingerprint]),
                params[key[1]], prompts,
            )
            for key, c in decisions.items()
            if c.fingerprint in replies and key[3] == "forward"  # after forward decisions only
        }
        asyncio.run(ask(ctx, model, list(whys.values()), stats, "why calls", budget=budget))
    if cfg.probe.describe:
        described = [
            plan_call(model, "describe", shown(img),
                      describe_messages(axes.framed(prompts), shown(img)), params[0], prompts)
            for _, img in images
        ]
        asyncio.run(ask(ctx, model, described, stats, "describe calls", budget=budget))
    def judge_budget(judge_cfg):  # the same limit, what was spent so far, the judge's prices
        if budget is None:
            return None
        judged = Budget(budget.limit, _price(judge_cfg)[0])
        judged.spent = budget.spent
        return judged

    question = describing.text.text_decision if describing else prompts.decision
    verdicts = judge_replies(ctx, decisions, replies, question, stats, judge_budget)
    answers = (describing.answer_rows if describing else answer_rows)(
        retrieval.table, decisions, whys, replies, probe_run, samples, stats.failures,
        mode=cfg.parsing.mode, verdicts=verdicts, row_orders=row_orders,
        keyings=KEYED[axes.keying],
    )
    settings = {"model": model.fingerprint(), "params": [asdict(p) for p in params]}
    if describing is not None:
        settings.update(modality="description", describer=describing.config.name)
    with ctx.store.connect() as con:
        ProbeStore.save_run(
            con,
            (
                probe_run, cfg.model.name, cfg.model.label or cfg.model.name, cfg.model.simulated,
                retrieval.run_id, prompts.version, json.dumps(settings),
            ),
        )
        ProbeStore.replace_answers(con, probe_run, answers)
        cached_cost = ProbeStore.cost(con, stats.cached_fingerprints)
        logprobs = ProbeStore.logprobs(con, list({a[_FINGERPRINT] for a in answers}))
    ctx.probe_run = probe_run
    expect = describing.expected(model) if describing else None
    expectations = expected_answers(model, decisions, answers, axes.keying, expect)
    metrics = _report(ctx, probe_run, answers, logprobs, expectations)
    asyncio.run(model.aclose())
    metrics.update(stats.as_metrics())
    if hasattr(model, "spread_calls"):  # made in worker processes (probe.client_processes)
        metrics["usage/calls_in_workers"] = model.spread_calls
        log.info("%d of the calls were made in %d worker processes", model.spread_calls,
                 model.processes)
    metrics.update(describing.metrics() if describing else {})
    metrics.update(_cost_metrics(ctx, stats, cached_cost))
    return metrics


def _shown(axes: Axes):
    """The image a call shows: the screenshot, or with ``probe.image=blank`` one uniform
    mid-grey picture of its size (the same for every image of that size)."""
    if axes.image == "screenshot":
        return lambda image: image
    blanks: dict[str, object] = {}

    def blank(image):
        if image.sha256 not in blanks:
            blanks[image.sha256] = blank_like(image)
        return blanks[image.sha256]

    return blank


def _price(model_cfg) -> tuple[tuple[float, float] | None, str]:
    """USD per token (in, out) and where it comes from; a local model costs no API call."""
    price = price_of(model_cfg)
    if price is None:
        return (0.0, 0.0), "none: no API call (local or simulated)"
    if not price.known:
        return None, "unknown"
    return (price.input_per_token, price.output_per_token), price.source


def _cost_metrics(ctx, stats: CallStats, cached_cost: float | None) -> dict[str, float]:
    """What this run's calls cost (every kind), apart from what its cached answers once cost.

    An unknown cost is no metric: it is tagged ``unknown`` and said so, never logged as 0.
    """
    spent = None if stats.spent_unknown else stats.spent_usd
    metrics = cost_metrics(ctx.tracker, "probe", spent, cached_cost)
    log.info("cost: this run spent %s on %d calls (%d without a known cost); the %d cached "
             "answers once cost %s", "unknown" if spent is None else f"${spent:.4f}",
             stats.made, stats.spent_unknown, stats.cached,
             "unknown" if cached_cost is None else f"${cached_cost:.4f}")
    return metrics


def _report(ctx, probe_run: str, answers, logprobs, expectations=None) -> dict[str, float]:
    """Score the answers, store the scores, print the table, draw and log the figures.

    ``logprobs``: fingerprint -> (yes, no) log-probabilities of the cached replies that have
    them. The scores are written to the store in a thread while the table and the result files
    are made here (DuckDB leaves the interpreter lock while it works).
    """
    import pandas as pd

    from valuespectrum.report.profile import FIGURES, drawn_files

    cfg = ctx.cfg
    full = pd.DataFrame(list(answers), columns=list(ANSWER_COLUMNS))
    full["model"] = cfg.model.name
    if logprobs:  # a second score from p(yes)/(p(yes)+p(no)) where the backend returned them
        pairs = full["fingerprint"].map(logprobs)
        full["yes_logprob"] = pairs.map(lambda p: p[0] if isinstance(p, tuple) else None)
        full["no_logprob"] = pairs.map(lambda p: p[1] if isinstance(p, tuple) else None)
    frame = scored_answers(full, cfg.probe.keying)  # the answers the score counts
    true_profile = cfg.model.true_profile
    folder = _results_folder(ctx, probe_run, answers)
    settings = _scoring_settings(cfg)
    label = cfg.model.label or cfg.model.name
    drawing = dict(label=label, axis_order=cfg.plots.axis_order, true_profile=true_profile,
                   formats=cfg.plots.formats)
    started = {}  # figure -> drawn meanwhile in an idle call worker (None: drawn here)

    def draw_meanwhile(scores) -> None:  # while the summary's permutation tests run here
        if not (folder / "scores.parquet").exists():
            started.update({f: offload(drawn_files, scores, figures=(f,), **drawing)
                            for f in FIGURES})

    result = score_answers(frame, true_profile=true_profile, expectations=expectations,
                           on_scores=draw_meanwhile, **settings)
    checks = answer_checks(full, n_boot=cfg.probe.n_boot, seed=cfg.seed,
                           interval=cfg.scoring.interval)  # fmt: skip
    result = with_checks(result, checks)
    if cfg.retrieve.k == 1 and cfg.scoring.interval == "images":
        log.warning("retrieve.k=1 with scoring.interval=images: one image per keyword, so the"
                    " image-level intervals rest on the smoothing prior alone; use k >= 2 or"
                    " scoring.interval=two_stage")
    with ThreadPoolExecutor(1, thread_name_prefix="probe scores") as storing:
        stored = storing.submit(_store_scores, ctx.store, probe_run, _scoring_key(cfg),
                                result.scores.copy(), result.keywords.copy())  # its own copies
        try:
            metrics = _present(ctx, probe_run, result, frame, full, checks, folder, started,
                               drawing, stored)  # fmt: skip
        finally:  # a failed write stops the job here, before anything is logged
            ctx.scoring_key = stored.result()
    if _log_results(ctx, folder, probe_run):
        for name, rows in (("scores", result.scores), ("keywords", result.keywords)):
            rows = rows.astype(object).where(rows.notna(), None)  # NaN: no JSON
            ctx.tracker.log_table(rows, f"probe/{name}_table.json")
    return metrics


def _store_scores(store, probe_run: str, scoring_key: dict, scores, keywords) -> str:
    with store.connect() as con:
        key = ProbeStore.replace_scores(con, probe_run, scoring_key, scores)
        ProbeStore.replace_keyword_scores(con, probe_run, key, keywords)
    return key


def _present(ctx, probe_run: str, result, frame, full, checks, folder: Path, started,
             drawing, stored) -> dict[str, float]:  # fmt: skip
    """The run's metrics, its printed table, and its result folder (figures, tables): the
    folder is complete (``scores.parquet``) only once the scores are stored (``stored``)."""
    from valuespectrum.report.profile import collect_figures, render_table
    from valuespectrum.report.readings import reading_lines

    cfg, true_profile = ctx.cfg, ctx.cfg.model.true_profile
    metrics = profile_metrics(result, frame)
    metrics.update(checks.metrics())
    notes = reading_lines(frame, result, metrics, parsing=cfg.parsing,
                          perceive=getattr(cfg.model, "perceive", None)) + checks.lines()
    table = render_table(
        result.scores, result.summary, label=cfg.model.label or cfg.model.name,
        true_profile=true_profile, rho=result.rho, probe_run=probe_run,
        n_boot=cfg.probe.n_boot, keywords=result.keywords,
        flag_points=cfg.scoring.keyword_flag_points, notes=notes,
    )
    print(table)
    results_log.info("value profile\n%s", table)
    if not (folder / "scores.parquet").exists():

        def write(tmp: Path) -> None:
            collect_figures(started, tmp, result.scores, **drawing)
            _write_summary(tmp, cfg, result, probe_run, true_profile, checks.lines())
            tables = (("answers", full), ("keywords", result.keywords),
                      ("images", result.images), ("scores", result.scores))  # fmt: skip
            for name, rows in tables:  # scores.parquet last: the completion mark
                rows.to_csv(tmp / f"{name}.csv", index=False)  # previewed in MLflow's UI
                if name == "scores":
                    stored.result()  # a failed write leaves the folder unfinished
                rows.to_parquet(tmp / f"{name}.parquet", index=False)

        fill_once(folder, write, mark="scores.parquet", lock=ctx.store.lock)
    return metrics


def _results_folder(ctx, probe_run: str, answers) -> Path:
    """Scores and plots depend only on the answers and the scoring settings: keep them by that
    hash in the workspace, so a re-run with nothing new re-logs them instead of recomputing."""
    cfg = ctx.cfg
    digest = content_id(
        {
            "answers": sorted(map(list, answers)),
            **_scoring_key(cfg),
            "label": cfg.model.label,
            "profile": cfg.model.true_profile or {},  # {} for a real model, as before
            "axis_order": cfg.plots.axis_order,
            "files": result_files(cfg),  # a folder from before a new file was added is redrawn
        }
    )
    return ctx.workspace / "probe" / probe_run / digest


def _scoring_settings(cfg) -> dict:
    """Everything besides the answers that shapes the score rows (their key in ``scores``), as
    ``score_profile`` takes it. Rows scored before a setting existed keep their own key."""
    sc = cfg.scoring
    return {
        "n_boot": cfg.probe.n_boot, "seed": cfg.seed, "hedonism_in": sc.hedonism_in,
        "interval": sc.interval, "angles": sc.angles(), "n_perm": sc.n_perm,
        "keyword_flag_points": sc.keyword_flag_points,
    }


def _scoring_key(cfg) -> dict:
    """The scoring settings and how replies were read (``parsing``): the key of the score rows."""
    return {**_scoring_settings(cfg), **cfg.parsing.settings()}


def _log_results(ctx, folder: Path, probe_run: str) -> bool:
    """Copy the probe's files into this job's output folder and log them (or a reference)."""
    from valuespectrum.report.artifacts import publish

    def rename(name: str) -> str:
        stem, ext = name.split(".")
        return f"{stem}-{probe_run}.{ext}" if ext in ("parquet", "csv") else name

    return publish(ctx, folder, result_files(ctx.cfg), "probe", rename=rename)


def _write_summary(folder: Path, cfg, result, probe_run: str, true_profile, notes=()) -> None:
    """A one-page HTML summary of the scores with the radar chart embedded (opens offline)."""
    from valuespectrum.report.summary_html import summary_html

    (folder / "summary.html").write_text(
        summary_html(
            result.scores, result.summary, label=cfg.model.label or cfg.model.name,
            probe_run=probe_run, radar_png=folder / "radar.png", true_profile=true_profile,
            rho=result.rho, notes=notes,
        )
    )
