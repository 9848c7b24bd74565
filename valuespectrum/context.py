"""What a stage may use, and what stages hand to later stages within one job (typed)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from valuespectrum.config import Config
from valuespectrum.store import Store
from valuespectrum.tracking import NullTracker, Tracker

if TYPE_CHECKING:
    from valuespectrum.retrieval.steps import RetrievalRun


@dataclass
class Context:
    """Stages talk to the store and the tracker only through this object."""

    cfg: Config
    workspace: Path
    store: Store
    output_dir: Path
    tracker: Tracker = field(default_factory=NullTracker)
    choices: dict[str, str] = field(default_factory=dict)
    # Hand-over between stages of one job; a later stage computes what an earlier one left unset.
    retrieval: RetrievalRun | None = None
    probe_run: str | None = None
    # What the job produced, recorded in its run.json for a later report to find.
    scoring_key: str | None = None  # of the probe run's score set (scores.scoring_key)
    sessions: list[str] = field(default_factory=list)  # the induce stage's session ids
