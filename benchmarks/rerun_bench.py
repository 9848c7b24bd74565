"""A repeated ``python run.py`` costs almost nothing: second-run wall time / first-run wall time.

Runs README's main job twice, as a user would (two processes, one fresh workspace), and prints
both wall times, their ratio and each stage's time from the job log. Aim: ratio <= 0.20. A fully
cached re-run loads no model, draws nothing and uploads no artifact again (it logs references
to the first run's). Run from the repo root:

    python benchmarks/rerun_bench.py [--repeats 1] [extra overrides ...]
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
STAGE = re.compile(r"stage (\w+): done in ([0-9.]+)s")


def _run(workspace: Path, out: Path, extra: list[str]) -> tuple[float, dict[str, float]]:
    cmd = [sys.executable, "run.py", f"paths.workspace={workspace}", f"hydra.run.dir={out}",
           *extra]
    env = {**os.environ, "LITELLM_LOCAL_MODEL_COST_MAP": "True"}
    t0 = time.perf_counter()
    subprocess.run(cmd, cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)
    wall = time.perf_counter() - t0
    log = next(out.glob("*.log")).read_text()
    return wall, {m[1]: float(m[2]) for m in STAGE.finditer(log)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=1, help="fresh workspaces to average over")
    ap.add_argument("overrides", nargs="*", help="extra Hydra overrides for both runs")
    args = ap.parse_args()
    ratios = []
    for rep in range(args.repeats):
        with tempfile.TemporaryDirectory(prefix="rerun-bench-") as tmp:
            ws = Path(tmp) / "ws"
            first, s1 = _run(ws, Path(tmp) / "first", args.overrides)
            second, s2 = _run(ws, Path(tmp) / "second", args.overrides)
        ratios.append(second / first)
        print(f"repeat {rep}: first {first:.1f} s, re-run {second:.1f} s, "
              f"ratio {second / first:.3f} (aim <= 0.20)")
        for stage in s1:
            print(f"  {stage:9s} first {s1[stage]:6.1f} s   re-run {s2.get(stage, 0):6.2f} s")
    if args.repeats > 1:
        print(f"mean ratio {sum(ratios) / len(ratios):.3f}")


if __name__ == "__main__":
    main()
