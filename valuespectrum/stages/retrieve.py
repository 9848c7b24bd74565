"""Retrieve: for each value and each of its keywords, the top-k screenshots (paper.md section 3).

Steps: compute (or reuse) the retrieval run -> log its table and contact sheets -> metrics. The
search itself is :mod:`valuespectrum.retrieval.search`; the run id hashes everything that decides
the result (keywords, k, w, model tags, index fingerprints), so an identical re-run reuses rows.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

from valuespectrum.retrieval.steps import ensure_retrieval

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


def _log_artifacts(ctx, table, run_id: str) -> None:
    from valuespectrum.report.plots import ContactItem, contact_sheet
    from valuespectrum.values import LABELS

    out = ctx.output_dir / "retrieval"
    out.mkdir(parents=True, exist_ok=True)
    parquet = out / f"retrievals-{run_id}.parquet"
    table.to_parquet(parquet, index=False)
    ctx.tracker.log_artifact(parquet, "retrieval")
    csv = parquet.with_suffix(".csv")  # previewed in MLflow's artifact viewer
    table.to_csv(csv, index=False)
    ctx.tracker.log_artifact(csv, "retrieval")
    for value, group in table.groupby("value", sort=False):
        items: Sequence[ContactItem] = [
            ContactItem(
                image_path=ctx.workspace / Path(r.file_path),
                label=r.keyword,
                sublabel=f"#{r.rank}  {r.score:.3f}",
                row=r.keyword,
            )
            for r in group.itertuples()
        ]
        sheet = contact_sheet(
            items, out / f"contact-{value}.png",
            title=f"{LABELS.get(value, value)} — run {run_id} (k={ctx.cfg.retrieve.k})",
            columns=ctx.cfg.retrieve.k,
        )
        ctx.tracker.log_artifact(Path(sheet), "retrieval/contact_sheets")
