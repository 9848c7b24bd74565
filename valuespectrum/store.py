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
    # The response cache: one row per successful call, keyed by the request fingerprint (model
    # identity, messages with image hashes, generation params, prompt version, sample). Failed
    # calls are never cached; they go to call_errors.
    """CREATE TABLE IF NOT EXISTS responses (
        fingerprint VARCHAR PRIMARY KEY,
        model VARCHAR NOT NULL,
        kind VARCHAR NOT NULL,          -- decision | why | describe
        image_sha256 VARCHAR NOT NULL,  -- of the encoded image sent
        prompt_version VARCHAR NOT NULL,
        request VARCHAR NOT NULL,       -- JSON: model, messages (images by hash), params
        text VARCHAR NOT NULL,
        latency_s DOUBLE,
        input_tokens INTEGER,
        output_tokens INTEGER,
        cost_usd DOUBLE,
        yes_logprob DOUBLE,
        no_logprob DOUBLE,
        model_version VARCHAR,
        attempts INTEGER,
        created_at TIMESTAMPTZ NOT NULL
    )""",
    """CREATE TABLE IF NOT EXISTS call_errors (
        fingerprint VARCHAR NOT NULL,
        model VARCHAR NOT NULL,
        kind VARCHAR NOT NULL,
        error_kind VARCHAR NOT NULL,
        status INTEGER,
        message VARCHAR,
        attempts INTEGER,
        created_at TIMESTAMPTZ NOT NULL
    )""",
    """CREATE TABLE IF NOT EXISTS answers (
        probe_run VARCHAR NOT NULL,
        value VARCHAR NOT NULL,
        keyword VARCHAR NOT NULL,
        rank INTEGER NOT NULL,
        sample INTEGER NOT NULL,
        screenshot_id BIGINT NOT NULL,
        fingerprint VARCHAR NOT NULL,   -- the decision call
        outcome VARCHAR NOT NULL,       -- yes | no | refusal | invalid | error
        parse_reason VARCHAR NOT NULL,
        why_fingerprint VARCHAR,
        PRIMARY KEY (probe_run, value, keyword, rank, sample)
    )""",
    """CREATE TABLE IF NOT EXISTS probe_runs (
        probe_run VARCHAR PRIMARY KEY,
        model VARCHAR NOT NULL,
        model_label VARCHAR NOT NULL,
        simulated BOOLEAN NOT NULL,
        retrieval_run VARCHAR NOT NULL,
        prompt_version VARCHAR NOT NULL,
        settings VARCHAR NOT NULL,      -- JSON: model fingerprint, params, samples
        created_at TIMESTAMPTZ NOT NULL
    )""",
    """CREATE TABLE IF NOT EXISTS scores (
        probe_run VARCHAR NOT NULL,
        model VARCHAR NOT NULL,
        value VARCHAR NOT NULL,
        higher_order VARCHAR,
        score DOUBLE, ci_low DOUBLE, ci_high DOUBLE, score_answered DOUBLE,
        centred DOUBLE, centred_ci_low DOUBLE, centred_ci_high DOUBLE,
        n INTEGER, n_images INTEGER, n_yes INTEGER, n_no INTEGER, n_refusal INTEGER,
        n_invalid INTEGER, n_error INTEGER,
        refusal_rate DOUBLE, invalid_rate DOUBLE, error_rate DOUBLE,
        PRIMARY KEY (probe_run, value)
    )""",
)

SCORE_COLUMNS: tuple[str, ...] = (
    "model", "value", "higher_order", "score", "ci_low", "ci_high", "score_answered", "centred",
    "centred_ci_low", "centred_ci_high", "n", "n_images", "n_yes", "n_no", "n_refusal",
    "n_invalid", "n_error", "refusal_rate", "invalid_rate", "error_rate",
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
        self._schema_ready = False  # DDL runs once per Store, not on every short connection

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
            if not self._schema_ready:
                for stmt in DDL:
                    con.execute(stmt)
                self._schema_ready = True
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
        if table not in {
            "screenshots", "rejected_inputs", "embeddings", "retrievals", "responses",
            "call_errors", "answers", "probe_runs", "scores",
        }:
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


class ProbeStore:
    """SQL of the probe: the response cache, answers and scores (see DDL)."""

    @staticmethod
    def cached(con: Any, fingerprints: Sequence[str]) -> dict[str, tuple[str, int]]:
        """fingerprint -> (reply text, attempts) for the calls already answered."""
        if not fingerprints:
            return {}
        res = con.execute(
            "SELECT fingerprint, text FROM responses WHERE list_contains(?, fingerprint)",
            [list(fingerprints)],
        ).fetchall()
        return {r[0]: r[1] for r in res}

    @staticmethod
    def save_responses(con: Any, rows: Sequence[Sequence[Any]]) -> None:
        insert_rows(con, "responses", [(*r, now_utc()) for r in rows])

    @staticmethod
    def save_errors(con: Any, rows: Sequence[Sequence[Any]]) -> None:
        if rows:
            insert_rows(con, "call_errors", [(*r, now_utc()) for r in rows], keyed=False)

    @staticmethod
    def save_run(con: Any, row: Sequence[Any]) -> None:
        insert_rows(con, "probe_runs", [(*row, now_utc())])

    @staticmethod
    def replace_answers(con: Any, probe_run: str, rows: Sequence[Sequence[Any]]) -> None:
        """Answers are derived (cache + parser), so a re-run rewrites them whole."""
        con.execute("DELETE FROM answers WHERE probe_run = ?", [probe_run])
        if rows:
            insert_rows(con, "answers", rows)

    @staticmethod
    def replace_scores(con: Any, probe_run: str, scores: Any) -> None:
        con.execute("DELETE FROM scores WHERE probe_run = ?", [probe_run])
        rows = [
            (probe_run, *[_plain(getattr(r, c)) for c in SCORE_COLUMNS])
            for r in scores.itertuples()
        ]
        if rows:
            insert_rows(con, "scores", rows)

    @staticmethod
    def usage(con: Any, fingerprints: Sequence[str]) -> tuple[float, int]:
        """Total cost (USD, where known) and output tokens of the given responses."""
        row = con.execute(
            "SELECT coalesce(sum(cost_usd), 0), coalesce(sum(output_tokens), 0) FROM responses "
            "WHERE list_contains(?, fingerprint)",
            [list(fingerprints)],
        ).fetchone()
        return float(row[0]), int(row[1])


def _plain(value: Any) -> Any:
    """numpy scalars -> Python; NaN -> NULL (DuckDB stores NaN, but SQL aggregates mishandle it)."""
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, float) and value != value:
        return None
    return value


def insert_rows(
    con: Any, table: str, rows: Sequence[Sequence[Any]], *, keyed: bool = True
) -> None:
    """Insert-if-absent many rows at once, as an Arrow table scanned by DuckDB.

    ``executemany`` costs milliseconds per row in DuckDB (512 rows took 3.7 s) and a bound
    multi-row ``VALUES`` list about 0.3 ms per row; an Arrow scan inserts thousands of rows in
    milliseconds. Columns follow the table's own order.
    """
    import pyarrow as pa

    if not rows:
        return
    names = [d[0] for d in con.execute(f"SELECT * FROM {table} LIMIT 0").description]
    incoming = pa.table({n: [row[i] for row in rows] for i, n in enumerate(names)})
    con.register("_incoming_rows", incoming)
    try:
        con.execute(
            f"INSERT INTO {table} SELECT * FROM _incoming_rows"
            + (" ON CONFLICT DO NOTHING" if keyed else "")
        )
    finally:
        con.unregister("_incoming_rows")


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
