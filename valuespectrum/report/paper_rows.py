"""Which of the paper's published rows a job's results stand beside.

Our model configs (conf/model/) are named differently from the paper's rows (report/paper.py),
and some of our configs are successors, not the paper's model (model=claude is Claude Sonnet 4.6,
not the paper's Claude 3.5 Sonnet): only the configs of the paper's own models map to a row. A
simulated respondent maps to the row its true profile copies, said so in the basis, so its
"agreement with the paper" is never read as a real model's.
"""

from __future__ import annotations

from collections.abc import Mapping

from valuespectrum.report.paper import INDUCTION_CHANGES, INTRINSIC
from valuespectrum.values import VALUES

# model config name -> the paper's intrinsic-preference row (paper.md section 5).
INTRINSIC_ROWS: dict[str, str] = {
    "gpt4o": "gpt-4o",
    "claude35_sonnet": "claude-3.5-sonnet",
    "gemini20_flash": "gemini-2.0-flash",
    "deepseek_vl2": "deepseek-vl2",
    "blip2": "blip-2",
    "qwen25vl_plus": "qwen2.5-vl-plus",
    "cogvlm2": "cogvlm2",
    "internvl2": "internvl2",
}

# model config name -> (the paper's role-play row, how close the match is) (paper.md section 6).
# The paper's induction figure names "CogVLM" without a version and used the older Qwen-VL-Plus
# (our qwen25vl_plus is Qwen2.5-VL-Plus), so those are not matched.
INDUCTION_ROWS: dict[str, str] = {
    "gpt4o": "gpt-4o",
    "claude35_sonnet": "claude-3.5-sonnet",
    "gemini15_pro": "gemini-1.5-pro",
}

SAME_MODEL = "same model"
# The ISQ stay threshold behind the paper's ISQ changes (stay when S% > 60; paper.md section 6).
PAPER_ISQ_THRESHOLD = 60.0


def simulated_basis(row: str) -> str:
    return f"SIMULATED respondent whose true profile copies the paper's {row} row"


def intrinsic_row(
    model: str, *, simulated: bool = False, true_profile: Mapping[str, float] | None = None
) -> tuple[str, str] | None:
    """(paper row, basis) for a job, or None when the paper has no row for it.

    A real model matches by its config name (or a paper row's own name, as a published table
    given as input carries); a simulated respondent matches only the row its true profile
    equals on all ten values.
    """
    if simulated:
        if not true_profile:
            return None
        for row, published in INTRINSIC.items():
            if all(abs(float(true_profile.get(v, float("nan"))) - published[v]) < 1e-9
                   for v in VALUES):  # fmt: skip
                return row, simulated_basis(row)
        return None
    row = INTRINSIC_ROWS.get(model, model if model in INTRINSIC else None)
    return (row, SAME_MODEL) if row else None


def induction_row(model: str, *, simulated: bool = False) -> str | None:
    """The paper's role-play row for a real model's config (or a row's own name), else None."""
    if simulated:
        return None
    known = {m for rows in INDUCTION_CHANGES.values() for m in rows}
    return INDUCTION_ROWS.get(model, model if model in known else None)
