"""The report's own failure, importable without pandas (the command line catches it)."""

from __future__ import annotations


class ReportIncomplete(RuntimeError):
    """The report was written, but some section failed (the page shows which)."""
