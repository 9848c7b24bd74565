"""Induce: personas scroll a feed through the agent; did the recommender learn them?

Steps: the catalog (the corpus with its vectors; value labels from the demo theme, else from the
retrieval lists that hold each item) -> personas and strategy -> the model that plays them ->
plan the sessions (every persona x ``induce.sessions_per_persona`` on the configured recommender,
and on the recommender kind random as the control) -> run them (resuming stored ones) through
the driver -> the impressions frame -> metrics (I per session, I_avg with CI per condition, the
net effect, amplification, time to personalisation, entropy) -> tables, plots, printed summary.
"""

from __future__ import annotations

import json
import logging
from contextlib import ExitStack
from dataclasses import asdict, replace
from pathlib import Path

from valuespectrum.agent.sessions import Agent, SessionPlan, run_induction
from valuespectrum.config import ConfigError
from valuespectrum.models.registry import build_role_play_model, generation_params
from valuespectrum.run_record import cost_metrics
from valuespectrum.store import InduceStore, ProbeStore, content_id

log = logging.getLogger(__name__)
results_log = logging.getLogger("valuespectrum.results")
CONDITIONS = ("adaptive", "control")


def run(ctx) -> dict[str, float]:
    """Run the job's sessions; return the induction metrics."""
    from valuespectrum.induce.personas import load_personas
    from valuespectrum.induce.strategies import make_strategy

    cfg = ctx.cfg
    catalog = _catalog(ctx)
    if len(catalog) < cfg.induce.videos:  # a session never shows an item twice
        raise ConfigError(
            f"the feed holds {len(catalog)} items, fewer than induce.videos="
            f"{cfg.induce.videos}; collect more (corpus.n) or lower induce.videos"
        )
    personas = load_personas(cfg.persona)
    strategy = make_strategy(cfg.strategy, cfg.threshold)
    seen = _SeenImages(ctx, catalog)
    model = build_role_play_model(
        cfg.model, timeout_s=cfg.induce.timeout_s, perceiver=seen.perceiver, personas=personas
    )
    try:
        return _induce(ctx, catalog, personas, strategy, seen, model)
    finally:  # the model's connections close whether the job finished or raised
        import asyncio

        asyncio.run(model.aclose())


def _induce(ctx, catalog, personas, strategy, seen, model) -> dict[str, float]:
    cfg = ctx.cfg
    recommenders = _recommenders(cfg)
    plans = _plans(ctx, catalog, personas, strategy, model, recommenders)
    ctx.sessions = [p.session_id for p in plans]
    agent = Agent(
        model=model, strategy=strategy, params=generation_params(cfg.model, 0, 1),
        videos=cfg.induce.videos, stay_ms=round(cfg.agent.stay_s * 1000),
        skip_ms=round(cfg.agent.skip_s * 1000),
        values_of=lambda item_id: catalog.by_id(item_id).values, note_image=seen.note,
    )
    with ExitStack() as stack:
        make_driver = _drivers(ctx, catalog, recommenders, stack)
        results, stats = run_induction(ctx, agent, plans, make_driver)
    for line in stats.errors[:5]:
        log.warning("session without answer: %s (the next run asks that step again)", line)
    if not any(r.status == "complete" for r in results):
        raise NoSessionFinished(
            f"induce: no session finished (sessions_failed={stats.sessions_failed} of "
            f"{len(plans)}; first cause: {_first_cause(stats)}); fix the model or its server "
            "and run again (stored impressions resume)"
        )
    frame = _frame(plans, results, cfg.induce.videos)
    _warn_unpaired(frame, recommenders)
    metrics = _report(ctx, plans, frame)
    metrics.update(stats.as_metrics())
    metrics["usage/sessions"] = len(plans)
    with ctx.store.connect() as con:
        cached_cost = ProbeStore.cost(con, stats.cached_fingerprints)
    metrics.update(_cost_metrics(ctx, stats, cached_cost))
    return metrics


class NoSessionFinished(RuntimeError):
    """Every session of the job failed: there is nothing to measure."""


def _first_cause(stats) -> str:
    if not stats.errors:
        return "unknown"
    return stats.errors[0].split(": ", 1)[-1].splitlines()[0][:200]


def _warn_unpaired(frame, recommenders) -> None:
    """Say so when a persona finished in one condition only: the net effect pairs the
    personas that finished both (none: two independent samples)."""
    if len(recommenders) < 2:
        return
    by = {c: set(frame.loc[frame["condition"] == c, "persona_id"]) for c in recommenders}
    lone = sorted(by["adaptive"] ^ by["control"])
    if lone:
        paired = len(by["adaptive"] & by["control"])
        log.warning(
            "persona(s) %s finished in one condition only (the other's sessions failed): the "
            "net effect pairs %d persona(s)%s; run again to finish them", ", ".join(lone),
            paired, "" if paired else ", so it compares two independent samples",
        )


