"""Coverage of the 95% I_avg interval on synthetic sessions whose I is known by construction.

Ten personas per study, the role-play default. Persona p's sessions stay with probability a_p
in the first window and a_p + d_p in the last (a_p ~ U(0.2, 0.5), d_p ~ U(0.05, 0.35)), so the
I_avg over the persona population is 100 · E[d] = 20 points. Each study goes through
``induction_table`` (the stage's own path). Run with
``python -m pytest tests/induce/test_coverage.py --runslow -s`` to see the figures.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from valuespectrum.induce.metrics import induction_table

PERSONAS = 10
SEEDS = 1000
N_BOOT = 1000
N, WINDOW = 100, 50
TRUE_I = 20.0


def study(rng: np.random.Generator, sessions: int) -> pd.DataFrame:
    a = rng.uniform(0.2, 0.5, PERSONAS)
    d = rng.uniform(0.05, 0.35, PERSONAS)
    rows = []
    for p in range(PERSONAS):
        for s in range(sessions):
            rate = np.r_[np.full(WINDOW, a[p]), np.full(N - WINDOW, a[p] + d[p])]
            rows.append(pd.DataFrame({
                "session_id": f"p{p}s{s}", "persona_id": f"p{p}", "condition": "adaptive",
                "position": np.arange(N), "item_id": np.arange(N), "stay": rng.random(N) < rate,
                "invalid": False, "values": [("power",)] * N, "favours": [()] * N,
            }))  # fmt: skip
    return pd.concat(rows, ignore_index=True)


def coverage(sessions: int, seeds: int = SEEDS) -> tuple[float, float]:
    """Share of 95% I_avg intervals holding the true I, and their mean width (points)."""
    rng = np.random.default_rng([2026, sessions])
    hits, width = 0, 0.0
    for seed in range(seeds):
        row = induction_table(study(rng, sessions), window=WINDOW, n_boot=N_BOOT,
                              seed=seed)["conditions"]["adaptive"]  # fmt: skip
        hits += row["ci_low"] <= TRUE_I <= row["ci_high"]
        width += row["ci_high"] - row["ci_low"]
    return hits / seeds, width / seeds


@pytest.mark.slow
@pytest.mark.parametrize("sessions", [1, 3])
def test_i_avg_interval_at_ten_personas_covers_93_to_97_percent(sessions: int) -> None:
    """1000 studies: the binomial sd of the measured coverage is 0.7 points, so 93-97% is a
    band of about 3 sd either side of the nominal 95%."""
    covered, width = coverage(sessions)
    print(f"\nI_avg coverage, {PERSONAS} personas x {sessions} session(s): "
          f"{100 * covered:.1f}% (mean width {width:.1f} points)")  # fmt: skip
    assert 0.93 <= covered <= 0.97
