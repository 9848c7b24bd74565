"""Did the feed learn the persona? The paper's induction I, our control, and audit measures.

Input: one row per impression with ``session_id, persona_id, condition`` ("adaptive": the
recommender adapts; "control": ``recommender=random``), ``position, item_id, stay`` (bool),
``invalid`` (bool; an invalid reply is a skip), ``values`` (the served item's value labels) and
``favours`` (the persona's favoured values; empty for personas read from a file or for none).

- **I** per session (paper.md section 6, its exact definition is ours): the yes-rate (share of
  stays, %) in the last ``window`` impressions minus the first ``window``, in points, and
  relative to the first window (%).
- **I_avg** per condition: the mean over personas of each persona's mean I, with a 95% two-stage
  bootstrap CI (personas, then each drawn persona's sessions; stats/nested.py, scaled for few
  personas: √(G/(G - 1)) · t(G - 1)/z). Relative I_avg is I_avg over the mean first-window
  yes-rate, in the same resamples.
- **Net induction effect** = I_avg(adaptive) - I_avg(control), paired by persona where both
  conditions ran (each resample draws personas once, sessions per condition); otherwise the
  difference of two independent resamples, each scaled by √(G/(G - 1)) for its own personas,
  with the t factor of the smaller condition (min(G) - 1 df, Welch's conservative choice).
- **Amplification curve**: the share (%) of served items whose labels meet the persona's
  favoured values, by position, smoothed over a trailing window, with a CI band over personas
  and sessions; items without labels count as not matching. **Time to personalisation**: the
  first position from which the adaptive curve stays above the control's upper band for
  ``sustain`` positions. **Diversity**: Shannon entropy (bits) of the served values in a
  trailing window (an item with several labels splits its weight), full windows only.

Deterministic given ``seed``. numpy and pandas only.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from valuespectrum.stats import nested
from valuespectrum.stats.bootstrap import percentile_interval, student_factor

CONDITIONS: tuple[str, ...] = ("adaptive", "control")
COLUMNS: tuple[str, ...] = (
    "session_id", "persona_id", "condition", "position", "item_id", "stay", "invalid",
    "values", "favours",
)
LEVEL = 0.95


def _labels(x: Any) -> tuple[str, ...]:
    if x is None or (isinstance(x, float) and np.isnan(x)):
        return ()
    if isinstance(x, str):
        return (x,) if x else ()
    return tuple(str(v) for v in x)


def _checked(impressions: pd.DataFrame) -> pd.DataFrame:
    missing = [c for c in COLUMNS if c not in impressions.columns]
    if missing:
        raise ValueError(f"impressions lack column(s) {missing}; expected {list(COLUMNS)}")
    bad = sorted(set(impressions["condition"]) - set(CONDITIONS))
    if bad:
        raise ValueError(f"unknown condition(s) {bad}; use {' or '.join(CONDITIONS)}")
    frame = impressions.sort_values(["condition", "session_id", "position"], kind="stable")
    frame = frame.reset_index(drop=True)
    invalid = frame["invalid"].fillna(False).astype(bool)
    frame["yes"] = frame["stay"].fillna(False).astype(bool) & ~invalid
    frame["invalid"] = invalid
    return frame


def session_inductions(impressions: pd.DataFrame, *, window: int) -> pd.DataFrame:
    """One row per session: yes-rates of the first and last ``window`` impressions, I in points
    and relative, invalid replies (counted; they are skips in the yes-rates)."""
    if window < 1:
        raise ValueError(f"window={window} must be >= 1")
    frame = _checked(impressions)
    rows = []
    for (condition, sid), s in frame.groupby(["condition", "session_id"], sort=True):
        if len(s) < window:
            raise ValueError(
                f"session {sid} has {len(s)} impressions, fewer than the window ({window}); "
                "run it to the end or lower induce.window"
            )
        yes = s["yes"].to_numpy(float)
        first, last = 100 * yes[:window].mean(), 100 * yes[-window:].mean()
        rows.append({
            "session_id": sid, "persona_id": s["persona_id"].iloc[0], "condition": condition,
            "n": len(s), "yes_first": first, "yes_last": last, "I_points": last - first,
            "I_relative": 100 * (last - first) / first if first > 0 else np.nan,
            "n_invalid": int(s["invalid"].sum()), "invalid_rate": float(s["invalid"].mean()),
        })  # fmt: skip
    return pd.DataFrame(rows)


def _groups(sessions: pd.DataFrame, columns: list[str], personas: list[str]) -> list[np.ndarray]:
    by = dict(tuple(sessions.groupby("persona_id", sort=True)))
    return [by[p][columns].to_numpy(float) for p in personas]


def _i_avg(sessions: pd.DataFrame, n_boot: int, rng: np.random.Generator) -> dict[str, float]:
    personas = sorted(sessions["persona_id"].unique())
    values, counts = nested.padded(_groups(sessions, ["I_points", "yes_first"], personas))
    point = nested.point_means(values, counts).mean(axis=0)
    boot = nested.group_means(values, counts, nested.draw_groups(len(personas), n_boot, rng), rng)
    boot = boot.mean(axis=1)  # (B, 2): I_avg and the mean first-window yes-rate
    with np.errstate(invalid="ignore", divide="ignore"):
        rel_boot = 100 * boot[:, 0] / boot[:, 1]
    relative = float(100 * point[0] / point[1]) if point[1] > 0 else float("nan")
    lo, hi = nested.interval(boot[:, 0], point[0], len(personas), LEVEL)
    rlo, rhi = nested.interval(rel_boot, relative, len(personas), LEVEL)
    return {
        "I_avg": float(point[0]), "ci_low": float(lo[0]), "ci_high": float(hi[0]),
        "I_avg_relative": relative,
        "relative_ci_low": float(rlo[0]), "relative_ci_high": float(rhi[0]),
        "yes_first": float(point[1]), "n_personas": len(personas), "n_sessions": len(sessions),
        "invalid_rate": float(sessions["n_invalid"].sum() / sessions["n"].sum()),
    }  # fmt: skip


def _net(sessions: pd.DataFrame, n_boot: int, rng: np.random.Generator) -> dict[str, Any]:
    by = {c: sessions[sessions["condition"] == c] for c in CONDITIONS}
    both = sorted(set(by["adaptive"]["persona_id"]) & set(by["control"]["persona_id"]))
    if both:
        picks = nested.draw_groups(len(both), n_boot, rng)
        means, boots = [], []
        for c in CONDITIONS:
            values, counts = nested.padded(_groups(by[c], ["I_points"], both))
            means.append(nested.point_means(values, counts)[:, 0])
            boots.append(nested.group_means(values, counts, picks, rng)[..., 0].mean(axis=1))
        effect, boot = float(np.mean(means[0] - means[1])), boots[0] - boots[1]
        lo, hi = nested.interval(boot, effect, len(both), LEVEL)
    else:  # no persona ran in both: two independent samples
        parts = [_i_avg_boot(by[c], n_boot, rng) for c in CONDITIONS]
        effect = parts[0][0] - parts[1][0]
        boot = parts[0][1] - parts[1][1]  # each already scaled by √(G/(G - 1))
        df = min(parts[0][2], parts[1][2]) - 1
        boot = effect + student_factor(np.maximum(df, 0), LEVEL) * (boot - effect)
        lo, hi = percentile_interval(boot, (1 - LEVEL) / 2, 1 - (1 - LEVEL) / 2)
    return {"effect": effect, "ci_low": float(lo[0]), "ci_high": float(hi[0]),
            "paired": bool(both), "n_personas": len(both)}  # fmt: skip


def _i_avg_boot(sessions: pd.DataFrame, n_boot: int, rng: np.random.Generator):
    personas = sorted(sessions["persona_id"].unique())
    values, counts = nested.padded(_groups(sessions, ["I_points"], personas))
    boot = nested.group_means(values, counts, nested.draw_groups(len(personas), n_boot, rng), rng)
    point = float(nested.point_means(values, counts)[:, 0].mean())
    scaled = nested.scaled(boot[..., 0].mean(axis=1), point, len(personas), None)
    return point, scaled, len(personas)


def induction_table(
    impressions: pd.DataFrame, *, window: int, n_boot: int, seed: int
) -> dict[str, Any]:
    """``{"window", "sessions": frame (session_inductions), "conditions": {condition: {I_avg,
    ci_low, ci_high, I_avg_relative, relative_ci_low, relative_ci_high, yes_first, n_personas,
    n_sessions, invalid_rate}}, "net": {effect, ci_low, ci_high, paired, n_personas} or None}``;
    ``net`` needs both conditions."""
    sessions = session_inductions(impressions, window=window)
    rng = np.random.default_rng(seed)
    conditions = {
        c: _i_avg(sessions[sessions["condition"] == c], n_boot, rng)
        for c in CONDITIONS if (sessions["condition"] == c).any()
    }
    net = _net(sessions, n_boot, rng) if len(conditions) == 2 else None
    return {"window": window, "sessions": sessions, "conditions": conditions, "net": net}


def induction_metrics(table: dict[str, Any]) -> dict[str, float]:
    """``induction_table`` flattened to metric names: ``I_avg/adaptive``, ``I_avg_ci_low/...``,
    ``I_avg_relative/...``, ``invalid_rate/...``, ``net_effect``, ``net_effect_ci_low`` ...,
    ``net_paired_personas`` (the personas the net effect pairs)"""
    out: dict[str, float] = {}
    for c, row in table["conditions"].items():
        out[f"I_avg/{c}"] = row["I_avg"]
        out[f"I_avg_ci_low/{c}"], out[f"I_avg_ci_high/{c}"] = row["ci_low"], row["ci_high"]
        out[f"I_avg_relative/{c}"] = row["I_avg_relative"]
        out[f"yes_first/{c}"] = row["yes_first"]
        out[f"invalid_rate/{c}"] = row["invalid_rate"]
        out[f"personas/{c}"] = row["n_personas"]
    if table["net"] is not None:
        net = table["net"]
        out["net_effect"] = net["effect"]
        out["net_effect_ci_low"], out["net_effect_ci_high"] = net["ci_low"], net["ci_high"]
        out["net_paired_personas"] = net["n_personas"]  # 0: two independent samples
    return out


def _curve(frame: pd.DataFrame, column: str, *, smooth: int, n_boot: int,
           seed: int) -> pd.DataFrame:  # fmt: skip
    """Per condition: the persona-weighted mean of a per-session smoothed 0/1 series, by
    position, with its two-stage bootstrap band."""
    if smooth < 1:
        raise ValueError(f"smooth={smooth} must be >= 1")
    rng = np.random.default_rng(seed)
    out = []
    for condition, part in frame.groupby("condition", sort=True):
        wide = part.pivot(index="session_id", columns="position", values=column).astype(float)
        wide = wide.T.rolling(smooth, min_periods=1).mean().T.where(wide.notna()) * 100
        persona = part.groupby("session_id")["persona_id"].first().reindex(wide.index)
        personas = sorted(persona.unique())
        groups = [wide[persona == p].to_numpy(float) for p in personas]
        values, counts = nested.padded(groups)
        means = nested.point_means(values, counts)
        share = nested.nanmean(means, axis=0)
        picks = nested.draw_groups(len(personas), n_boot, rng)
        boot = nested.nanmean(nested.group_means(values, counts, picks, rng), axis=1)
        lo, hi = nested.interval(boot, share, (~np.isnan(means)).sum(axis=0), LEVEL)
        out.append(pd.DataFrame({
            "condition": condition, "position": wide.columns.to_numpy(), "share": share,
            "ci_low": lo, "ci_high": hi, "n_sessions": wide.notna().sum(axis=0).to_numpy(),
        }))  # fmt: skip
    columns = ["condition", "position", "share", "ci_low", "ci_high", "n_sessions"]
    return pd.concat(out, ignore_index=True) if out else pd.DataFrame(columns=columns)


def yes_rate_curve(impressions: pd.DataFrame, *, n_boot: int, seed: int,
                   smooth: int = 10) -> pd.DataFrame:  # fmt: skip
    """The yes-rate (% stays, invalid = skip) by position, smoothed over ``smooth`` positions:
    ``condition, position, share, ci_low, ci_high, n_sessions``."""
    return _curve(_checked(impressions), "yes", smooth=smooth, n_boot=n_boot, seed=seed)


def amplification_curve(impressions: pd.DataFrame, *, n_boot: int, seed: int,
                        smooth: int = 10) -> pd.DataFrame:  # fmt: skip
    """The share (%) of served items matching the persona's favoured values, by position (same
    columns as ``yes_rate_curve``). Sessions of personas without favours are left out; with
    none left the frame is empty (amplification needs favours: persona=default)."""
    frame = _checked(impressions)
    favours = frame["favours"].map(_labels)
    frame["match"] = [bool(set(_labels(v)) & set(f)) for v, f in zip(frame["values"], favours,
                                                                     strict=True)]  # fmt: skip
    return _curve(frame[favours.map(bool)], "match", smooth=smooth, n_boot=n_boot, seed=seed)


def time_to_personalisation(curve: pd.DataFrame, *, sustain: int = 10) -> int | None:
    """The first position from which the adaptive curve's share stays above the control's upper
    band for ``sustain`` positions in a row (all remaining ones if fewer are left); None if it
    never does."""
    conditions = set(curve["condition"])
    if not set(CONDITIONS) <= conditions:
        raise ValueError("time to personalisation compares with the control: run both conditions")
    a = curve[curve["condition"] == "adaptive"].set_index("position")["share"]
    c = curve[curve["condition"] == "control"].set_index("position")["ci_high"]
    positions = a.index.intersection(c.index).sort_values()
    above = (a.reindex(positions) > c.reindex(positions)).to_numpy()
    for i in range(len(above)):
        run = above[i : i + sustain]
        if run.all() and (len(run) == sustain or i + len(run) == len(above)) and len(run) > 0:
            return int(positions[i])
    return None


def diversity_curve(impressions: pd.DataFrame, window: int, *, n_boot: int = 1000,
                    seed: int = 0) -> pd.DataFrame:  # fmt: skip
    """Shannon entropy (bits) of the value labels served in the trailing ``window`` items, by
    position (full windows only), per condition with a two-stage bootstrap band:
    ``condition, position, entropy, ci_low, ci_high, n_sessions``."""
    if window < 1:
        raise ValueError(f"window={window} must be >= 1")
    frame = _checked(impressions)
    labels = frame["values"].map(_labels)
    names = sorted({v for ls in labels for v in ls})
    index = {v: i for i, v in enumerate(names)}
    weights = np.zeros((len(frame), max(len(names), 1)))
    for row, ls in enumerate(labels):
        for v in ls:
            weights[row, index[v]] += 1 / len(ls)
    entropy = np.full(len(frame), np.nan)
    for _, rows in frame.groupby(["condition", "session_id"], sort=False).indices.items():
        cum = np.vstack([np.zeros(weights.shape[1]), np.cumsum(weights[rows], axis=0)])
        for j in range(window - 1, len(rows)):
            counts = cum[j + 1] - cum[j + 1 - window]
            total = counts.sum()
            if total > 0:
                p = counts[counts > 0] / total
                entropy[rows[j]] = float(-(p * np.log2(p)).sum())
    frame["entropy_bits"] = entropy
    curve = _curve(frame, "entropy_bits", smooth=1, n_boot=n_boot, seed=seed)
    for col in ("share", "ci_low", "ci_high"):
        curve[col] = curve[col] / 100  # _curve reports percentages
    curve = curve.rename(columns={"share": "entropy"})
    return curve.dropna(subset=["entropy"]).reset_index(drop=True)
