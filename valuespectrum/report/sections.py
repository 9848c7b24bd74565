"""The cross-run report's parts: what a section builder receives and what it returns.

The report (``python -m valuespectrum.report``, stage ``report``) reads the tables of the runs it
was asked about from the workspace into one ``ReportData`` (never a model call), hands it to
each section builder in turn, and writes what they return: every table as CSV (and into the
HTML page), every figure as PNG plus the configured vector formats (embedded in the page).
A builder is a pure function ``build(data: ReportData, settings: ReportSettings) -> Section |
None``; it returns None when the selected runs hold nothing for it (no simulated run: no
known-truth section), so one report serves any mix of runs.

Frames in ``ReportData`` (every one carries ``job``, the short unique label of the job it came
from; a missing kind of data is an empty frame with these columns, never None):

- ``runs``: one row per job. ``job``, ``label`` (a readable name built from the job's factors),
  ``source`` (``run`` a tracked or multirun job | ``table`` a published table given as input,
  e.g. the paper's), ``mlflow_run_id``, ``output_dir``, ``probe_run``, ``scoring_key``,
  ``model`` (the model config name), ``model_label``, ``simulated`` (bool), ``prompt_version``,
  ``true_profile`` (a simulated respondent's given profile, value -> % yes; None otherwise),
  ``induce_window`` (the job's ``induce.window``, videos; None without sessions),
  ``describer`` (the describer config of a ``modality=description`` job, else None), and one
  ``factor.<key>`` column (str) per setting that differs between the selected jobs,
  named by its override key (``factor.model``, ``factor.prompts``, ``factor.probe.answer_order``,
  ``factor.modality``, ``factor.describer``, ``factor.strategy``, ``factor.threshold``, ...).
  ``factors`` lists those keys in the order the sweep gave them.
- ``scores``: the ``scores`` table rows of each job's (probe_run, scoring_key), plus ``job``
  and ``true_score`` (the simulated respondent's expected score; NaN for a real model).
  A published table's rows have ``score`` only (CIs and counts NaN).
- ``keyword_scores``, ``answers``: those tables' rows of each job's probe run, plus ``job``.
  ``answers`` may carry ``answer_order`` (yes_first | no_first) and ``keying`` (forward |
  reverse) where the probe asked that way.
- ``sessions``, ``impressions``: the role-play tables of each job's sessions, plus ``job``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

RUN_COLUMNS: tuple[str, ...] = (
    "job", "label", "source", "mlflow_run_id", "output_dir", "probe_run", "scoring_key",
    "model", "model_label", "simulated", "prompt_version", "true_profile", "induce_window",
    "describer",
)


@dataclass
class ReportData:
    """The selected jobs and their stored tables (see the module docstring for the columns)."""

    runs: pd.DataFrame
    scores: pd.DataFrame
    keyword_scores: pd.DataFrame
    answers: pd.DataFrame
    sessions: pd.DataFrame
    impressions: pd.DataFrame
    factors: tuple[str, ...] = ()

    def factor(self, key: str) -> pd.Series | None:
        """The ``factor.<key>`` column of ``runs`` (indexed by job), or None if it does not vary."""
        column = f"factor.{key}"
        if column not in self.runs.columns:
            return None
        return self.runs.set_index("job")[column]


@dataclass
class ReportSettings:
    """What the builders may read besides the data (from the ``report`` and ``scoring`` config)."""

    n_boot: int = 2000
    n_perm: int = 9999
    seed: int = 0
    hedonism_in: str = "openness_to_change"
    circumplex: str = "schwartz"  # angles of the structure check: schwartz | shared_wedge
    circumplex_angles: dict[str, float] | None = None  # degrees per value, overrides circumplex
    axis_order: str = "paper"  # radar axes
    rank_flag: bool = True  # robustness: flag values whose rank changes between levels


@dataclass
class Figure:
    """One figure of a section: ``draw(path)`` writes it (PNG first, then the configured vector
    formats, via report.plots) at ``path``'s stem and returns the PNG's path."""

    name: str  # file stem, unique within the report, e.g. "radar_overlay"
    caption: str
    draw: Callable[[Path], Path]


@dataclass
class Section:
    """One part of the report: headed text, tables (name -> frame, written as <name>.csv and
    shown in the page) and figures. ``flags`` are findings a reader must not miss (a value whose
    rank changes under a reworded question), shown at the top of the section."""

    key: str  # e.g. "profiles", "robustness", "structure", "known_truth", "modality", "roleplay"
    title: str
    text: list[str] = field(default_factory=list)
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    figures: list[Figure] = field(default_factory=list)
    flags: list[str] = field(default_factory=list)


Builder = Callable[[ReportData, ReportSettings], "Section | None"]
