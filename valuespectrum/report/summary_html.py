"""One self-contained HTML page of a probe result: the score table and the radar chart inlined.

MLflow's artifact viewer shows ``.html`` files in place, so a run's result reads without
downloading anything; the page has no external references (the PNG is a data URI).
"""

from __future__ import annotations

import base64
import html
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from valuespectrum.report.profile import CI_METHODS, SIMULATED_NOTE
from valuespectrum.values import LABELS, VALUES

STYLE = """
body { font-family: system-ui, sans-serif; margin: 1.5em; color: #222; }
table { border-collapse: collapse; margin: 1em 0; }
th, td { padding: 0.25em 0.7em; border-bottom: 1px solid #ddd; text-align: right;
         white-space: nowrap; }
h1 { font-size: 1.4em; }
th:first-child, td:first-child { text-align: left; }
.note { color: #a40; font-weight: bold; }
img { max-width: 560px; }
"""


def summary_html(
    scores,
    summary,
    *,
    label: str,
    probe_run: str,
    radar_png: Path | None = None,
    true_profile: Mapping[str, float] | None = None,
    rho: float | None = None,
    notes: tuple[str, ...] | list[str] = (),
) -> str:
    """The page for ``scores`` (columns of ``scoring.SCORE_COLUMNS``) and its ``summary`` row."""
    by_value = {r.value: r for r in scores.itertuples()}
    head = ["value", "score", "95% CI", "centred", "n", "refusal", "invalid", "error"]
    if true_profile:
        head.append("true")
    rows = []
    for v in VALUES:
        r = by_value.get(v)
        if r is None:
            continue
        cells = [
            LABELS[v], _num(r.score), f"[{_num(r.ci_low)}, {_num(r.ci_high)}]",
            _num(r.centred, signed=True), str(int(r.n)), _pct(r.refusal_rate),
            _pct(r.invalid_rate), _pct(r.error_rate),
        ]
        if true_profile:
            cells.append(_num(true_profile.get(v)))
        rows.append("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in cells) + "</tr>")
    facts = [
        f"mean {_num(summary['mean'])}",
        f"std (ddof=1) {_num(summary['std'])}",
        f"noise-corrected std {_num(summary.get('std_noise_corrected'))} "
        f"[{_num(summary.get('std_ci_low'))}, {_num(summary.get('std_ci_high'))}]",
        f"binomial noise alone {_num(summary.get('noise_std'))}",
        f"homogeneity p {_num(summary.get('homogeneity_p'), digits=4)}",
        f"circumplex fit {_pct(summary.get('circumplex_fit'))} "
        f"(p {_num(summary.get('circumplex_p'), digits=3)})",
    ]
    if rho is not None:
        facts.append(f"Spearman rho, recovered vs true profile {_num(rho, signed=True, digits=2)}")
    parts = [
        "<!doctype html><html><head><meta charset='utf-8'>",
        f"<title>{html.escape(label)} - value profile</title><style>{STYLE}</style></head><body>",
        f"<h1>Value profile - {html.escape(label)}</h1>",
        f"<p>probe run <code>{html.escape(probe_run)}</code></p>",
    ]
    if true_profile:
        parts.append(f"<p class='note'>{html.escape(SIMULATED_NOTE)}</p>")
    parts += [
        "<table><thead><tr>" + "".join(f"<th>{h}</th>" for h in head) + "</tr></thead>",
        "<tbody>" + "".join(rows) + "</tbody></table>",
        "<p>" + html.escape(" · ".join(facts)) + "</p>",
        *(f"<p>95% CI: {html.escape(CI_METHODS.get(m, m))}</p>"
          for m in dict.fromkeys(scores.get("ci_method", [])) if isinstance(m, str)),
    ]
    parts += [f"<p class='note'>{html.escape(line)}</p>" for line in notes]  # e.g. the axes'
    if radar_png is not None and radar_png.is_file():
        data = base64.b64encode(radar_png.read_bytes()).decode("ascii")
        parts.append(f"<img alt='radar chart' src='data:image/png;base64,{data}'>")
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"


def _num(x: Any, *, signed: bool = False, digits: int = 1) -> str:
    if x is None or x != x:
        return "-"
    return f"{x:+.{digits}f}" if signed else f"{x:.{digits}f}"


def _pct(x: Any) -> str:
    return "-" if x is None or x != x else f"{100 * x:.0f}%"
