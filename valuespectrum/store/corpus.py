"""SQL of the corpus: screenshots and rejected inputs."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from valuespectrum.store.rows import insert_rows, now_utc


@dataclass(frozen=True)
class ScreenshotRow:
    id: int
    sha256: str
    file_path: str
    source_path: str | None
    width: int
    height: int
    platform: str | None
    url: str | None
    caption: str | None
    author: str | None
    hashtags: list[str]
    collected_at: datetime | None
    source: str
    theme: str | None
    notes: str | None


class CorpusSQL:
    """Screenshot and rejection statements (mixed into :class:`~valuespectrum.store.Store`)."""

    def known_shas(self, con: Any) -> set[str]:
        return {r[0] for r in con.execute("SELECT sha256 FROM screenshots").fetchall()}

    def insert_screenshots(self, con: Any, rows: Sequence[ScreenshotRow]) -> int:
        """Insert rows whose content is new; return how many were added."""
        if not rows:
            return 0
        before = self.count(con, "screenshots")
        ts = now_utc()
        insert_rows(
            con,
            "screenshots",
            [
                (
                    r.id, r.sha256, r.file_path, r.source_path, r.width, r.height, r.platform,
                    r.url, r.caption, r.author, list(r.hashtags), r.collected_at, r.source,
                    r.theme, r.notes, ts,
                )
                for r in rows
            ],
        )
        return self.count(con, "screenshots") - before

    def insert_rejections(self, con: Any, rows: Iterable[tuple[str, str]], source: str) -> int:
        rows = list(rows)
        if not rows:
            return 0
        before = self.count(con, "rejected_inputs")
        ts = now_utc()
        insert_rows(
            con,
            "rejected_inputs",
            [(path, reason, source, ts) for path, reason in rows],
        )
        return self.count(con, "rejected_inputs") - before

    def screenshots(self, con: Any, ids: Sequence[int] | None = None) -> list[ScreenshotRow]:
        cols = (
            "id, sha256, file_path, source_path, width, height, platform, url, caption, "
            "author, hashtags, collected_at, source, theme, notes"
        )
        if ids is None:
            res = con.execute(f"SELECT {cols} FROM screenshots ORDER BY id").fetchall()
        else:
            res = con.execute(
                f"SELECT {cols} FROM screenshots WHERE list_contains(?, id) ORDER BY id",
                [list(ids)],
            ).fetchall()
        return [ScreenshotRow(*r[:10], list(r[10] or []), *r[11:]) for r in res]

    def demo_count(self, con: Any, seed: int, width: int, height: int) -> int:
        """Stored demo screenshots drawn with this seed and size."""
        return self.count(
            con,
            "screenshots",
            "source = 'demo' AND url LIKE ? AND width = ? AND height = ?",
            [f"demo://{seed}/%", width, height],
        )

    @staticmethod
    def latest_rejections(con: Any, n: int) -> list[tuple[str, str]]:
        """The ``n`` most recently recorded (source path, reason) rejections."""
        return con.execute(
            "SELECT source_path, reason FROM rejected_inputs ORDER BY seen_at DESC LIMIT ?",
            [n],
        ).fetchall()
