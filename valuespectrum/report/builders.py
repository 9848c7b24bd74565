"""The report's sections, in page order: adding one is one line here.

Each entry is ``(name, build)``; ``build(data, settings) -> Section | None`` is a pure function
of the selected runs' tables (report.sections). A builder that raises loses no other section:
its error is shown in the page and the report command exits non-zero at the end.
"""

from __future__ import annotations

from valuespectrum.report import (
    known_truth_section,
    modality_section,
    overview,
    profiles_section,
    robustness_section,
    roleplay_section,
    structure_section,
)
from valuespectrum.report.sections import Builder

BUILDERS: tuple[tuple[str, Builder], ...] = (
    ("overview", overview.build),
    ("profiles", profiles_section.build),
    ("robustness", robustness_section.build),
    ("structure", structure_section.build),
    ("known_truth", known_truth_section.build),
    ("modality", modality_section.build),
    ("roleplay", roleplay_section.build),
)
