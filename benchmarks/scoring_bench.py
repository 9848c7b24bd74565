"""Scoring the demo's answers stays well under a second: time of ``score_profile`` (two-stage
bootstrap, 2000 replicates, permutation tests) beside the bare counts, and against a 1 s budget.

The answers are shaped like the demo's: 10 values x 10 keywords x 5 images = 500 answers on
368 unique screenshots, 112 of them serving 2-4 values (or pass ``--answers`` an answers.parquet
from a probe result folder). Run from the repo root:

    python -m benchmarks.scoring_bench [--answers PATH] [--models 8] [--repeats 3]
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd

from valuespectrum.probe.scoring import score_profile
from valuespectrum.values import VALUES

BUDGET_S = 1.0


def demo_like_answers(seed: int = 0, model: str = "m") -> pd.DataFrame:
    """500 answers on 368 screenshots; 112 screenshots are reused by 2-4 values."""
    rng = np.random.default_rng(seed)
    slots = [(v, f"kw{k}") for v in VALUES for k in range(10) for _ in range(5)]
    ids = np.arange(len(slots))
    shared = rng.choice(len(slots), size=len(slots) - 368, replace=False)
    ids[shared] = rng.choice(np.setdiff1d(ids, shared), size=len(shared))  # reuse others' ids
    p_yes = rng.uniform(0.5, 0.95, size=len(slots))
    answer = {int(i): ("yes" if rng.random() < p_yes[i] else "no") for i in np.unique(ids)}
    return pd.DataFrame(
        [(model, v, kw, int(i), answer[int(i)]) for (v, kw), i in zip(slots, ids, strict=True)],
        columns=["model", "value", "keyword", "screenshot_id", "outcome"],
    )


def _best(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--answers", help="an answers.parquet (columns of the answers table)")
    ap.add_argument("--models", type=int, default=8, help="models in the multi-model case")
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    one = pd.read_parquet(args.answers) if args.answers else demo_like_answers()
    if "model" not in one:
        one["model"] = "m"
    many = pd.concat([demo_like_answers(s, f"m{s}") for s in range(args.models)])
    score_profile(one)  # imports (scipy.special) and first-call costs out of the timing
    for name, df in (("demo answers", one), (f"{args.models} models", many)):
        counts = _best(lambda df=df: pd.crosstab([df["value"], df["keyword"]], df["outcome"]),
                       args.repeats)  # fmt: skip
        full = _best(lambda df=df: score_profile(df), args.repeats)
        per_model = full / df["model"].nunique()
        print(f"{name:14s} {len(df):5d} answers: counts {counts * 1e3:6.1f} ms, score_profile "
              f"{full * 1e3:7.1f} ms (x{full / counts:5.1f} the counts; {per_model * 1e3:.0f} ms"
              f" per model = {per_model / BUDGET_S:.2f} of the {BUDGET_S:g} s budget)")


if __name__ == "__main__":
    main()
