"""Published tables as report input: a CSV of models x the ten values (% yes), or the paper's.

A published row is a job of ``source=table``: it has scores but no answers, CIs or counts
beyond the images per value it was measured on, so builders can set our runs beside it. The
CSV has a ``model`` column (our model config name where one exists, so a builder pairs it with
our runs of that model), optionally ``label`` and ``n_images`` (images per value), and one
column per value, named by id (``self_direction``) or label (``Self-Direction``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

from valuespectrum.config import ConfigError
from valuespectrum.report import paper
from valuespectrum.values import LABELS, VALUES

# The paper's model names -> (our model config, its label).
PAPER_MODELS: dict[str, tuple[str, str]] = {
    "gpt-4o": ("gpt4o", "GPT-4o"),
    "deepseek-vl2": ("deepseek_vl2", "DeepSeek-VL2"),
    "claude-3.5-sonnet": ("claude35_sonnet", "Claude 3.5 Sonnet"),
    "gemini-2.0-flash": ("gemini20_flash", "Gemini 2.0 Flash"),
    "blip-2": ("blip2", "BLIP-2"),
    "qwen2.5-vl-plus": ("qwen25vl_plus", "Qwen2.5-VL-Plus"),
    "cogvlm2": ("cogvlm2", "CogVLM2"),
    "internvl2": ("internvl2", "InternVL2"),
}


@dataclass(frozen=True)
class PublishedRow:
    """One model's published profile."""

    table: str  # "paper" or the CSV's stem
    model: str
    label: str
    scores: dict[str, float]  # value id -> % yes
    n_images: int | None  # images per value behind each score, where known


def paper_rows() -> list[PublishedRow]:
    """The paper's table (paper.md section 5), 50 images per value."""
    return [
        PublishedRow("paper", PAPER_MODELS[m][0], PAPER_MODELS[m][1], dict(row),
                     paper.IMAGES_PER_VALUE)
        for m, row in paper.INTRINSIC.items()
    ]


def read_table(path: Path) -> list[PublishedRow]:
    """The rows of a published table CSV; a malformed file is refused in one line."""
    import pandas as pd

    where = f"report.tables: {path}"
    try:
        frame = pd.read_csv(path)
    except (OSError, ValueError) as exc:
        raise ConfigError(f"{where} cannot be read ({exc}); give a CSV with a model column "
                          "and the ten values") from None
    by_label = {LABELS[v].lower(): v for v in VALUES}
    rename = {c: by_label.get(str(c).strip().lower(), str(c).strip()) for c in frame.columns}
    frame = frame.rename(columns=rename)
    missing = [v for v in ("model", *VALUES) if v not in frame.columns]
    if missing:
        raise ConfigError(f"{where} lacks columns {missing}; give model and the ten values "
                          f"({', '.join(VALUES)}), % yes")
    rows = []
    for i, r in frame.iterrows():
        scores = {}
        for v in VALUES:
            x = pd.to_numeric(r[v], errors="coerce")
            if not (isinstance(x, float | int) and not math.isnan(x) and 0 <= x <= 100):
                raise ConfigError(f"{where} row {i + 2}: {v}={r[v]!r} is not a % between 0 and "
                                  "100; fix the cell")
            scores[v] = float(x)
        n = r.get("n_images")
        n_images = int(n) if n is not None and n == n else None
        label = str(r["label"]) if "label" in frame and r["label"] == r["label"] else None
        rows.append(PublishedRow(path.stem, str(r["model"]), label or str(r["model"]), scores,
                                 n_images))  # fmt: skip
    if not rows:
        raise ConfigError(f"{where} has no rows; add one row per model")
    return rows
