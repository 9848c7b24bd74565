"""The report's sections, in page order: adding one is one line here.

Each entry is ``(name, build)``; ``build(data, settings) -> Section | None`` is a pure function
of the selected runs' tables (report.sections). A builder that raises loses no other section:
its error is shown in the page and the report command exits non-zero at the end.
"""

from __future__ import annotations

from valuespectrum.report import overview
from valuespectrum.report.sections import Builder

BUILDERS: tuple[tuple[str, Builder], ...] = (
    ("overview", overview.build),
)