def _cost_metrics(ctx, stats, cached_cost: float | None) -> dict[str, float]:
    """What this run's calls cost, apart from what the stored replies it used once cost.

    An unknown cost is no metric: it is tagged ``unknown`` and said so, never logged as 0.
    """
    spent = None if stats.spent_unknown else stats.spent_usd
    metrics = cost_metrics(ctx.tracker, "induce", spent, cached_cost)
    log.info("cost: this run spent %s on %d calls (%d without a known cost); the %d stored "
             "replies it used once cost %s", "unknown" if spent is None else f"${spent:.4f}",
             stats.calls_made, stats.spent_unknown, len(stats.cached_fingerprints),
             "unknown" if cached_cost is None else f"${cached_cost:.4f}")
    return metrics


def _catalog(ctx):
    """The corpus as a feed; items labelled by the values whose retrieval lists hold them
    (the demo's theme wins where it exists)."""
    from valuespectrum.feed.catalog import catalog_from_workspace
    from valuespectrum.retrieval.steps import ensure_retrieval

    retrieval = ctx.retrieval or ensure_retrieval(ctx)
    labels: dict[int, tuple[str, ...]] = {}
    for sid, group in retrieval.table.groupby("screenshot_id")["value"]:
        labels[int(sid)] = tuple(sorted(set(group)))
    return catalog_from_workspace(
        ctx.store, ctx.workspace, ctx.cfg.embedder, labels,
        caption_weight=ctx.cfg.recommender.caption_weight,
    )


class _SeenImages:
    """Which catalog item each image sent to the model shows (the simulated respondent
    perceives through the corpus, so it is told; a real model never asks)."""

    def __init__(self, ctx, catalog) -> None:
        self.ctx, self.catalog = ctx, catalog
        self.shas: dict[str, int] = {}
        self._perceiver = None

    def note(self, sha256: str, item_id: int) -> None:
        if self.shas.setdefault(sha256, item_id) == item_id and self._perceiver is not None:
            self._perceiver.register(sha256, item_id)

    def perceiver(self):
        from valuespectrum.simulation.perception import corpus_perceiver

        ids = [item.item_id for item in self.catalog.items]
        self._perceiver = corpus_perceiver(self.ctx, {}, ids)
        for sha, item_id in self.shas.items():
            self._perceiver.register(sha, item_id)
        return self._perceiver


def _recommenders(cfg) -> dict[str, object]:
    """Condition -> recommender settings: the configured one, and random as the control."""
    out = {"adaptive": cfg.recommender}
    if cfg.induce.control:
        out["control"] = replace(cfg.recommender, name="random", kind="random")
    return out


def _plans(ctx, catalog, personas, strategy, model, recommenders) -> list[SessionPlan]:
    """One plan per persona x session x condition. A session's id hashes everything that
    decides its impressions (not their number: a longer run extends it); the recommender seed
    is shared by a persona's adaptive and control sessions."""
    cfg = ctx.cfg
    threshold = cfg.threshold.isq_percent if cfg.strategy.kind == "isq" else None
    identity = {
        "model": model.fingerprint(), "strategy": strategy.version, "threshold": threshold,
        "platform": cfg.platform.name, "feed_url": cfg.platform.feed_url,
        "driver": cfg.agent.driver, "catalog": _catalog_id(catalog),
        "stay_ms": round(cfg.agent.stay_s * 1000), "skip_ms": round(cfg.agent.skip_s * 1000),
        "image_max_side": cfg.induce.image_max_side,
    }
    plans = []
    for persona in personas:
        for index in range(cfg.induce.sessions_per_persona):
            seed = int(content_id([cfg.seed, persona.persona_id, index]), 16) % 2**62
            for condition, rec in recommenders.items():
                sid = content_id({**identity, "condition": condition, "index": index,
                                  "persona": asdict(persona), "recommender": asdict(rec),
                                  "seed": seed})
                row = {
                    "session_id": sid, "condition": condition, "persona_id": persona.persona_id,
                    "favours": list(persona.favours), "session_index": index,
                    "model": cfg.model.name, "strategy": strategy.name,
                    "strategy_version": strategy.version, "threshold": threshold,
                    "recommender": rec.kind, "recommender_settings": json.dumps(asdict(rec)),
                    "platform": cfg.platform.name, "driver": cfg.agent.driver, "seed": seed,
                    "catalog": identity["catalog"], "stay_ms": identity["stay_ms"],
                    "skip_ms": identity["skip_ms"], "videos": cfg.induce.videos,
                    "status": "running", "failed_steps": 0, "error": None,
                    "settings": json.dumps(identity, sort_keys=True, default=str),
                }
                plans.append(SessionPlan(sid, persona, condition, seed, row))
    return plans


