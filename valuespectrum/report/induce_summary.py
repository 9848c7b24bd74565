"""The induce stage's results: metrics, tables (parquet + CSV), plots and the printed summary.

Metrics (logged under ``induce/``): ``I_avg/<condition>`` with ``I_avg_ci_low/high``, relative
I_avg, the first-window yes-rate and the invalid rate per condition; ``net_effect`` with its
CI and ``net_paired_personas`` (how many personas it pairs); ``I/<condition>/<persona>`` (each
persona's mean I); ``amplification/<condition>`` (the share of served items matching the
persona's favoured values over the last window) and ``amplification_gain`` (adaptive -
control); ``time_to_personalisation`` (a position, NaN when the adaptive curve never leaves the
control's band); ``entropy/<condition>`` (bits of the served values over the last window).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pandas as pd

CURVE_SMOOTH = 10


def induce_report(cfg, frame: pd.DataFrame, sessions: list[dict], out: Path
                  ) -> tuple[dict[str, float], str]:  # fmt: skip
    """Metrics and the printed table of ``frame`` (impressions of finished sessions); writes
    the tables and plots into ``out``."""
    from valuespectrum.induce import metrics as m

    ic = cfg.induce
    pd.DataFrame(sessions).to_csv(out / "sessions.csv", index=False)
    if frame.empty:
        return {}, "induce: no finished session (see usage/induce/sessions_failed)"
    frame.to_parquet(out / "impressions.parquet", index=False)
    frame.drop(columns=["fields"]).to_csv(out / "impressions.csv", index=False)
    table = m.induction_table(frame, window=ic.window, n_boot=ic.n_boot, seed=cfg.seed)
    metrics = dict(m.induction_metrics(table))
    per_session = table["sessions"]
    per_session.to_csv(out / "inductions.csv", index=False)
    for (condition, persona), group in per_session.groupby(["condition", "persona_id"]):
        metrics[f"I/{condition}/{persona}"] = float(group["I_points"].mean())
    yes = m.yes_rate_curve(frame, n_boot=ic.n_boot, seed=cfg.seed, smooth=CURVE_SMOOTH)
    amp = m.amplification_curve(frame, n_boot=ic.n_boot, seed=cfg.seed, smooth=CURVE_SMOOTH)
    ent = m.diversity_curve(frame, ic.window, n_boot=ic.n_boot, seed=cfg.seed)
    curves = {"yes_rate": yes, "amplification": amp, "entropy": ent}
    for name, curve in curves.items():
        curve.to_csv(out / f"{name}_curve.csv", index=False)
    ttp = None
    last = ic.videos - ic.window
    for condition, part in amp.groupby("condition"):
        metrics[f"amplification/{condition}"] = float(part[part.position >= last]["share"].mean())
    if {"amplification/adaptive", "amplification/control"} <= set(metrics):
        metrics["amplification_gain"] = (metrics["amplification/adaptive"]
                                         - metrics["amplification/control"])
        ttp = m.time_to_personalisation(amp) if not amp.empty else None
        metrics["time_to_personalisation"] = float("nan") if ttp is None else float(ttp)
    for condition, part in ent.groupby("condition"):
        metrics[f"entropy/{condition}"] = float(part["entropy"].iloc[-1:].mean())
    _plots(cfg, curves, ttp, table, out)
    return metrics, summary_table(cfg, table, metrics)


def _plots(cfg, curves: dict[str, pd.DataFrame], ttp: int | None, table, out: Path) -> None:
    """Yes-rate, amplification and diversity along the session (adaptive vs control, CI
    bands) and the paper's I_avg bars, in the current figure formats (``plots.formats``)."""
    from valuespectrum.report import induce_plots as plots

    sim = cfg.model.simulated
    plots.yes_rate_plot(curves["yes_rate"], out / "yes_rate", simulated=sim,
                        window=cfg.induce.window)
    if not curves["amplification"].empty:
        plots.amplification_plot(curves["amplification"], out / "amplification",
                                 simulated=sim, personalised_at=ttp)
    if not curves["entropy"].empty:
        plots.diversity_plot(curves["entropy"], out / "diversity", simulated=sim)
    bars = pd.DataFrame([{
        "model": cfg.model.label or cfg.model.name, "strategy": cfg.strategy.name,
        "platform": cfg.platform.name, "condition": c, "I_avg": row["I_avg"],
        "ci_low": row["ci_low"], "ci_high": row["ci_high"], "simulated": sim,
    } for c, row in table["conditions"].items()])  # fmt: skip
    plots.induction_bars(bars, out / "i_avg", simulated=sim)


def summary_table(cfg, table: dict[str, Any], metrics: dict[str, float]) -> str:
    """The printed summary: I_avg per condition, the net effect, amplification."""
    simulated = " (SIMULATED respondent)" if cfg.model.simulated else ""
    head = (f"induction: {cfg.model.label or cfg.model.name}{simulated} · strategy="
            f"{cfg.strategy.name}" + (f" threshold={cfg.threshold.isq_percent:g}"
                                      if cfg.strategy.kind == "isq" else "")
            + f" · {cfg.platform.name} / {cfg.recommender.kind} · {cfg.induce.videos} videos,"
            f" window {table['window']}")
    lines = [head, f"{'condition':<10} {'personas':>8} {'sessions':>8} {'yes first':>9} "
                   f"{'I_avg':>7} {'95% CI':>17} {'invalid':>7} {'amplif.':>7}"]
    for c, row in table["conditions"].items():
        amp = metrics.get(f"amplification/{c}", float("nan"))
        lines.append(
            f"{c:<10} {row['n_personas']:>8} {row['n_sessions']:>8} {row['yes_first']:>8.1f}% "
            f"{row['I_avg']:>+7.1f} [{row['ci_low']:>+6.1f}, {row['ci_high']:>+6.1f}] "
            f"{100 * row['invalid_rate']:>6.1f}% {_pct(amp):>7}"
        )
    net = table["net"]
    if net is not None:
        lines.append(f"net induction effect (adaptive - control): {net['effect']:+.1f} points "
                     f"[{net['ci_low']:+.1f}, {net['ci_high']:+.1f}]"
                     + (" (paired by persona)" if net["paired"] else ""))
        ttp = metrics.get("time_to_personalisation", float("nan"))
        lines.append("time to personalisation: "
                     + ("never above the control's band" if math.isnan(ttp)
                        else f"position {ttp:.0f}"))
    return "\n".join(lines)


def _pct(x: float) -> str:
    return "-" if x != x else f"{x:.1f}%"
