"""Retrieve: for each value and each of its keywords, the top-k screenshots (paper.md section 3).

Steps: compute (or reuse) the retrieval run -> log its table and contact sheets -> metrics. The
search itself is :mod:`valuespectrum.retrieval.search`; the run id hashes everything that decides
the result (keywords, k, w, model tags, index fingerprints), so an identical re-run reuses rows.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

from valuespectrum.retrieval.steps import ensure_retrieval, make_embedder

log = logging.getLogger(__name__)


def run(ctx) -> dict[str, float]:
    """Write the ``retrievals`` rows of this configuration and log its contact sheets."""
    retrieval = ensure_retrieval(ctx)
    ctx.retrieval = retrieval
    run_id, table, reused = retrieval.run_id, retrieval.table, retrieval.reused
    _log_artifacts(ctx, table, run_id)
    n_queries = sum(len(e.keywords) for e in ctx.cfg.value_keywords.values.values())
    return _metrics(table, n_queries, ctx.cfg.retrieve.k, reused)


def _metrics(table, n_queries: int, k: int, reused: bool) -> dict[str, float]:
    metrics = {
        "usage/rows": float(len(table)),
        "usage/queries": float(n_queries),
        "fill_rate": len(table) / max(1, n_queries * k),
        "mean_score": float(table["score"].mean()) if len(table) else 0.0,
        "usage/reused": float(reused),
    }
    themed = table.dropna(subset=["theme"])
    if len(themed):
        # Demo corpus only: how often the retrieved image was drawn for the queried value.
        metrics["theme_precision"] = float((themed["theme"] == themed["value"]).mean())
    return metrics


def sheet_header(
    caption_weight: float, embedder_tag: str, caption_tag: str | None, pretrained: str | None
) -> tuple[list[str], str | None]:
    """(subtitle lines, warning) for a contact sheet: which score ranks the thumbnails, which
    models produced it, and a warning when the CLIP model has random weights."""
    w = caption_weight
    if w == 0:
        score = "score: image similarity (CLIP image vs keyword text)"
    elif w == 1:
        score = "score: caption similarity (caption text vs keyword)"
    else:
        score = f"score: fused = {1 - w:.2g} image + {w:.2g} caption similarity to the keyword"
    models = f"embedder: {embedder_tag}" + (f" | captions: {caption_tag}" if w > 0 else "")
    warning = None
    if pretrained is None:
        rest = {0: "so this ranking is noise", 1: "and take no part in this ranking"}
        warning = "random-init CLIP: image similarities carry no meaning, " + rest.get(
            w, "only the caption part of this score does"
        )
    return [score, models], warning


def _log_artifacts(ctx, table, run_id: str) -> None:
    """Draw the table and contact sheets once per retrieval run (and header), then publish."""
    from valuespectrum.report.artifacts import fill_once, publish
    from valuespectrum.store import content_id

    cfg = ctx.cfg
    embedder = make_embedder(cfg.embedder)  # nothing is loaded: only its tags are read
    captions = embedder.caption_encoder
    subtitle, warning = sheet_header(
        cfg.retrieve.caption_weight,
        embedder.tag,
        captions.tag if captions is not None else None,
        cfg.embedder.pretrained,
    )
    layout = content_id({"subtitle": subtitle, "warning": warning, "sheets": SHEETS_VERSION})
    folder = ctx.workspace / "retrieval" / run_id / layout
    values = list(dict.fromkeys(table["value"]))
    tables = [f"retrievals-{run_id}.parquet", f"retrievals-{run_id}.csv"]  # CSV: UI preview
    sheets = [f"contact-{v}.png" for v in values]

    def draw(tmp: Path) -> None:
        _draw_sheets(cfg, table, run_id, tmp, subtitle, warning)
        table.to_csv(tmp / tables[1], index=False)
        table.to_parquet(tmp / tables[0], index=False)  # last: the completion mark

    fill_once(folder, draw, mark=tables[0], lock=ctx.store.lock)
    publish(ctx, folder, tables, "retrieval")
    pdfs = [n.replace(".png", ".pdf") for n in sheets]
    publish(ctx, folder, sheets, "retrieval/contact_sheets", unlogged=pdfs)


# Bump when the drawing changes, so sheets kept in workspaces are redrawn once.
SHEETS_VERSION = 2


def _draw_sheets(cfg, table, run_id: str, out: Path, subtitle, warning) -> None:
    from valuespectrum.report.contact_sheets import ContactItem, contact_sheet
    from valuespectrum.values import LABELS

    workspace = cfg.paths.workspace_path()
    for value, group in table.groupby("value", sort=False):
        items: Sequence[ContactItem] = [
            ContactItem(
                image_path=workspace / Path(r.file_path),
                label=r.keyword,
                sublabel=f"#{r.rank}  {r.score:.3f}",
                row=r.keyword,
            )
            for r in group.itertuples()
        ]
        # The PDF written beside each PNG wraps the same pixels: kept on disk, not logged.
        contact_sheet(
            items,
            out / f"contact-{value}.png",
            title=f"{LABELS.get(value, value)}: top {cfg.retrieve.k} per keyword (run {run_id})",
            columns=cfg.retrieve.k,
            subtitle=subtitle,
            warning=warning,
        )