def _catalog_id(catalog) -> str:
    import hashlib

    digest = hashlib.sha256(catalog.embeddings.tobytes()).hexdigest()[:16]
    return content_id({"items": [(i.item_id, list(i.values)) for i in catalog.items],
                       "vectors": digest})


def _drivers(ctx, catalog, recommenders, stack: ExitStack):
    """Condition -> driver factory: the Feed in-process, or its page in Chromium (the local
    feed's server started here, stopped when the stage ends)."""
    from valuespectrum.feed.session import Feed

    cfg = ctx.cfg
    feeds = {c: Feed(catalog, rec) for c, rec in recommenders.items()}
    if cfg.agent.driver == "direct":
        from valuespectrum.agent.direct import DirectDriver, ItemImages

        images = ItemImages(catalog, ctx.workspace, cfg.induce.image_max_side)
        images.prefetch()
        return lambda plan: DirectDriver(feeds[plan.condition], images)
    from valuespectrum.agent.browser import BrowserDriver
    from valuespectrum.feed.server import FeedServer

    if cfg.platform.kind == "web":  # a loopback mirror (pre-flight refused anything else)
        urls = dict.fromkeys(feeds, cfg.platform.feed_url)
    else:
        urls = {c: stack.enter_context(FeedServer(f)).url for c, f in feeds.items()}
    return lambda plan: BrowserDriver(urls[plan.condition], cfg.agent,
                                      image_max_side=cfg.induce.image_max_side)


def _frame(plans, results, videos: int):
    """The impressions of the finished sessions (the columns the metrics read, and more)."""
    import pandas as pd

    by_id = {p.session_id: p for p in plans}
    rows = []
    for r in results:
        if r.status != "complete":
            continue
        plan = by_id[r.session_id]
        for imp in r.impressions[:videos]:
            rows.append({
                "session_id": r.session_id, "persona_id": plan.persona.persona_id,
                "condition": plan.condition, "position": imp.position, "item_id": imp.item_id,
                "stay": imp.stayed, "invalid": imp.outcome == "invalid",
                "values": list(imp.values), "favours": list(plan.persona.favours),
                "outcome": imp.outcome, "score_pct": imp.score_pct, "dwell_ms": imp.dwell_ms,
                "rec_score": imp.rec_score, "explored": imp.explored,
                "fields": json.dumps(imp.fields, sort_keys=True, default=str),
                "fingerprint": imp.fingerprint,
            })
    return pd.DataFrame(rows)


def _report(ctx, plans, frame) -> dict[str, float]:
    """Metrics, tables, plots and the printed summary of this job's sessions. They depend only
    on the impressions and the reporting settings, so they are drawn once into a folder of the
    workspace named by those; a re-run with nothing new re-logs (or references) them."""
    import hashlib

    from valuespectrum.report.artifacts import fill_once, publish
    from valuespectrum.report.induce_summary import induce_report
    from valuespectrum.report.plots import figure_formats

    cfg = ctx.cfg
    with ctx.store.connect() as con:
        sessions = InduceStore.sessions(con, [p.session_id for p in plans])
    shown = [{k: v for k, v in s.items() if k not in ("created_at", "updated_at")}
             for s in sessions]
    digest = content_id({
        "impressions": hashlib.sha256(frame.to_json(orient="split").encode()).hexdigest(),
        "sessions": shown, "induce": asdict(cfg.induce), "plots": asdict(cfg.plots),
        "seed": cfg.seed, "model": [cfg.model.name, cfg.model.label, cfg.model.simulated],
        "strategy": cfg.strategy.name, "threshold": cfg.threshold.isq_percent,
        "platform": cfg.platform.name, "recommender": cfg.recommender.kind,
    })
    folder = ctx.workspace / "induce" / digest

    def write(tmp: Path) -> None:
        with figure_formats(cfg.plots.formats):
            metrics, table = induce_report(cfg, frame, sessions, tmp)
        (tmp / "summary.txt").write_text(table + "\n")
        (tmp / "metrics.json").write_text(json.dumps(metrics))  # the completion mark

    fill_once(folder, write, mark="metrics.json", lock=ctx.store.lock)
    metrics = json.loads((folder / "metrics.json").read_text())
    table = (folder / "summary.txt").read_text().rstrip("\n")
    print(table)
    results_log.info("induction\n%s", table)
    names = sorted(p.name for p in folder.iterdir()
                   if p.is_file() and p.name != "metrics.json" and not p.name.startswith("logged-"))
    publish(ctx, folder, names, "induce")
    return metrics
