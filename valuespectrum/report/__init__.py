"""Tables and figures: per run (the probe's profile, induce's plots, contact sheets) and across
runs (``python -m valuespectrum.report`` and stage ``report``: report.command)."""
