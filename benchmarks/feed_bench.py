"""The agent's own cost: direct-driver overhead per step (the model call excluded), the browser
driver's time per step, and sessions/s at concurrency 1 vs 8 with a fixed-latency model.

Everything runs the induce stage's real path (session runner, call gate, call runner, cache and
session writers, the in-process Feed) against a model that answers at once or after a fixed
latency. Aims: direct overhead < 5 ms per step; sessions/s at concurrency 8 >= 6x concurrency 1.
Run from the repo root (about a minute; the browser part needs Debian's Chromium):

    python -m benchmarks.feed_bench [--videos 60] [--latency 0.05] [--no-browser]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import tempfile
import time
import uuid
from contextlib import ExitStack
from pathlib import Path

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

from valuespectrum import runner
from valuespectrum.agent.sessions import Agent, run_induction
from valuespectrum.cli import compose
from valuespectrum.context import Context
from valuespectrum.models.base import GenerationParams, Reply
from valuespectrum.stages import induce
from valuespectrum.store import Store


class FixedModel:
    """Answers every step after ``latency_s``, alternately yes and no; counts its own time."""

    def __init__(self, latency_s: float) -> None:
        self.name, self.latency_s, self.nonce = "fixed", latency_s, uuid.uuid4().hex
        self.in_call = 0.0
        self.n = 0

    def fingerprint(self) -> dict:
        return {"backend": "bench", "nonce": self.nonce, "latency": self.latency_s}

    async def achat(self, messages, params) -> Reply:
        t0 = time.perf_counter()
        if self.latency_s:
            await asyncio.sleep(self.latency_s)
        self.n += 1
        text = json.dumps({"decision": "yes" if self.n % 2 else "no", "reason": "r",
                           "trait_num": 1})
        self.in_call += time.perf_counter() - t0
        return Reply(text=text, latency_s=self.latency_s)

    async def aclose(self) -> None:
        return None


def job(ws: Path, model: FixedModel, overrides: list[str], sessions: int | None = None):
    """Run the induce stage's sessions with ``model``; (seconds, steps)."""
    cfg = compose([f"paths.workspace={ws}", "progress=false", "tracking.enabled=false",
                   "stages=[induce]", *overrides])
    ctx = Context(cfg, ws, Store(ws), ws.parent / "out")
    catalog = induce._catalog(ctx)
    from valuespectrum.induce.personas import load_personas
    from valuespectrum.induce.strategies import make_strategy

    personas = load_personas(cfg.persona)
    strategy = make_strategy(cfg.strategy, cfg.threshold)
    plans = induce._plans(ctx, catalog, personas, strategy, model, induce._recommenders(cfg))
    plans = plans[:sessions] if sessions else plans
    agent = Agent(model, strategy, GenerationParams(), cfg.induce.videos,
                  round(cfg.agent.stay_s * 1000), round(cfg.agent.skip_s * 1000),
                  lambda i: catalog.by_id(i).values)
    with ExitStack() as stack:
        drivers = induce._drivers(ctx, catalog, induce._recommenders(cfg), stack)
        t0 = time.perf_counter()
        results, stats = run_induction(ctx, agent, plans, drivers)
        seconds = time.perf_counter() - t0
    assert all(r.status == "complete" for r in results), stats.errors[:3]
    return seconds, stats.steps_asked


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--videos", type=int, default=60)
    ap.add_argument("--latency", type=float, default=0.05)
    ap.add_argument("--no-browser", action="store_true")
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="feed-bench-"))
    try:
        ws = tmp / "ws"
        runner.run(compose([f"paths.workspace={ws}", "corpus.n=300", "retrieve.k=1",
                            "stages=[collect,index,retrieve]", "progress=false",
                            "tracking.enabled=false"]), output_dir=tmp / "out0")
        v = [f"induce.videos={args.videos}", f"induce.window={args.videos // 4}"]
        # warm-up (imports, image encoding cache), then the measured run
        job(ws, FixedModel(0.0), [*v, "induce.concurrency=1"], sessions=2)
        model = FixedModel(0.0)
        secs, steps = job(ws, model, [*v, "induce.concurrency=1"])
        overhead_ms = 1000 * (secs - model.in_call) / steps
        print(f"direct driver: {steps} steps in {secs:.2f} s; overhead per step excluding the "
              f"model call {overhead_ms:.2f} ms (aim < 5 ms)")
        rates = {}
        for c in (1, 8):
            secs, steps = job(ws, FixedModel(args.latency), [*v, f"induce.concurrency={c}"],
                              sessions=16)
            rates[c] = 16 / secs
            print(f"concurrency {c}: 16 sessions x {args.videos} steps, model latency "
                  f"{1000 * args.latency:.0f} ms: {secs:.2f} s, {rates[c]:.3f} sessions/s")
        print(f"sessions/s at concurrency 8 / 1: {rates[8] / rates[1]:.2f}x (aim >= 6x)")
        if not args.no_browser and shutil.which("chromium"):
            browser = [*v[:0], "induce.videos=6", "induce.window=2", "agent.driver=browser",
                       "agent.stay_s=0.4", "agent.skip_s=0.05", "recommender.long_watch_ms=300",
                       "recommender.skip_ms=150", "induce.control=false"]
            secs, steps = job(ws, FixedModel(0.0), browser, sessions=1)
            print(f"browser driver: {steps} steps in {secs:.2f} s, {secs / steps:.2f} s per step "
                  "(Chromium start included; dwell 0.05-0.4 s each)")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
