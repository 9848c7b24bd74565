"""A value profile as a person reads it: the printed table and the radar / bar figures.

A simulated respondent's profile is labelled as simulated everywhere it appears and is shown
beside the profile it was given.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from valuespectrum.values import LABELS, VALUES

log = logging.getLogger(__name__)

SIMULATED_NOTE = "SIMULATED respondent: a known-truth check of the instrument, not a real VLM"
FIGURES = ("radar", "scores")  # stems: one file per figure format (plots.formats)


def figure_files(formats) -> tuple[str, ...]:
    """The figure files ``draw_profile`` writes in ``formats``."""
    return tuple(f"{stem}.{fmt}" for stem in FIGURES for fmt in formats)


# What each interval method covers, for the table's caption (stats/bootstrap.py).
CI_METHODS = {
    "two_stage": "two-stage bootstrap (keywords, then images within keywords): the value's score"
    " over its keyword population",
    "images": "image bootstrap within fixed keywords: the value's score over these keywords",
}


def render_table(
    scores, summary, *, label: str, true_profile=None, rho=None, probe_run: str = "",
    n_boot: int | None = None, keywords=None, flag_points: float | None = None,
    notes: tuple[str, ...] | list[str] = (),
) -> str:  # fmt: skip
    """The profile as a plain-text table; simulated results say so in the title. Under it: what
    the intervals cover, the spread against binomial noise, the homogeneity test, the circumplex
    fit, any keyword that drives its value, and ``notes`` (``report.readings``)."""
    head = f"Value profile: {label}, probe run {probe_run}"
    if true_profile:
        head += f"\n{SIMULATED_NOTE}"
    titles = {"score_logprob": "p(yes)", "flip_rate": "flip"}
    extra = [c for c in titles if c in scores and scores[c].notna().any()]
    cols = (
        f"{'value':16}{'score':>7}{'95% CI':>15}{'centred':>9}{'n':>5}{'refus':>7}"
        f"{'inval':>7}{'error':>7}" + "".join(f"{titles[c]:>8}" for c in extra)
        + (f"{'true':>7}" if true_profile else "")
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
        line += "".join(
            f"{_f(getattr(r, c)) if c == 'score_logprob' else _pct(getattr(r, c)):>8}"
            for c in extra
        )
        if true_profile:
            line += f"{true_profile.get(v, float('nan')):>7.0f}"
        lines.append(line)
    lines.append("-" * len(cols))
    lines += _caption(scores, summary, n_boot)
    lines += _keyword_lines(keywords, flag_points)
    if rho is not None:
        lines.append(f"Spearman rho, recovered vs true profile: {rho:+.2f}")
    lines.extend(notes)
    return "\n".join(lines)


def _caption(scores, summary, n_boot) -> list[str]:
    methods = [m for m in dict.fromkeys(scores.get("ci_method", [])) if isinstance(m, str)]
    how = "; ".join(CI_METHODS.get(m, m) for m in methods) or "bootstrap"
    reps = f", {n_boot} replicates" if n_boot else ""
    lines = [f"95% CI: {how}{reps}"]
    lines.append(
        f"mean {_f(summary['mean'])}  std (ddof=1) {_f(summary['std'])}  noise-corrected std "
        f"{_f(summary.get('std_noise_corrected'))} [{_f(summary.get('std_ci_low'))}, "
        f"{_f(summary.get('std_ci_high'))}]  binomial noise alone {_f(summary.get('noise_std'))}"
    )
    p, method = summary.get("homogeneity_p"), summary.get("homogeneity_method", "chi-square")
    lines.append(
        f"homogeneity (one yes-rate for all values?): p {_p(p)} ({method}, X2 "
        f"{_f(summary.get('homogeneity_chi2'))}, df {summary.get('homogeneity_df', '-')})"
    )
    fit, peak = summary.get("circumplex_fit"), summary.get("circumplex_peak")
    lines.append(
        f"circumplex: one cosine explains {_pct(fit)} of the centred profile's variance"
        f" (permutation p {_p(summary.get('circumplex_p'))})"
        + (f", peak near {LABELS.get(peak, peak)}" if isinstance(peak, str) else "")
    )
    flip = summary.get("flip_rate")
    if flip is not None and flip == flip:
        lines.append(f"flip rate (images whose samples disagree): {_pct(flip)}")
    return lines


def _keyword_lines(keywords, flag_points) -> list[str]:
    if keywords is None or len(keywords) == 0:
        return []
    rule = f" (leaving it out moves the score > {flag_points:g} points)" if flag_points else ""
    flagged = keywords[keywords["driver"].astype(bool)]
    if flagged.empty:
        return [f"keywords driving a value{rule}: none"]
    items = ", ".join(
        f"{LABELS.get(r.value, r.value)}/{r.keyword} ({r.loo_shift:+.1f})"
        for r in flagged.itertuples()
    )
    return [f"keywords driving a value{rule}: {items}"]


def _p(x: Any) -> str:
    if x is None or x != x:
        return "-"
    return "< 0.0001" if x < 1e-4 else f"{x:.4f}" if x < 0.01 else f"{x:.2f}"


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
    formats=("png", "svg"),
    figures: tuple[str, ...] = FIGURES,
) -> None:
    """Draw the radar and bar figures of ``scores`` (``figures``: those of ``FIGURES`` to
    draw) into ``folder``, one file per format.

    ``true_profile`` (a simulated respondent's) is drawn beside the recovered one.
    """
    from valuespectrum.report.plots import figure_formats

    note = SIMULATED_NOTE if true_profile else None
    profile = {r.value: r.score for r in scores.itertuples()}
    ci = {r.value: (r.ci_low, r.ci_high) for r in scores.itertuples()}
    # The title names the model; legend entries say what each line is, without repeating it.
    profiles, truth = {label: profile}, None
    if true_profile:
        profiles = {"recovered profile": profile, "true profile": dict(true_profile)}
        truth = {label: dict(true_profile)}
    with figure_formats(formats):
        if "radar" in figures:
            _radar(profiles, folder, label, axis_order, ci, note)
        if "scores" in figures:
            _bars(scores, folder, label, note, truth)


def drawn_files(scores, **settings: Any) -> dict[str, bytes]:
    """``draw_profile(scores, <a temporary folder>, **settings)``, returned as file name ->
    bytes (what a call worker sends back when it draws a figure for the probe)."""
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        draw_profile(scores, Path(tmp), **settings)
        return {f.name: f.read_bytes() for f in sorted(Path(tmp).iterdir())}


def collect_figures(started: Mapping[str, Any], folder: Path, scores, **settings: Any) -> None:
    """Put the figures drawn elsewhere into ``folder`` (``started``: figure -> future of
    ``drawn_files``, or None) and draw here those that were not, or whose drawing failed."""
    here = []
    for name, future in started.items():
        try:
            files = None if future is None else future.result(timeout=300)
        except Exception as exc:
            log.warning("the %s figure could not be drawn in a call worker (%s); drawing it"
                        " here", name, exc)
            files = None
        if files is None:
            here.append(name)
        for file, data in (files or {}).items():
            (folder / file).write_bytes(data)
    missing = tuple(name for name in FIGURES if name not in started)
    if here or missing:
        draw_profile(scores, folder, figures=(*here, *missing), **settings)


def _radar(profiles, folder: Path, label: str, axis_order: str, ci, note) -> None:
    from valuespectrum.report.plots import radar_chart

    radar_chart(
        profiles,
        folder / "radar.png",
        title=f"Value profile: {label}",
        axis_order=axis_order,
        ci={next(iter(profiles)): ci},
        note=note,
    )


def _bars(scores, folder: Path, label: str, note, truth) -> None:
    from valuespectrum.report.plots import score_bars

    score_bars(
        scores.assign(model=label),
        folder / "scores.png",
        title=f"% yes per value: {label}",
        note=note,
        truth=truth,
        truth_label="true profile (given to the respondent)",
    )
