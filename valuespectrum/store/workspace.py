"""The DuckDB workspace: one lock, short connections, and the Store that gathers all SQL.

DuckDB lets only one process open a database file while anyone writes to it, and a forked child
that reuses a parent's connection can lose rows silently (env.md). Hydra's parallel launchers run
several jobs over one workspace, so every access goes through ``Store.connect()``: it takes an
exclusive ``flock`` on ``<workspace>/.lock``, opens the file, and closes it again when the block
ends. Connections are never kept between blocks or shared across processes, and ids are content
hashes with insert-if-absent, so concurrent or repeated jobs converge on the same rows.
"""

from __future__ import annotations

import fcntl
import logging
import os
import time
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any

from valuespectrum.store.corpus import CorpusSQL
from valuespectrum.store.integrity import check_database_size, database_damaged, is_damage
from valuespectrum.store.retrieval import RetrievalSQL
from valuespectrum.store.schema import DB_NAME, DDL, TABLES, migrate

log = logging.getLogger(__name__)


class Store(CorpusSQL, RetrievalSQL):
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
        with file_lock(self.lock_path, self.lock_timeout_s, f"workspace {self.workspace}"):
            yield

    def tracking_lock(self) -> AbstractContextManager[None]:
        """Serialises MLflow setup (schema, experiment, sweep parent) between jobs of this
        workspace. A lock of its own, never the database lock: a slow tracking server must not
        hold up any job's data work."""
        self.workspace.mkdir(parents=True, exist_ok=True)
        return file_lock(
            self.workspace / ".tracking.lock", self.lock_timeout_s,
            f"tracking setup of {self.workspace}",
        )

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
        con = self._open(duckdb)
        try:
            yield con
        except duckdb.Error as exc:
            if is_damage(exc):  # a lost or garbled block, met by a query inside the block
                raise database_damaged(self.path, exc) from exc
            raise
        finally:
            con.close()

    def _open(self, duckdb: Any) -> Any:
        """Connect; the first time per Store, also check the file's length and run the DDL."""
        try:
            con = duckdb.connect(str(self.path))
        except duckdb.Error as exc:
            if is_damage(exc):  # not a lock conflict, a permission or a version problem
                raise database_damaged(self.path, exc) from exc
            raise
        if self._schema_ready:
            return con
        try:
            check_database_size(con, self.path)
            for stmt in DDL:
                con.execute(stmt)
            migrate(con)
        except BaseException as exc:
            con.close()
            if isinstance(exc, duckdb.Error) and is_damage(exc):
                raise database_damaged(self.path, exc) from exc
            raise
        self._schema_ready = True
        return con

    def count(self, con: Any, table: str, where: str = "", params: Sequence[Any] = ()) -> int:
        if table not in TABLES:
            raise ValueError(f"unknown table {table}")
        sql = f"SELECT count(*) FROM {table}" + (f" WHERE {where}" if where else "")
        return int(con.execute(sql, list(params)).fetchone()[0])


@contextmanager
def file_lock(path: Path, timeout_s: float, what: str) -> Iterator[None]:
    """An exclusive ``flock`` on ``path`` across processes; gives up after ``timeout_s``."""
    with open(path, "a+") as fh:
        deadline = time.monotonic() + timeout_s
        wait = 0.002  # a short block of another thread or job ends soon: look again soon
        while True:
            try:
                fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise TimeoutError(
                        f"{what} stayed locked for {timeout_s:.0f}s; is another run stuck? "
                        f"(lock file {path})"
                    ) from None
                time.sleep(wait)
                wait = min(0.05, wait * 2)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


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
