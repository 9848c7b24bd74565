"""Report: one HTML page (figures embedded), PNG/SVG/PDF figures and CSV tables across runs.

Steps: select the jobs named by ``report.*`` (a multirun folder, an MLflow experiment and tags,
run ids, published tables) -> read their stored tables (no model call) -> run the section
builders -> write ``report/`` in the job's output folder -> log it with the job's run.
"""

from __future__ import annotations

from pathlib import Path

from valuespectrum.report.command import make_report
from valuespectrum.report.errors import ReportIncomplete


def run(ctx) -> dict[str, float]:
    """Write the report; a failed section stops the job (after the page is written)."""
    cfg = ctx.cfg
    out = Path(cfg.report.out).expanduser().resolve() if cfg.report.out else (
        ctx.output_dir / "report")
    result = make_report(cfg, out, tracker=ctx.tracker)
    print(f"report: {result.html}")
    if result.errors:
        raise ReportIncomplete(
            f"report written to {result.html}, but {len(result.errors)} section(s) failed "
            f"(first: {result.errors[0]}); see the page or {result.folder / 'errors.txt'}"
        )
    return {"sections": float(len(result.sections)), "usage/jobs": float(result.jobs),
            "usage/published_rows": float(result.published), "timing/write_s": result.seconds}
