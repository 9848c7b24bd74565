"""A value profile as a person reads it: the printed table and the radar / bar figures.

A simulated respondent's profile is labelled as simulated everywhere it appears and is shown
beside the profile it was given.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from valuespectrum.values import LABELS, VALUES

SIMULATED_NOTE = "SIMULATED respondent: a known-truth check of the instrument, not a real VLM"
FIGURES = ("radar.png", "radar.pdf", "scores.png", "scores.pdf")


def render_table(
    scores, summary, *, label: str, true_profile=None, rho=None, probe_run: str = "",
    notes: tuple[str, ...] | list[str] = (),
) -> str:
    """The profile as a plain-text table; simulated results say so in the title. ``notes``
    (``report.readings``) are printed under it."""
    head = f"Value profile: {label}, probe run {probe_run}"
    if true_profile:
        head += f"\n{SIMULATED_NOTE}"
    cols = (
        f"{'value':16}{'score':>7}{'95% CI':>15}{'centred':>9}{'n':>5}{'refus':>7}"
        f"{'inval':>7}{'error':>7}" + (f"{'true':>7}" if true_profile else "")
    )
    lines = [head, cols, "-" * len(cols)]
    by_value = {r.value: r for r in scores.itertuples()}
    for v in VALUES:
        r = by_value.get(v)
        if r is None:
            continue
        line = (
            f"{LABELS[v]:16}{_f(r.score):>7}{f'[{_f(r.ci_low)}, {_f(r.ci_high)}]':>15}"
            f"{_f(r.centred, signed=True):>9}{int(r.n):>5}{_pct(r.refusal_rate):>7}"
            f"{_pct(r.invalid_rate):>7}{_pct(r.error_rate):>7}"
        )
        if true_profile:
            line += f"{true_profile.get(v, float('nan')):>7.0f}"
        lines.append(line)
    lines.append("-" * len(cols))
    lines.append(
        f"mean {_f(summary['mean'])}  std (ddof=1) {_f(summary['std'])}  "
        f"circumplex r {summary['circumplex_r']:+.2f}"
    )
    if rho is not None:
        lines.append(f"Spearman rho, recovered vs true profile: {rho:+.2f}")
    lines.extend(notes)
    return "\n".join(lines)


def _f(x: Any, signed: bool = False) -> str:
    if x is None or x != x:
        return "-"
    return f"{x:+.1f}" if signed else f"{x:.1f}"


def _pct(x: Any) -> str:
    return "-" if x is None or x != x else f"{100 * x:.0f}%"


def draw_profile(
    scores,
    folder: Path,
    *,
    label: str,
    axis_order: str = "paper",
    true_profile: dict[str, float] | None = None,
) -> None:
    """Draw the radar and bar figures of ``scores`` into ``folder`` (PNG and PDF each).

    ``true_profile`` (a simulated respondent's) is drawn beside the recovered one.
    """
    from valuespectrum.report.plots import radar_chart, score_bars

    note = SIMULATED_NOTE if true_profile else None
    profile = {r.value: r.score for r in scores.itertuples()}
    ci = {r.value: (r.ci_low, r.ci_high) for r in scores.itertuples()}
    # The title names the model; legend entries say what each line is, without repeating it.
    profiles, truth = {label: profile}, None
    if true_profile:
        profiles = {"recovered profile": profile, "true profile": dict(true_profile)}
        truth = {label: dict(true_profile)}
    radar_chart(
        profiles,
        folder / "radar.png",
        title=f"Value profile: {label}",
        axis_order=axis_order,
        ci={next(iter(profiles)): ci},
        note=note,
    )
    score_bars(
        scores.assign(model=label),
        folder / "scores.png",
        title=f"% yes per value: {label}",
        note=note,
        truth=truth,
        truth_label="true profile (given to the respondent)",
    )
