"""How well a value profile follows Schwartz's circle (numpy only, no I/O)."""

from __future__ import annotations

from collections.abc import Mapping
from itertools import combinations

import numpy as np

from valuespectrum.values import VALUES, circumplex_distance


def circumplex_r(profile: Mapping[str, float]) -> float:
    """Pearson r between circumplex distance and absolute score difference over value pairs.

    Schwartz's circle predicts that neighbouring values are pursued alike and opposite ones are
    not, so in a circumplex-consistent profile the score gap grows with the distance around the
    circle: r > 0. Near zero means the profile ignores the structure; r < 0 means neighbours
    differ more than opposites. Even a perfect single-peaked sinusoid gives only about 0.55
    (pairs at equal distance differ by how far they sit from the peak), so read r by its sign
    and against shuffled profiles (mean ≈ 0); ``circumplex_fit`` measures the shape itself.
    Centring does not change the differences, so raw scores suffice.
    NaN with fewer than three values or when all gaps (or distances) are equal.
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


def circumplex_fit(profile: Mapping[str, float]) -> tuple[float, str | None]:
    """Share of the centred profile's variance explained by one cosine around the circle, and
    the value nearest that cosine's peak.

    The values are placed at equal angles in circumplex order; a profile that is a pure
    motivational continuum (one peak, the opposite trough) fits at 1.0. Needs all ten values;
    returns (NaN, None) otherwise or for a flat profile.
    """
    if any(v not in profile or profile[v] != profile[v] for v in VALUES):
        return float("nan"), None
    x = np.array([profile[v] for v in VALUES], float)
    x -= x.mean()
    total = float(x @ x)
    if total == 0:
        return float("nan"), None
    theta = 2 * np.pi * np.arange(len(VALUES)) / len(VALUES)
    a, b = (2 / len(x)) * (x @ np.cos(theta)), (2 / len(x)) * (x @ np.sin(theta))
    explained = (len(x) / 2) * (a * a + b * b)
    peak = np.arctan2(b, a) % (2 * np.pi)
    nearest = int(np.round(peak / (2 * np.pi / len(VALUES)))) % len(VALUES)
    return float(explained / total), VALUES[nearest]
