"""The DuckDB workspace store: schema (DDL constants) and every SQL statement, bound parameters.

DuckDB lets only one process open a database file while anyone writes to it, and a forked child
that reuses a parent's connection can lose rows silently (env.md). Hydra's parallel launchers run
several jobs over one workspace, so every access goes through ``Store.connect()``: it takes an
exclusive ``flock`` on ``<workspace>/.lock``, opens the file, and closes it again when the block
ends. Connections are never kept between blocks or shared across processes, and ids are content
hashes with insert-if-absent, so concurrent or repeated jobs converge on the same rows.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import logging
import os
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

DB_NAME = "valuespectrum.duckdb"

DDL: tuple[str, ...] = (
    """CREATE TABLE IF NOT EXISTS screenshots (
        id BIGINT PRIMARY KEY,          -- first 60 bits of sha256: the key in every vector index
        sha256 VARCHAR NOT NULL UNIQUE, -- of the original file bytes
        file_path VARCHAR NOT NULL,     -- normalised RGB PNG inside the workspace
        source_path VARCHAR,
        width INTEGER NOT NULL,
        height INTEGER NOT NULL,
        platform VARCHAR,
        url VARCHAR,
        caption VARCHAR,
        author VARCHAR,
        hashtags VARCHAR[],
        collected_at TIMESTAMPTZ,
        source VARCHAR NOT NULL,        -- demo | folder | browser:<platform>
        theme VARCHAR,                  -- demo-only ground truth (a value id)
        notes VARCHAR,
        ingested_at TIMESTAMPTZ NOT NULL
    )""",
    """CREATE TABLE IF NOT EXISTS rejected_inputs (
        source_path VARCHAR NOT NULL,
        reason VARCHAR NOT NULL,
        source VARCHAR NOT NULL,
        seen_at TIMESTAMPTZ NOT NULL,
        PRIMARY KEY (source_path, reason)
    )""",
    """CREATE TABLE IF NOT EXISTS embeddings (
        screenshot_id BIGINT NOT NULL,
        embedder VARCHAR NOT NULL,      -- model tag, e.g. ViT-B-32@laion2b_s34b_b79k
        kind VARCHAR NOT NULL,          -- image | caption
        index_file VARCHAR NOT NULL,
        dim INTEGER NOT NULL,
        embedded_at TIMESTAMPTZ NOT NULL,
        PRIMARY KEY (screenshot_id, embedder, kind)
    )""",
    """CREATE TABLE IF NOT EXISTS retrievals (
        run_id VARCHAR NOT NULL,        -- content hash of everything that decides the result
        value VARCHAR NOT NULL,
        keyword VARCHAR NOT NULL,
        rank INTEGER NOT NULL,
        screenshot_id BIGINT NOT NULL,
        score DOUBLE NOT NULL,          -- fused similarity used for ranking
        image_score DOUBLE NOT NULL,
        caption_score DOUBLE,
        caption_weight DOUBLE NOT NULL,
        embedder VARCHAR NOT NULL,
        caption_encoder VARCHAR,
        index_fingerprint VARCHAR NOT NULL,
        keywords_name VARCHAR NOT NULL,
        query VARCHAR NOT NULL,
        created_at TIMESTAMPTZ NOT NULL,
        PRIMARY KEY (run_id, value, keyword, rank)
    )""",
)


def screenshot_key(sha256: str) -> int:
    """Integer key shared by DuckDB and the vector indexes: 60 bits of the content hash."""
    return int(sha256[:15], 16)


def content_id(payload: Any) -> str:
    """Stable short id of any JSON-able payload (sorted keys), for idempotent run ids."""
    blob = json.dumps(payload, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def now_utc() -> datetime:
    return datetime.now(UTC)


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


class Store:
    """All SQL of the project. Cheap to construct: it opens nothing until ``connect``."""

    def __init__(self, workspace: Path, *, lock_timeout_s: float = 600.0) -> None:
        self.workspace = workspace
        self.path = workspace / DB_NAME
        self.lock_path = workspace / ".lock"
        self.lock_timeout_s = lock_timeout_s

    @contextmanager
    def lock(self) -> Iterator[None]:
        """Exclusive workspace lock across processes (held while a block touches shared files)."""
        self.workspace.mkdir(parents=True, exist_ok=True)
        with open(self.lock_path, "a+") as fh:
            deadline = time.monotonic() + self.lock_timeout_s
            while True:
                try:
                    fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() > deadline:
                        raise TimeoutError(
                            f"workspace {self.workspace} stayed locked for "
                            f"{self.lock_timeout_s:.0f}s; is another run stuck? "
                            f"(lock file {self.lock_path})"
                        ) from None
                    time.sleep(0.05)
            try:
                yield
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)

    @contextmanager
    def connect(self, *, locked: bool = True) -> Iterator[Any]:
        """Open the database for one short block, under the workspace lock.

        ``locked=False`` is for callers that already hold ``lock()``.
        """
        import duckdb

        if locked:
            with self.lock(), self.connect(locked=False) as con:
                yield con
            return
        self.workspace.mkdir(parents=True, exist_ok=True)
        con = duckdb.connect(str(self.path))
        try:
            for stmt in DDL:
                con.execute(stmt)
            yield con
        finally:
            con.close()

    # --- screenshots -------------------------------------------------------------------------
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

    def count(self, con: Any, table: str, where: str = "", params: Sequence[Any] = ()) -> int:
        if table not in {"screenshots", "rejected_inputs", "embeddings", "retrievals"}:
            raise ValueError(f"unknown table {table}")
        sql = f"SELECT count(*) FROM {table}" + (f" WHERE {where}" if where else "")
        return int(con.execute(sql, list(params)).fetchone()[0])

    # --- embeddings ----------------------------------------------------------------------------
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

    # --- retrievals ----------------------------------------------------------------------------
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


def insert_rows(con: Any, table: str, rows: Sequence[Sequence[Any]], chunk: int = 250) -> None:
    """Insert-if-absent many rows with one multi-row statement per chunk.

    DuckDB's ``executemany`` costs milliseconds per row (512 rows took 3.7 s); a multi-row
    ``VALUES`` list with bound parameters does the same work in a few milliseconds.
    """
    for start in range(0, len(rows), chunk):
        part = rows[start : start + chunk]
        row_ph = "(" + ", ".join("?" * len(part[0])) + ")"
        con.execute(
            f"INSERT INTO {table} VALUES {', '.join([row_ph] * len(part))} ON CONFLICT DO NOTHING",
            [value for row in part for value in row],
        )


def ensure_workspace(workspace: Path) -> Path:
    """Create the workspace folders; refuse a path that is a file, naming the fix."""
    if workspace.exists() and not workspace.is_dir():
        raise NotADirectoryError(
            f"paths.workspace={workspace} is a file; point paths.workspace at a folder"
        )
    (workspace / "images").mkdir(parents=True, exist_ok=True)
    (workspace / "index").mkdir(parents=True, exist_ok=True)
    if not os.access(workspace, os.W_OK):
        raise PermissionError(f"paths.workspace={workspace} is not writable; choose another")
    return workspace
