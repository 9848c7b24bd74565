"""Is the client ever the bottleneck? Four clients, the same calls, side by side.

A loopback API (its own process, so serving does not compete with the client) answers every
call after ``--latency`` seconds, so at concurrency c the ideal wall time is
``calls * latency / c``. The calls are exactly those the probe stage makes: the stage runs once
against the plain server, which keeps the request bodies, and those bodies are then replayed by

* ``openai``   a bare ``openai.AsyncOpenAI`` loop (semaphore + gather), the floor;
* ``litellm``  a bare ``litellm.acompletion`` loop, the same way;
* ``runner``   ``run_calls`` + ``LiteLLMModel``, the probe's call runner;
* ``stage``    the whole probe stage (fresh seed, so every call is new; fingerprints, cache
  writes, scoring and all), timed end to end as the job's run (``runner.run``; composing the
  job's config with Hydra is the CLI's work and not timed); ``stage calls`` is its call phase;
  ``stage cold`` is a first probe of the retrieval: no image has been encoded yet. The stage
  runs with its defaults: at these concurrencies ``probe.client_processes=auto`` makes the
  calls in worker processes (``models.spread``), started by the warm-up run and kept, as in a
  sweep; ``--client-processes 0`` keeps every call in the stage's own process.

Each cell is the median over ``--repeat`` rounds (the clients take turns within a round, so
machine noise hits them alike). ``cpu ms`` is the client's CPU time per call: this process's
(all threads) plus its call workers'.
The last column of the summary is what the client costs: stage / openai. Run from the repo root:

    python -m benchmarks.client_bench [--latency 0.2] [--concurrency 32 64] [--server plain fake]
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import io
import json
import logging
import multiprocessing as mp
import os
import shutil
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from benchmarks.loopback_api import LoopbackAPI
from benchmarks.probe_calls_bench import _serve as _serve_fake
from valuespectrum import runner
from valuespectrum.cli import compose
from valuespectrum.models.base import GenerationParams, ImagePart, Message
from valuespectrum.models.calls import CallRequest, run_calls
from valuespectrum.models.litellm_backend import LiteLLMModel, import_litellm

KEY_ENV = "OPENAI_COMPATIBLE_API_KEY"  # what conf/model/openai_compatible.yaml reads
SERVED = "gpt-4o-2024-08-06"  # a priced model: litellm prices every reply, as with a real API
CLIENTS = ("openai", "litellm", "runner", "stage", "stage cold")


class _FakeServer:
    """The project's scripted fake server (``tests.fakes``), in a child process."""

    def __init__(self, latency_s: float) -> None:
        ctx = mp.get_context("spawn")
        self._conn, child = ctx.Pipe()
        self._proc = ctx.Process(target=_serve_fake, args=(latency_s, SERVED, child), daemon=True)
        self._proc.start()
        self.base_url = self._conn.recv()

    def stop(self) -> None:
        self._conn.send("stop")
        self._proc.join(10)


def _gated(concurrency: int, bodies: list[dict[str, Any]],
           call: Callable[[dict[str, Any]], Awaitable[Any]]) -> Awaitable[list[Any]]:
    gate = asyncio.Semaphore(concurrency)

    async def one(body: dict[str, Any]) -> Any:
        async with gate:
            return await call(body)

    return asyncio.gather(*(one(b) for b in bodies))


async def _openai_loop(url: str, bodies: list[dict[str, Any]], concurrency: int) -> None:
    import openai

    client = openai.AsyncOpenAI(base_url=url, api_key="sk-bench", max_retries=0)
    await _gated(concurrency, bodies, lambda b: client.chat.completions.create(**b))
    await client.close()


async def _litellm_loop(url: str, bodies: list[dict[str, Any]], concurrency: int) -> None:
    litellm = import_litellm()
    await _gated(concurrency, bodies, lambda b: litellm.acompletion(
        **{**b, "model": f"openai/{b['model']}"}, api_base=url, api_key="sk-bench"))


async def _runner(url: str, requests: list[CallRequest], concurrency: int) -> None:
    os.environ.setdefault(KEY_ENV, "sk-bench")
    model = LiteLLMModel("bench", f"openai/{SERVED}", api_base=url, api_key_env=KEY_ENV)
    results = await run_calls(model, requests, concurrency=concurrency, progress=False)
    if not all(r.ok for r in results):
        raise SystemExit(f"{sum(not r.ok for r in results)} calls failed; needs a clean run")


