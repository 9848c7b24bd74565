"""The numbers Value-Spectrum (ACL 2025) published, as data.

Kept as plain dictionaries so a report can draw our results next to the paper's, and so tests can
check our scoring conventions against the paper's own summary statistics (its per-model standard
deviations are reproduced only by the sample std, ddof=1). Source: paper.md sections 5 and 6; the
induction changes were read from a figure and carry about ±0.3 points of reading error.
"""

from __future__ import annotations

from valuespectrum.values import PAPER_AXIS_ORDER, VALUES

# The paper's table lists values in its radar-axis order; used only to type the rows below.
_TABLE_ORDER = PAPER_AXIS_ORDER

_ROWS: dict[str, tuple[int, ...]] = {
    "gpt-4o": (78, 90, 88, 56, 80, 86, 76, 86, 68, 78),
    "deepseek-vl2": (66, 68, 82, 68, 76, 62, 72, 78, 80, 64),
    "claude-3.5-sonnet": (70, 70, 68, 34, 50, 60, 66, 58, 66, 58),
    "gemini-2.0-flash": (84, 90, 86, 92, 94, 92, 82, 86, 92, 90),
    "blip-2": (72, 78, 68, 48, 28, 48, 52, 64, 74, 40),
    "qwen2.5-vl-plus": (70, 56, 70, 40, 62, 58, 60, 56, 70, 52),
    "cogvlm2": (80, 80, 80, 74, 90, 72, 78, 68, 78, 76),
    "internvl2": (44, 54, 44, 28, 32, 38, 48, 54, 54, 26),
}

# Images per value behind every published score (all scores are multiples of 2).
IMAGES_PER_VALUE: int = 50

# model -> value id -> % of images answered "yes"; values in circumplex order.
INTRINSIC: dict[str, dict[str, float]] = {
    model: {value: float(dict(zip(_TABLE_ORDER, row, strict=True))[value]) for value in VALUES}
    for model, row in _ROWS.items()
}

# Reported std across each model's ten scores. The paper gives none for CogVLM2.
PAPER_STD: dict[str, float] = {
    "blip-2": 16.5,
    "claude-3.5-sonnet": 11.2,
    "internvl2": 10.8,
    "gpt-4o": 10.3,
    "qwen2.5-vl-plus": 9.43,
    "deepseek-vl2": 7.04,
    "gemini-2.0-flash": 4.02,
}

# Reported per-value means across models, only the two ends the text quotes.
PAPER_VALUE_MEANS: dict[str, float] = {"universalism": 73.3, "stimulation": 55.0}

PLATFORMS: tuple[str, ...] = ("tiktok", "youtube", "instagram")

_CHANGES: dict[str, dict[str, tuple[float, float, float]]] = {
    "simple": {
        "gpt-4o": (55.2, -3.9, -9.7),
        "gemini-1.5-pro": (10.5, 8.7, -18.0),
        "claude-3.5-sonnet": (-21.5, -8.9, 6.3),
        "qwen-vl-plus": (3.2, -1.5, -14.0),
        "cogvlm": (13.1, 4.8, -7.7),
    },
    "isq": {
        "gpt-4o": (11.0, 12.3, 16.3),
        "gemini-1.5-pro": (51.8, 17.0, 6.3),
        "claude-3.5-sonnet": (26.2, 34.8, 8.5),
        "qwen-vl-plus": (-1.9, -1.9, -5.9),
        "cogvlm": (4.1, 4.1, 0.7),
    },
}

# strategy -> model -> platform -> change in the share of "yes" (percentage points), I_avg.
INDUCTION_CHANGES: dict[str, dict[str, dict[str, float]]] = {
    strategy: {
        model: dict(zip(PLATFORMS, changes, strict=True)) for model, changes in by_model.items()
    }
    for strategy, by_model in _CHANGES.items()
}

# Reading error of the induction figure, in percentage points.
INDUCTION_READ_ERROR: float = 0.3
