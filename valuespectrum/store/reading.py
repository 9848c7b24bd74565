"""Read-only access for reports: the tables of given probe runs and sessions, never a write.

A report may run while jobs write to the same workspace. DuckDB refuses even a read-only open
while a writer holds the file (env.md), but every writer holds it only inside ``Store.connect``
under the workspace lock, so the report takes that lock for the few hundred milliseconds it
reads. A file held by anything else (a DuckDB shell, a job of an older version) is refused in
one line naming the fix.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import Any

from valuespectrum.store.schema import DB_NAME, DDL
from valuespectrum.store.workspace import file_lock

# What a report reads, keyed the way it asks: probe-run tables by (probe_run, scoring_key) or
# probe_run, role-play tables by session id.
BY_SCORE_SET = ("scores", "keyword_scores")
BY_PROBE_RUN = ("answers", "probe_runs")
BY_SESSION = ("sessions", "impressions")


class WorkspaceBusy(RuntimeError):
    """The workspace database is held by another process."""


@contextmanager
def read_only(workspace: Path, *, timeout_s: float = 120.0) -> Iterator[Any]:
    """A read-only connection to ``workspace``'s database, under its lock where we may take it."""
    import duckdb

    path = workspace / DB_NAME
    if not path.is_file():
        raise FileNotFoundError(f"{workspace} holds no {DB_NAME}")
    lock_path = workspace / ".lock"
    try:
        lock = file_lock(lock_path, timeout_s, f"workspace {workspace}")
        lock.__enter__()
    except PermissionError:  # a read-only copy of a workspace: nobody writes to it
        lock = nullcontext()
    try:
        try:
            con = duckdb.connect(str(path), read_only=True)
        except duckdb.IOException as exc:
            first = str(exc).splitlines()[0][:200]
            raise WorkspaceBusy(
                f"the workspace database {path} is held by another process ({first}); wait for "
                "the running job to finish (or close the DuckDB shell), then run the report again"
            ) from None
        try:
            yield con
        finally:
            con.close()
    finally:
        lock.__exit__(None, None, None)


@functools.cache
def table_columns(table: str) -> tuple[str, ...]:
    """The columns ``table`` has in a workspace of this version (an in-memory copy of the DDL)."""
    import duckdb

    with duckdb.connect() as con:
        for statement in DDL:
            con.execute(statement)
        return tuple(d[0] for d in con.execute(f"SELECT * FROM {table} LIMIT 0").description)


def read_tables(con: Any, score_sets: Sequence[tuple[str, str]], probe_runs: Sequence[str],
                sessions: Sequence[str]) -> dict[str, Any]:  # fmt: skip
    """Table name -> DataFrame of the rows of these score sets, probe runs and sessions, with
    every column of this version (NULL where an older workspace lacks one)."""
    import pandas as pd

    present = {r[0] for r in con.execute(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()"
    ).fetchall()}  # fmt: skip
    wanted = [(t, "probe_run || '/' || scoring_key", [f"{p}/{k}" for p, k in score_sets])
              for t in BY_SCORE_SET]  # fmt: skip
    wanted += [(t, "probe_run", list(probe_runs)) for t in BY_PROBE_RUN]
    wanted += [(t, "session_id", list(sessions)) for t in BY_SESSION]
    out = {}
    for table, key, ids in wanted:
        columns = list(table_columns(table))
        if not ids or table not in present:
            out[table] = pd.DataFrame(columns=columns)
            continue
        frame = con.execute(f"SELECT * FROM {table} WHERE list_contains(?, {key})",
                            [ids]).df()  # fmt: skip
        out[table] = frame.reindex(columns=[*columns, *(c for c in frame if c not in columns)])
    return out