def _as_request(i: int, body: dict[str, Any]) -> CallRequest:
    """A recorded OpenAI body back as the runner's request (data URLs back to bytes)."""
    messages = []
    for m in body["messages"]:
        content = m["content"]
        if isinstance(content, str):
            messages.append(Message.text(m["role"], content))
            continue
        parts: list[str | ImagePart] = []
        for p in content:
            if p["type"] == "text":
                parts.append(p["text"])
            else:
                head, data = p["image_url"]["url"].split(",", 1)
                parts.append(ImagePart(base64.b64decode(data), head[5:].split(";")[0]))
        messages.append(Message(m["role"], tuple(parts)))
    params = GenerationParams(temperature=body.get("temperature", 0.0),
                              max_tokens=body.get("max_tokens", 300), top_p=body.get("top_p"),
                              seed=body.get("seed"))
    return CallRequest(f"k{i}", tuple(messages), params)


def _clean(body: dict[str, Any]) -> dict[str, Any]:
    """The fields a bare client sends itself (the stage's request, minus litellm's additions)."""
    keep = ("model", "messages", "temperature", "max_tokens", "top_p", "seed")
    return {k: body[k] for k in keep if k in body}


class _Bench:
    def __init__(self, tmp: Path, args: argparse.Namespace) -> None:
        self.tmp, self.args = tmp, args
        self.base = [
            f"paths.workspace={tmp}/ws", f"corpus.n={args.corpus}", "progress=false",
            "tracking.enabled=false", "model=openai_compatible", f"model.model=openai/{SERVED}",
            "probe.ask_why=false", f"probe.samples={args.samples}",
            "model.generation.temperature=1.0", f"probe.client_processes={args.client_processes}",
        ]
        self.seed = 0
        self.in_workers: list[int] = []  # per stage run: calls its call workers made

    def stage(self, url: str, concurrency: int, images_encoded: bool = True
              ) -> tuple[float, float, float, int]:
        """One cold probe stage (a new seed: no call is cached); (wall, cpu, call phase, calls).

        Timed: the job's whole run (``runner.run``: pre-flight, run header, the stage, the job
        record). Not timed: composing the job's config (Hydra, the CLI's part) and removing the
        encoded images before a ``stage cold`` run."""
        if not images_encoded:
            shutil.rmtree(self.tmp / "ws" / "encoded", ignore_errors=True)
        self.seed += 1000
        cfg = compose([*self.base, "stages=[probe]", f"model.api_base={url}",
                       f"probe.concurrency={concurrency}",
                       f"model.generation.seed={self.seed}"])
        with contextlib.redirect_stdout(io.StringIO()):  # the stage prints its score table
            wall, cpu, m = _timed(lambda: runner.run(cfg, output_dir=self.tmp / f"out{self.seed}"))
        if m["usage/probe/calls_failed"]:
            raise SystemExit("stage calls failed; the benchmark needs a clean run")
        self.in_workers.append(int(m.get("usage/probe/calls_in_workers", 0)))
        return wall, cpu, m["timing/probe/call_seconds"], int(m["usage/probe/calls_made"])


