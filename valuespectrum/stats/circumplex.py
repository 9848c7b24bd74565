"""How well a value profile follows Schwartz's circle (numpy only, no I/O).

The headline is ``circumplex_fit``: the share of the centred profile's variance that one cosine
around the circle explains, with a permutation p-value. ``circumplex_r`` (distance vs score gap)
is kept for comparison with earlier results only.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from itertools import combinations

import numpy as np

from valuespectrum.values import CIRCUMPLEX_ANGLES, VALUES, circumplex_distance


@dataclass(frozen=True)
class CircumplexFit:
    """``share``: R² of score ≈ c + a·cos θ + b·sin θ over the values' angles θ; ``p``: the share
    of value shufflings that fit at least as well; ``peak``: the value nearest the cosine's top;
    ``amplitude`` (points) and ``phase`` (degrees) of the fitted cosine."""

    share: float
    p: float
    peak: str | None
    amplitude: float
    phase: float


_NAN_FIT = CircumplexFit(float("nan"), float("nan"), None, float("nan"), float("nan"))


def circumplex_fit(
    profile: Mapping[str, float],
    angles: Mapping[str, float] | None = None,
    *,
    n_perm: int = 9999,
    rng: np.random.Generator | None = None,
) -> CircumplexFit:
    """Least-squares fit of one cosine to the profile on the values' ``angles`` (degrees;
    default ``values.CIRCUMPLEX_ANGLES``, Schwartz's circle at equal steps).

    The fit includes an intercept, so it is the same for raw and centred scores; with equal
    steps it is the first Fourier harmonic. A pure motivational continuum (one peak, the opposite
    trough) fits at 1.0. Values may share an angle (Conformity and Tradition in one wedge). The
    p-value shuffles the scores among the angles ``n_perm`` times: p = (1 + #{R²* ≥ R²}) /
    (1 + n_perm); a random profile of ten values reaches R² ≈ 0.22 on average. Needs at least
    four values with scores at three or more distinct angles; otherwise, or for a flat
    profile, all fields are NaN.
    """
    angles = dict(CIRCUMPLEX_ANGLES if angles is None else angles)
    names = [v for v in VALUES if v in profile and profile[v] == profile[v] and v in angles]
    theta = np.radians([float(angles[v]) for v in names])
    if len(names) < 4 or len(np.unique(np.round(theta, 9))) < 3:
        return _NAN_FIT
    x = np.array([profile[v] for v in names], float)
    x = x - x.mean()
    if float(x @ x) == 0:
        return _NAN_FIT
    basis = np.column_stack([np.cos(theta), np.sin(theta)])
    basis -= basis.mean(axis=0)
    proj = basis @ np.linalg.pinv(basis)  # hat matrix of the centred cos/sin regression
    share = float(x @ proj @ x / (x @ x))
    a, b = np.linalg.pinv(basis) @ x
    phase = float(np.degrees(np.arctan2(b, a)) % 360)
    gaps = [abs((float(angles[v]) - phase + 180) % 360 - 180) for v in names]
    rng = rng or np.random.default_rng(0)
    shuffled = x[np.argsort(rng.random((n_perm, len(x))), axis=1)]
    fits = np.einsum("bi,ij,bj->b", shuffled, proj, shuffled) / (x @ x)
    p = (1 + int((fits >= share - 1e-12).sum())) / (1 + n_perm)
    return CircumplexFit(share, float(p), names[int(np.argmin(gaps))], float(np.hypot(a, b)),
                         phase)  # fmt: skip


def circumplex_r(profile: Mapping[str, float]) -> float:
    """Pearson r between circumplex distance and absolute score difference over value pairs.

    Kept for comparison with earlier results, no longer a headline: even a perfect
    single-peaked sinusoid gives only about 0.55, so the number is hard to read. NaN with fewer
    than three values or when all gaps (or distances) are equal.
    """
    s = {v: float(x) for v, x in profile.items() if x == x}  # drop NaN
    pairs = list(combinations([v for v in VALUES if v in s], 2))
    if len(pairs) < 3:
        return float("nan")
    dist = np.array([circumplex_distance(a, b) for a, b in pairs], float)
    gap = np.array([abs(s[a] - s[b]) for a, b in pairs])
    if dist.std() == 0 or gap.std() == 0:
        return float("nan")
    return float(np.corrcoef(dist, gap)[0, 1])
