"""SQL of the index and retrieve stages: embedding records and retrieval rows."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from valuespectrum.store.rows import insert_rows, now_utc


class RetrievalSQL:
    """Embedding and retrieval statements (mixed into :class:`~valuespectrum.store.Store`)."""

    def record_embeddings(
        self, con: Any, ids: Sequence[int], embedder: str, kind: str, index_file: str, dim: int
    ) -> None:
        if not ids:
            return
        ts = now_utc()
        insert_rows(
            con,
            "embeddings",
            [(int(i), embedder, kind, index_file, dim, ts) for i in ids],
        )

    def embedded_ids(self, con: Any, embedder: str, kind: str) -> set[int]:
        res = con.execute(
            "SELECT screenshot_id FROM embeddings WHERE embedder = ? AND kind = ?",
            [embedder, kind],
        ).fetchall()
        return {int(r[0]) for r in res}

    def has_retrieval(self, con: Any, run_id: str) -> bool:
        return self.count(con, "retrievals", "run_id = ?", [run_id]) > 0

    def insert_retrievals(self, con: Any, rows: Sequence[dict[str, Any]]) -> None:
        if not rows:
            return
        ts = now_utc()
        insert_rows(
            con,
            "retrievals",
            [
                (
                    r["run_id"], r["value"], r["keyword"], r["rank"], r["screenshot_id"],
                    r["score"], r["image_score"], r["caption_score"], r["caption_weight"],
                    r["embedder"], r["caption_encoder"], r["index_fingerprint"],
                    r["keywords_name"], r["query"], ts,
                )
                for r in rows
            ],
        )

    def retrievals(self, con: Any, run_id: str) -> Any:
        """The retrieval run as a pandas DataFrame joined with screenshot paths and captions."""
        return con.execute(
            """SELECT r.*, s.file_path, s.caption, s.theme, s.sha256
               FROM retrievals r JOIN screenshots s ON s.id = r.screenshot_id
               WHERE r.run_id = ? ORDER BY r.value, r.keyword, r.rank""",
            [run_id],
        ).df()
