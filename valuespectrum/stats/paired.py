"""Paired comparisons of yes-rates over shared screenshots (numpy only, no I/O).

Two jobs that asked about the same screenshots (a reworded question, a swapped answer order, a
blank image) differ by the setting and by nothing else, so their difference is judged against
the images they share, not against two independent samples. ``rate_replicates`` draws one
Poisson(1) weight per screenshot per replicate (the classical bootstrap's resampling counts)
and uses it on both sides and in every value the screenshot enters: the replicated difference
keeps the pairing, and the noise the two sides share cancels.

Why Poisson and not the ``Exp(1)`` weights of ``stats/bootstrap.py``: a paired difference lives
on the few screenshots whose answers changed. Exponential weights are never zero, so with one
changed screenshot of fifty every replicate's shift has its sign and the interval excludes
zero; a Poisson weight drops a screenshot in e^-1 of replicates, so changes in one direction on
fewer than four screenshots never exclude zero (the exact sign test asks for six: the interval
is still a little optimistic for a handful of changes, and is the bootstrap's usual one beyond).

``order_reversals`` says which values change rank between two profiles beyond noise (the
definition is in its docstring; the report's robustness section flags them).
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import combinations

import numpy as np


@dataclass(frozen=True)
class Rates:
    """``point`` (G,) the pooled rate ``100·Σyes/Σn`` per group, ``boot`` (B, G) its
    replicates; NaN where a group has no answers."""

    point: np.ndarray
    boot: np.ndarray


def rate_replicates(
    yes: np.ndarray, n: np.ndarray, unit: np.ndarray, group: np.ndarray, n_groups: int,
    *, n_boot: int, rng: np.random.Generator,
) -> Rates:  # fmt: skip
    """Pooled rates per group and their replicates under one weight per ``unit``.

    Entries are (group, unit) counts: ``yes`` and ``n`` answers of screenshot ``unit`` (0..U-1)
    in ``group`` (0..G-1). A unit in several groups (two jobs, or two values) gets the same
    weight in each, so differences of groups are paired.
    """
    yes, n = np.asarray(yes, float), np.asarray(n, float)
    unit, group = np.asarray(unit, int), np.asarray(group, int)
    n_units = int(unit.max()) + 1 if len(unit) else 0
    to_yes = np.zeros((n_units, n_groups))
    to_n = np.zeros((n_units, n_groups))
    np.add.at(to_yes, (unit, group), yes)
    np.add.at(to_n, (unit, group), n)
    total_yes, total_n = to_yes.sum(axis=0), to_n.sum(axis=0)
    w = rng.poisson(1.0, (n_boot, n_units)).astype(float)
    with np.errstate(invalid="ignore", divide="ignore"):
        point = np.where(total_n > 0, 100 * total_yes / total_n, np.nan)
        boot = 100 * (w @ to_yes) / (w @ to_n)
    boot[:, total_n == 0] = np.nan
    return Rates(point, boot)


def interval(boot: np.ndarray, ci: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
    """Percentile interval per column (NaN for a column of NaN)."""
    boot = np.asarray(boot, float).reshape(len(boot), -1)
    lo, hi = np.full(boot.shape[1], np.nan), np.full(boot.shape[1], np.nan)
    ok = ~np.isnan(boot).any(axis=0)
    if ok.any() and len(boot):
        q = (1 - ci) / 2
        lo[ok], hi[ok] = np.quantile(boot[:, ok], [q, 1 - q], axis=0)
    return lo, hi


@dataclass(frozen=True)
class Reversal:
    """Values ``a`` and ``b`` swap order between the reference and the other profile;
    ``change`` is the change in their gap, (a - b)_other - (a - b)_reference, with its
    interval."""

    a: int
    b: int
    change: float
    ci_low: float
    ci_high: float


def order_reversals(
    ref: np.ndarray, other: np.ndarray, ref_boot: np.ndarray | None, other_boot: np.ndarray | None,
    ci: float = 0.95,
) -> list[Reversal]:  # fmt: skip
    """Pairs of values whose order reverses between two profiles beyond noise.

    A pair (a, b) reverses when all three hold:

    1. the order flips: a scores strictly above b in one profile and strictly below it in the
       other (a tie on either side is no reversal: equal scores share a rank, not an order);
    2. the flip is beyond noise: the interval of the change in their gap, (a - b)_other -
       (a - b)_reference, excludes zero. It is the difference of the two values' shifts, and
       its replicates (paired: one weight per screenshot across both profiles and values)
       keep the correlation of the values' noise;
    3. the order was established on at least one side: the interval of a - b excludes zero
       in the reference or in the other profile. Two values within noise of each other on both
       sides (overlapping intervals) have no order to lose, whatever the shift.

    Without replicates (``None``) nothing can be judged and no pair is returned.
    """
    if ref_boot is None or other_boot is None:
        return []
    ref, other = np.asarray(ref, float), np.asarray(other, float)
    out = []
    q = [(1 - ci) / 2, 1 - (1 - ci) / 2]

    def beyond(x: np.ndarray) -> tuple[bool, float, float]:
        x = x[~np.isnan(x)]
        if len(x) == 0:
            return False, np.nan, np.nan
        lo, hi = np.quantile(x, q)
        return bool(lo > 0 or hi < 0), float(lo), float(hi)

    for a, b in combinations(range(len(ref)), 2):
        g0, g1 = ref[a] - ref[b], other[a] - other[b]
        if not (g0 * g1 < 0):  # NaN or a tie on either side compares False
            continue
        gap0 = ref_boot[:, a] - ref_boot[:, b]
        gap1 = other_boot[:, a] - other_boot[:, b]
        moved, lo, hi = beyond(gap1 - gap0)
        if moved and (beyond(gap0)[0] or beyond(gap1)[0]):
            out.append(Reversal(a, b, float(g1 - g0), lo, hi))
    return out
