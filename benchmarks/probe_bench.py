"""The whole probe stage against a slow OpenAI-compatible API: wall time vs ideal, and re-runs.

A fake server (its own process, so it does not share the client's GIL) answers every call after
``--latency`` seconds. For each concurrency the probe runs on a cold cache (a fresh generation
seed makes every request new), and its call phase is compared with the ideal
``calls * latency / concurrency``. Then the same job runs again: every answer comes from the
response cache, and the ratio second/first says what a re-run costs. Run from the repo root:

    python -m benchmarks.probe_bench [--latency 0.2] [--concurrency 8 32 64]
"""

from __future__ import annotations

import argparse
import logging
import multiprocessing as mp
import os
import tempfile
import time
from pathlib import Path

from benchmarks.probe_calls_bench import _serve
from valuespectrum import runner
from valuespectrum.cli import compose

KEY_ENV = "OPENAI_COMPATIBLE_API_KEY"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--latency", type=float, default=0.2)
    ap.add_argument("--concurrency", type=int, nargs="+", default=[8, 32, 64])
    ap.add_argument("--corpus", type=int, default=300, help="demo images (about 250 get probed)")
    ap.add_argument("--samples", type=int, default=3, help="samples per image: calls ~ 750")
    args = ap.parse_args()
    logging.basicConfig(level=logging.WARNING)
    os.environ[KEY_ENV] = "sk-bench"
    ctx = mp.get_context("spawn")
    parent, child = ctx.Pipe()
    server = ctx.Process(target=_serve, args=(args.latency, "gpt-4o-2024-08-06", child),
                         daemon=True)
    server.start()
    base_url = parent.recv()
    rows = []
    try:
        with tempfile.TemporaryDirectory() as tmp:
            base = [
                f"paths.workspace={tmp}/ws", f"corpus.n={args.corpus}", "progress=false",
                "tracking.enabled=false", "model=openai_compatible",
                "model.model=openai/gpt-4o-2024-08-06", f"model.api_base={base_url}",
                "probe.ask_why=false", f"probe.samples={args.samples}",
                "model.generation.temperature=1.0",
            ]
            runner.run(compose([*base, "stages=[collect,index,retrieve]"]), output_dir=Path(tmp))
            for i, c in enumerate(args.concurrency):
                cfg = compose([*base, "stages=[probe]", f"probe.concurrency={c}",
                               f"model.generation.seed={1000 * (i + 1)}"])
                t0 = time.perf_counter()
                m = runner.run(cfg, output_dir=Path(tmp) / f"c{c}")
                stage = time.perf_counter() - t0
                t0 = time.perf_counter()
                again = runner.run(cfg, output_dir=Path(tmp) / f"c{c}-again")
                rerun = time.perf_counter() - t0
                assert again["usage/probe/calls_made"] == 0 and m["usage/probe/calls_failed"] == 0
                calls = m["usage/probe/calls_made"]
                rows.append((c, calls, m["timing/probe/call_seconds"], stage, rerun,
                             calls * args.latency / c))
    finally:
        parent.send("stop")
        server.join(10)
    print(f"probe stage vs fake API: {args.latency * 1000:.0f} ms latency, "
          f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}")
    print(f"{'concurrency':>12}{'calls':>7}{'ideal s':>9}{'calls s':>9}{'calls/ideal':>13}"
          f"{'stage s':>9}{'rerun s':>9}{'rerun/first':>13}")
    for c, calls, call_s, stage, rerun, ideal in rows:
        print(f"{c:>12}{calls:>7.0f}{ideal:>9.2f}{call_s:>9.2f}{call_s / ideal:>13.2f}"
              f"{stage:>9.2f}{rerun:>9.2f}{rerun / stage:>13.3f}")


if __name__ == "__main__":
    main()