def _worker_cpu_s() -> float:
    """CPU seconds used so far by the probe's call workers (``models.spread``; Linux /proc)."""
    from valuespectrum.models.spread import _pool

    total = 0.0
    for w in _pool.workers:
        with contextlib.suppress(OSError, ValueError, IndexError):
            fields = Path(f"/proc/{w.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


def _timed(fn: Callable[[], Any]) -> tuple[float, float, Any]:
    t0, c0, w0 = time.perf_counter(), time.process_time(), _worker_cpu_s()
    out = fn()
    cpu = time.process_time() - c0 + _worker_cpu_s() - w0
    return time.perf_counter() - t0, cpu, out


def _measure(bench: _Bench, url: str, bodies: list[dict[str, Any]], concurrency: int,
             repeat: int) -> dict[str, dict[str, float]]:
    requests = [_as_request(i, b) for i, b in enumerate(bodies)]
    cells: dict[str, list[tuple[float, float]]] = {k: [] for k in (*CLIENTS, "stage calls")}
    for _ in range(repeat):
        for name, fn in (
            ("openai", lambda: asyncio.run(_openai_loop(url, bodies, concurrency))),
            ("litellm", lambda: asyncio.run(_litellm_loop(url, bodies, concurrency))),
            ("runner", lambda: asyncio.run(_runner(url, requests, concurrency))),
            ("stage", lambda: bench.stage(url, concurrency)),
            ("stage cold", lambda: bench.stage(url, concurrency, images_encoded=False)),
        ):
            wall, cpu, out = _timed(fn)
            if name.startswith("stage"):
                wall, cpu, calls_s, made = out  # the job's run, not its config's composition
                if made != len(bodies):
                    raise SystemExit(f"the stage made {made} calls, expected {len(bodies)}")
                if name == "stage":
                    cells["stage calls"].append((calls_s, float("nan")))
            cells[name].append((wall, cpu))
    return {k: {"wall": statistics.median(w for w, _ in v),
                "cpu_ms": 1000 * statistics.median(c for _, c in v) / len(bodies)}
            for k, v in cells.items()}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--latency", type=float, default=0.2)
    ap.add_argument("--concurrency", type=int, nargs="+", default=[32, 64])
    ap.add_argument("--server", nargs="+", choices=["plain", "fake"], default=["plain"])
    ap.add_argument("--corpus", type=int, default=300, help="demo images (about 270 probed)")
    ap.add_argument("--samples", type=int, default=3, help="samples per image: calls ~ 800")
    ap.add_argument("--repeat", type=int, default=3, help="rounds; each cell is the median")
    ap.add_argument("--client-processes", default="auto",
                    help="the stage's probe.client_processes (auto: its default)")
    args = ap.parse_args()
    logging.basicConfig(level=logging.WARNING)
    os.environ[KEY_ENV] = "sk-bench"
    import_litellm()
    plain = LoopbackAPI(args.latency, SERVED).start()
    servers: dict[str, Any] = {"plain": plain}
    if "fake" in args.server:
        servers["fake"] = _FakeServer(args.latency)
    table = []
    try:
        with tempfile.TemporaryDirectory() as tmp:
            bench = _Bench(Path(tmp), args)
            runner.run(compose([*bench.base, "stages=[collect,index,retrieve]"]),
                       output_dir=Path(tmp) / "prep")
            plain.record(True)  # the warm-up run's bodies are the calls every client replays
            bench.stage(plain.base_url, max(args.concurrency))
            raw = plain.bodies()
            kib = sum(map(len, raw)) / len(raw) / 1024
            bodies = [_clean(json.loads(b)) for b in raw]
            plain.record(False)
            for name in args.server:
                for c in args.concurrency:
                    res = _measure(bench, servers[name].base_url, bodies, c, args.repeat)
                    table.append((name, c, res))
    finally:
        for s in servers.values():
            s.stop()
    _print(args, len(bodies), kib, table)
    runs = bench.in_workers[1:]  # after the warm-up
    print(f"stage runs: {min(runs)}-{max(runs)} of their {len(bodies)} calls made in call workers")


def _print(args: argparse.Namespace, calls: int, kib: float, table: list) -> None:
    print(f"\n{calls} calls of {kib:.0f} KiB, {args.latency * 1000:.0f} ms latency, median of "
          f"{args.repeat}, {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}, stage "
          f"probe.client_processes={args.client_processes}")
    print(f"{'server':>7}{'conc':>5}{'client':>13}{'wall s':>8}{'ideal s':>8}{'/ideal':>8}"
          f"{'/openai':>8}{'cpu ms':>8}")
    for name, c, res in table:
        ideal = calls * args.latency / c
        for client, cell in res.items():
            cpu = "" if cell["cpu_ms"] != cell["cpu_ms"] else f"{cell['cpu_ms']:8.2f}"
            print(f"{name:>7}{c:>5}{client:>13}{cell['wall']:>8.2f}{ideal:>8.2f}"
                  f"{cell['wall'] / ideal:>8.2f}{cell['wall'] / res['openai']['wall']:>8.2f}{cpu}")


if __name__ == "__main__":
    main()
