"""Run a job's sessions concurrently, each resuming after its stored impressions.

The sessions of the job (every persona, adaptive and control) run as asyncio tasks, at most
``induce.concurrency`` at once; their calls share one call runner (``agent.gate``). Before the
first step the job reads, in one connection, the stored impressions of its sessions and the
cached replies of its model and strategy; afterwards only the batched writers touch the
database. A finished session replays without a model call, a killed one asks from its first
position without an impression.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from valuespectrum.agent.gate import KIND, CallGate, step_call
from valuespectrum.agent.loop import Answer, Driver, SessionResult, StepFailed, run_session
from valuespectrum.agent.record import SessionWriter, impression_from_row
from valuespectrum.models.base import ChatModel, GenerationParams, ImagePart
from valuespectrum.probe.ask import CacheWriter
from valuespectrum.store import InduceStore


@dataclass(frozen=True)
class SessionPlan:
    """One session to run: who scrolls which feed, and its row in ``sessions``."""

    session_id: str
    persona: Any  # induce.personas.Persona
    condition: str  # adaptive | control
    seed: int
    row: dict[str, Any]


@dataclass
class InduceStats:
    """Counts over the job's sessions, logged as the stage's usage metrics."""

    calls_made: int = 0
    calls_cached: int = 0
    steps_asked: int = 0
    steps_replayed: int = 0
    steps_invalid: int = 0
    steps_failed: int = 0
    sessions_failed: int = 0
    seconds: float = 0.0
    errors: list[str] = field(default_factory=list)
    # What this run's calls cost (``spent_unknown`` replies had no known cost), and the calls
    # whose stored replies answered a step without a call (replayed impressions, cache hits).
    spent_usd: float = 0.0
    spent_unknown: int = 0
    cached_fingerprints: list[str] = field(default_factory=list)

    def as_metrics(self) -> dict[str, float]:
        return {
            "usage/calls_made": self.calls_made,
            "usage/calls_cached": self.calls_cached,
            "usage/steps_asked": self.steps_asked,
            "usage/steps_replayed": self.steps_replayed,
            "usage/steps_invalid": self.steps_invalid,
            "usage/steps_failed": self.steps_failed,
            "usage/sessions_failed": self.sessions_failed,
            "timing/session_seconds": self.seconds,
        }


@dataclass(frozen=True)
class Agent:
    """What every session of a job shares: the model, the strategy, how it acts."""

    model: ChatModel
    strategy: Any  # induce.strategies.Strategy
    params: GenerationParams
    videos: int
    stay_ms: int
    skip_ms: int
    values_of: Callable[[int], tuple[str, ...]]
    note_image: Callable[[str, int], None] = lambda _sha, _item: None


def run_induction(
    ctx, agent: Agent, plans: Sequence[SessionPlan], make_driver: Callable[[SessionPlan], Driver]
) -> tuple[list[SessionResult], InduceStats]:
    """Run ``plans`` to ``agent.videos`` impressions each; their results and the job's counts."""
    with ctx.store.connect() as con:
        InduceStore.open_sessions(con, [p.row for p in plans])
        stored = InduceStore.impressions(con, [p.session_id for p in plans])
        cached = InduceStore.cached_replies(con, agent.model.name, KIND, agent.strategy.version)
    prefixes = {
        p.session_id: [impression_from_row(r) for r in stored.get(p.session_id, [])]
        for p in plans
    }
    stats = InduceStats()
    t0 = time.perf_counter()
    try:
        results = asyncio.run(_run(ctx, agent, plans, make_driver, prefixes, cached, stats))
    finally:
        stats.seconds = time.perf_counter() - t0
    reused = set(stats.cached_fingerprints)
    for r in results:
        reused.update(imp.fingerprint for imp in r.impressions[:r.replayed])
        stats.steps_asked += r.asked
        stats.steps_replayed += r.replayed
        stats.steps_invalid += r.invalid
        stats.steps_failed += r.failed
        stats.sessions_failed += int(r.status == "failed")
        if r.error:
            stats.errors.append(f"{r.session_id}: {r.error}")
    stats.cached_fingerprints = sorted(reused)
    return results, stats


async def _run(ctx, agent, plans, make_driver, prefixes, cached, stats) -> list[SessionResult]:
    cfg = ctx.cfg.induce
    calls: dict = {}
    cache_writer = CacheWriter(ctx, agent.model.name, calls)
    writer = SessionWriter(ctx.store)
    gate = CallGate(
        agent.model, cached, record=cache_writer.add, calls=calls,
        settings={
            "concurrency": cfg.concurrency, "timeout_s": cfg.timeout_s,
            "max_retries": cfg.max_retries, "backoff_base_s": cfg.backoff_base_s,
            "max_error_rate": cfg.max_error_rate,
        },
    )
    model_fp = agent.model.fingerprint()
    gate_open = asyncio.Semaphore(cfg.concurrency)

    def decider(persona) -> Callable[[ImagePart, int], Any]:
        async def decide(image: ImagePart, item_id: int) -> Answer:
            agent.note_image(image.sha256, item_id)
            messages = tuple(agent.strategy.messages(persona, image))
            call = step_call(model_fp, agent.strategy.version, image, messages, agent.params)
            got = await gate.ask(call)
            if not isinstance(got, str):
                raise StepFailed(str(got.error) if got.error else "call failed")
            d = agent.strategy.parse(got)
            return Answer(d.stay, d.outcome, d.score_pct, dict(d.fields), d.parse_reason,
                          call.fingerprint)

        return decide

    async def one(plan: SessionPlan) -> SessionResult:
        async with gate_open:
            result = await run_session(
                plan.session_id, plan.seed, agent.videos, make_driver(plan),
                decider(plan.persona), prefixes[plan.session_id], values_of=agent.values_of,
                stay_ms=agent.stay_ms, skip_ms=agent.skip_ms,
                on_impression=lambda imp: writer.add(plan.session_id, imp),
            )
        writer.end(plan.session_id, result.status, result.failed, result.error)
        return result

    to_ask = sum(max(0, agent.videos - len(prefixes[p.session_id])) for p in plans)
    serving = asyncio.create_task(gate.serve(progress=ctx.cfg.progress, total=to_ask))
    work = asyncio.ensure_future(asyncio.gather(*(one(p) for p in plans)))
    try:
        await asyncio.wait({serving, work}, return_when=asyncio.FIRST_COMPLETED)
        if serving.done():  # the call runner stopped first: the error budget, or a writer
            serving.result()
        results = await work
        gate.close()
        await serving
    finally:
        for task in (serving, work):
            task.cancel()
        await asyncio.gather(serving, work, return_exceptions=True)
        try:
            cache_writer.close()
        finally:
            writer.close()
    stats.calls_made, stats.calls_cached = gate.made, gate.hits
    stats.spent_usd, stats.spent_unknown = gate.spent_usd, gate.spent_unknown
    stats.cached_fingerprints = sorted(gate.stored_used)
    return list(results)
