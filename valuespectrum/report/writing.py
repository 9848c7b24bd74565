"""Run the section builders on one ``ReportData`` and write the report folder.

The folder holds ``report.html`` (self-contained), ``figures/`` (every figure as PNG plus the
configured vector formats), ``tables/`` (every table as CSV, ``runs.csv`` first) and
``errors.txt`` when a builder failed. A builder that raises, or a figure that fails to draw,
loses nothing else: its error is shown where its section would be.
"""

from __future__ import annotations

import logging
import shutil
import time
import traceback
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from valuespectrum.report import builders as registry
from valuespectrum.report.html import Block, ShownFigure, ShownTable, page
from valuespectrum.report.plots import figure_formats
from valuespectrum.report.sections import Builder, ReportData, ReportSettings, Section

log = logging.getLogger(__name__)
HTML_FILE = "report.html"
RUNS_SHOWN = ("job", "label", "source", "model_label", "simulated")
RUNS_LINKS = ("probe_run", "scoring_key", "mlflow_run_id", "output_dir")


@dataclass(frozen=True)
class ReportResult:
    folder: Path
    html: Path
    sections: list[str]
    errors: list[str] = field(default_factory=list)  # "<section>: <error line>"
    seconds: float = 0.0
    jobs: int = 0  # selected jobs (source run)
    published: int = 0  # published rows (source table)


def write_report(
    data: ReportData, settings: ReportSettings, out: Path, *, formats: Sequence[str],
    title: str = "valuespectrum report", meta: Sequence[str] = (),
    builders: Sequence[tuple[str, Builder]] | None = None,
) -> ReportResult:  # fmt: skip
    """Build every section (``builders``, default ``builders.BUILDERS``) and write the folder
    ``out`` (its earlier figures and tables go)."""
    builders = registry.BUILDERS if builders is None else builders
    t0 = time.perf_counter()
    out.mkdir(parents=True, exist_ok=True)
    for sub in ("figures", "tables"):
        shutil.rmtree(out / sub, ignore_errors=True)
        (out / sub).mkdir()
    (out / "errors.txt").unlink(missing_ok=True)
    blocks, errors, names = [_runs_block(data, out)], [], {"runs"}
    with figure_formats(formats):
        for name, build in builders:
            try:
                section = build(data, settings)
            except Exception as exc:
                errors.append(f"{name}: {type(exc).__name__}: {exc}")
                log.error("report section %s failed: %s", name, exc)
                blocks.append(Block(name, f"{name} (failed)", error=traceback.format_exc()))
                continue
            if section is not None:
                blocks.append(_section_block(section, out, names, errors))
    if errors:
        (out / "errors.txt").write_text("\n".join(errors) + "\n")
    html = out / HTML_FILE
    html.write_text(page(title, meta, blocks))
    sources = data.runs["source"]
    return ReportResult(out, html, [b.key for b in blocks], errors, time.perf_counter() - t0,
                        int((sources == "run").sum()), int((sources == "table").sum()))


def _runs_block(data: ReportData, out: Path) -> Block:
    runs = data.runs
    factors = [f"factor.{k}" for k in data.factors]
    shown = runs[[c for c in (*RUNS_SHOWN, *factors, *RUNS_LINKS) if c in runs]]
    runs.to_csv(out / "tables" / "runs.csv", index=False)
    text = ["One row per selected job (source run) or published row (source table). "
            + (f"Factors: {', '.join(data.factors)}." if data.factors else "No factor varies.")]
    return Block("runs", "Selected runs", text=text,
                 tables=[ShownTable("runs", shown, "tables/runs.csv")])


def _section_block(section: Section, out: Path, names: set[str], errors: list[str]) -> Block:
    block = Block(section.key, section.title, list(section.text), list(section.flags))
    for name, frame in section.tables.items():
        stem = _unique(name, section.key, names)
        frame.to_csv(out / "tables" / f"{stem}.csv", index=False)
        block.tables.append(ShownTable(name, frame, f"tables/{stem}.csv"))
    for fig in section.figures:
        stem = _unique(fig.name, section.key, names)
        try:
            png = fig.draw(out / "figures" / stem)
        except Exception as exc:
            errors.append(f"{section.key}/{fig.name}: {type(exc).__name__}: {exc}")
            block.error = (block.error or "") + traceback.format_exc()
            continue
        files = sorted(p.name for p in png.parent.glob(f"{png.stem}.*"))
        block.figures.append(ShownFigure(fig.name, fig.caption, png,
                                         [f"figures/{f}" for f in files]))
    return block


def _unique(name: str, key: str, names: set[str]) -> str:
    """A file stem no other table or figure of the report uses (prefixed by its section)."""
    stem = name if name not in names else f"{key}-{name}"
    i = 2
    while stem in names:
        stem, i = f"{key}-{name}-{i}", i + 1
    names.add(stem)
    return stem
