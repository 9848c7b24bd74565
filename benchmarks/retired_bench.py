"""A retired model is refused at once: ``python run.py model=<retired>`` wall time, side by side
with a bare ``python -c pass`` and with a config mistake caught after Hydra composes
(``probe.concurrency=0``). Aim: the refusal under 1 s. Run from the repo root:

    python benchmarks/retired_bench.py [--repeats 3]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RETIRED = ("claude35_sonnet", "gemini15_pro", "gemini20_flash")


def _wall(args: list[str], repeats: int) -> tuple[float, str]:
    env = {**os.environ, "LITELLM_LOCAL_MODEL_COST_MAP": "True"}
    times, err = [], ""
    for _ in range(repeats):
        t0 = time.perf_counter()
        res = subprocess.run([sys.executable, *args], cwd=ROOT, capture_output=True, text=True,
                             env=env, timeout=120)
        times.append(time.perf_counter() - t0)
        err = res.stderr.strip().splitlines()[-1] if res.stderr.strip() else ""
    return statistics.median(times), err


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=3)
    repeats = parser.parse_args().repeats
    bare, _ = _wall(["-c", "pass"], repeats)
    composed, _ = _wall(["run.py", "probe.concurrency=0"], repeats)
    print(f"python -c pass                     {bare:6.2f} s")
    print(f"run.py probe.concurrency=0         {composed:6.2f} s   (refused after Hydra composes)")
    for name in RETIRED:
        wall, line = _wall(["run.py", f"model={name}"], repeats)
        print(f"run.py model={name:<20} {wall:6.2f} s   x{wall / composed:.2f} of the composed "
              f"refusal; {'OK' if wall < 1 else 'OVER'} (aim < 1 s)\n    {line}")


if __name__ == "__main__":
    main()
