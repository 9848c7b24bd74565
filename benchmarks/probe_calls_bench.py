"""How close ``run_calls`` + ``LiteLLMModel`` get to ideal throughput against a slow API.

The fake server answers every call after ``--latency`` seconds, so the ideal wall time at
concurrency c is ``calls * latency / c``; the ratio wall/ideal is the client-side overhead
(litellm request building, httpx/aiohttp, the event loop). The server runs in its own process so
its threads do not compete with the client for the GIL, as a real API would not. Run from the
repository root (it imports the fake from ``tests.fakes``):

    python -m benchmarks.probe_calls_bench [--calls 750] [--latency 0.2] [--concurrency 8 32 64]
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import multiprocessing as mp
import os
import time
from multiprocessing.connection import Connection

from tests.fakes.openai_server import FakeOpenAIServer, reply
from valuespectrum.models.base import GenerationParams, ImagePart, Message
from valuespectrum.models.calls import CallRequest, run_calls
from valuespectrum.models.litellm_backend import LiteLLMModel, import_litellm

KEY_ENV = "PROBE_BENCH_FAKE_KEY"


def _serve(latency_s: float, served_model: str, conn: Connection) -> None:
    """Child process: run the fake server until the parent says stop."""
    with FakeOpenAIServer([reply("Yes")], latency_s=latency_s, model=served_model) as server:
        conn.send(server.base_url)
        conn.recv()


def _requests(n: int, image_kb: int) -> list[CallRequest]:
    """Distinct JPEG-sized payloads, as a probe sends one image per call."""
    out = []
    for i in range(n):
        data = hashlib.sha256(str(i).encode()).digest() * (image_kb * 1024 // 32)
        msg = Message("user", (ImagePart(data), "Is this content interesting? yes or no"))
        out.append(CallRequest(f"k{i}", (msg,), GenerationParams(max_tokens=300)))
    return out


async def _measure(base_url: str, model_id: str, calls: int, concurrency: int, image_kb: int
                   ) -> float:
    model = LiteLLMModel("bench", f"openai/{model_id}", api_base=base_url, api_key_env=KEY_ENV,
                         timeout_s=60)
    start = time.perf_counter()
    results = await run_calls(model, _requests(calls, image_kb), concurrency=concurrency,
                              progress=False)
    wall = time.perf_counter() - start
    failed = sum(r.error is not None for r in results)
    if failed:
        raise SystemExit(f"{failed} calls failed; the benchmark needs a clean run")
    return wall


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=750)
    parser.add_argument("--latency", type=float, default=0.2)
    parser.add_argument("--concurrency", type=int, nargs="+", default=[8, 32, 64])
    parser.add_argument("--image-kb", type=int, default=64)
    parser.add_argument("--model", default="gpt-4o-2024-08-06",
                        help="model id the client asks for and the server reports; a priced one "
                        "keeps litellm's cost lookup on its fast path, as with a real API")
    parser.add_argument("--in-process-server", action="store_true",
                        help="serve from a thread of this process (shares the GIL)")
    args = parser.parse_args()
    os.environ[KEY_ENV] = "sk-bench"
    import_litellm()  # the one-off import is not what is being measured

    ctx = mp.get_context("spawn")
    parent, child = ctx.Pipe()
    proc = None
    local = None
    if args.in_process_server:
        local = FakeOpenAIServer([reply("Yes")], latency_s=args.latency, model=args.model).start()
        base_url = local.base_url
    else:
        proc = ctx.Process(target=_serve, args=(args.latency, args.model, child), daemon=True)
        proc.start()
        base_url = parent.recv()
    try:
        asyncio.run(_measure(base_url, args.model, 20, 4, args.image_kb))  # warm litellm's paths
        rows = []
        for c in args.concurrency:
            wall = asyncio.run(_measure(base_url, args.model, args.calls, c, args.image_kb))
            ideal = args.calls * args.latency / c
            rows.append((c, wall, ideal))
    finally:
        if local is not None:
            local.stop()
        if proc is not None:
            parent.send("stop")
            proc.join(10)
    where = "in-process" if local else "in a subprocess"
    print(f"{args.model}: {args.calls} calls, {args.latency * 1000:.0f} ms latency, "
          f"{args.image_kb} KiB images, server {where}, {os.cpu_count()} CPUs, "
          f"load average {os.getloadavg()[0]:.1f}")
    print("concurrency " + "".join(f"{c:>10d}" for c, _, _ in rows))
    print("wall s      " + "".join(f"{w:>10.2f}" for _, w, _ in rows))
    print("ideal s     " + "".join(f"{i:>10.2f}" for _, _, i in rows))
    print("wall/ideal  " + "".join(f"{w / i:>10.2f}" for _, w, i in rows))
    print("calls/s     " + "".join(f"{args.calls / w:>10.1f}" for _, w, _ in rows))


if __name__ == "__main__":
    main()
