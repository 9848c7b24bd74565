"""What the robustness axes measure within one run: acquiescence and the answer-order effect.

Both compare yes-rates among clear answers (yes / (yes + no)): a refusal or an unclear reply
says nothing about which way a respondent leans, and with them left out a consistent
respondent gives exactly 0.

* ``acquiescence`` (``probe.keying=both``) = yes%(forward) + yes%(reverse) - 100 per value, over
  the same screenshots: 0 for a respondent whose reverse answers mirror its forward ones, > 0
  for one that says yes to both "do you like it?" and "would you scroll past it?" (100 = yes to
  everything). A respondent that adds ``a`` points to every yes gives 2a (less where a rate hits
  100). ``reverse_yes_rate`` is the reverse question's yes% alone.
* ``order_effect`` (``probe.answer_order=counterbalanced``) = yes%(options named yes first) -
  yes%(no first), forward answers only.

Intervals reuse the score's weighted bootstrap (``stats.bootstrap``): one weight per screenshot
per replicate, shared by both rates of a difference, so the forward and reverse answers about
one screenshot stay paired. Pure: numpy and pandas, no store, tracker or stage.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass

import numpy as np
import pandas as pd

from valuespectrum.stats.bootstrap import (
    Layout,
    draw_weights,
    percentile_interval,
    ratio_replicates,
)
from valuespectrum.values import LABELS, VALUES

CHECK_COLUMNS: tuple[str, ...] = (
    "reverse_yes_rate", "acquiescence", "acquiescence_ci_low", "acquiescence_ci_high",
    "order_effect", "order_effect_ci_low", "order_effect_ci_high",
)  # fmt: skip
# numerator, denominator pairs per entry: forward, reverse, forward yes-first, forward no-first
_PARTS = ("f", "r", "a", "b")


@dataclass(frozen=True)
class Checks:
    """Per value (``value`` + ``CHECK_COLUMNS``, NaN where an axis was not run) and overall
    (the same names, pooled over every value's answers)."""

    per_value: pd.DataFrame
    overall: dict[str, float]

    def metrics(self) -> dict[str, float]:
        """The overall checks that were measured, as metrics (``acquiescence``, ...)."""
        return {k: float(v) for k, v in self.overall.items() if v == v}

    def lines(self, ci: float = 0.95) -> list[str]:
        """What the table caption says of them (nothing when no axis measured one)."""
        o, level, out = self.overall, f"{100 * ci:.0f}%", []
        if o["acquiescence"] == o["acquiescence"]:
            out.append(
                f"acquiescence (yes% forward + yes% reverse - 100, clear answers; 0 = consistent,"
                f" > 0 = yes to both): {o['acquiescence']:+.1f} {level} CI"
                f" [{o['acquiescence_ci_low']:+.1f}, {o['acquiescence_ci_high']:+.1f}];"
                f" reverse question yes% {o['reverse_yes_rate']:.1f}"
            )
            out.append("  per value: " + _per_value(self.per_value, "acquiescence"))
        elif o["reverse_yes_rate"] == o["reverse_yes_rate"]:
            out.append(f"reverse-keyed question: yes% {o['reverse_yes_rate']:.1f} (scored as its"
                       " share of no)")
        if o["order_effect"] == o["order_effect"]:
            out.append(
                f"answer-order effect (yes% options named yes first - no first, clear answers):"
                f" {o['order_effect']:+.1f} {level} CI [{o['order_effect_ci_low']:+.1f},"
                f" {o['order_effect_ci_high']:+.1f}]"
            )
            out.append("  per value: " + _per_value(self.per_value, "order_effect"))
        return out


def _per_value(table: pd.DataFrame, column: str) -> str:
    by_value = dict(zip(table["value"], table[column], strict=True))
    return ", ".join(f"{LABELS[v]} {by_value[v]:+.0f}" for v in VALUES
                     if v in by_value and by_value[v] == by_value[v])  # fmt: skip


def answer_checks(
    answers: pd.DataFrame, *, n_boot: int = 2000, seed: int = 0, ci: float = 0.95,
    interval: str = "two_stage",
) -> Checks:  # fmt: skip
    """The checks of one model's ``answers`` (columns value, keyword, screenshot_id, outcome,
    and ``keying`` / ``answer_order``; missing ones read as forward, yes first)."""
    entries = _entries(answers)
    nan = dict.fromkeys(CHECK_COLUMNS, np.nan)
    if entries.empty:
        return Checks(pd.DataFrame(columns=["value", *CHECK_COLUMNS]), nan)
    has = {part: entries[f"{part}_n"].sum() > 0 for part in _PARTS}
    measured = {p for p, pair in (("r", "r"), ("f", "fr"), ("a", "ab"), ("b", "ab"))
                if all(has[x] for x in pair)}  # fmt: skip
    if not measured:  # no axis that these checks measure was run: nothing to resample
        table = pd.DataFrame({"value": list(pd.unique(entries["value"])), **nan})
        return Checks(table[["value", *CHECK_COLUMNS]], nan)
    values = list(pd.unique(entries["value"]))
    strata = entries.groupby(["value", "keyword"], sort=False).ngroup().to_numpy()
    first = np.unique(strata, return_index=True)[1]
    groups = np.array([values.index(v) for v in entries["value"].to_numpy()[first]])
    unit = pd.factorize(entries["screenshot_id"])[0]
    per_value = Layout(unit, strata, groups)
    pooled = Layout(unit, strata, np.zeros_like(groups))
    weights = draw_weights(per_value, n_boot, np.random.default_rng([seed, zlib.crc32(b"checks")]))
    lo, hi = (1 - ci) / 2, 1 - (1 - ci) / 2
    table = pd.DataFrame({"value": values})
    overall = dict(nan)
    for layout, out in ((per_value, table), (pooled, overall)):
        rates = {
            part: ratio_replicates(entries[f"{part}_y"], entries[f"{part}_n"], layout, weights,
                                   method=interval, ci=ci) if part in measured else None
            for part in _PARTS
        }  # fmt: skip
        if rates["r"] is not None:
            out["reverse_yes_rate"] = rates["r"].point
        for name, left, right, offset in (("acquiescence", "f", "r", -100.0),
                                          ("order_effect", "a", "b", None)):  # fmt: skip
            if rates[left] is None or rates[right] is None:
                continue
            sign = 1.0 if offset is not None else -1.0  # a sum less 100, or a difference
            point = rates[left].point + sign * rates[right].point + (offset or 0.0)
            boot = rates[left].groups + sign * rates[right].groups + (offset or 0.0)
            low, high = percentile_interval(boot, lo, hi)
            out[name], out[f"{name}_ci_low"], out[f"{name}_ci_high"] = point, low, high
    overall = {k: float(np.asarray(v).ravel()[0]) if np.size(v) else np.nan
               for k, v in overall.items()}  # fmt: skip
    for column in CHECK_COLUMNS:
        if column not in table:
            table[column] = np.nan
    return Checks(table[["value", *CHECK_COLUMNS]], overall)


def _entries(answers: pd.DataFrame) -> pd.DataFrame:
    """One row per (value, keyword, screenshot): clear yes and clear answers of each part."""
    df = answers[answers["outcome"].isin(("yes", "no"))]
    keying = df["keying"].fillna("forward") if "keying" in df else pd.Series("forward", df.index)
    order = (df["answer_order"].fillna("yes_first") if "answer_order" in df
             else pd.Series("yes_first", df.index))  # fmt: skip
    yes = (df["outcome"] == "yes").astype(float)
    forward = keying == "forward"
    masks = {"f": forward, "r": keying == "reverse", "a": forward & (order == "yes_first"),
             "b": forward & (order == "no_first")}  # fmt: skip
    cols = {}
    for part, mask in masks.items():
        cols[f"{part}_y"] = yes * mask
        cols[f"{part}_n"] = mask.astype(float)
    frame = pd.DataFrame({"value": df["value"], "keyword": df["keyword"].fillna("").astype(str),
                          "screenshot_id": df["screenshot_id"], **cols})  # fmt: skip
    entries = frame.groupby(["value", "keyword", "screenshot_id"], sort=False).sum().reset_index()
    entries["_v"] = entries["value"].map(VALUES.index)
    entries = entries.sort_values(["_v", "keyword", "screenshot_id"], kind="stable")
    return entries.drop(columns="_v").reset_index(drop=True)
