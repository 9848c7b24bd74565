"""Workspace integrity: cheap checks at stage start, and the queries behind ``verify``.

What each check costs decides where it runs. At every stage start: the database file is as
long as its own header says (one ``stat`` and one pragma), and the images the stage is about
to read exist and are not empty (one ``stat`` each). Only ``python -m valuespectrum.verify``
reads everything: every index file, every image (``--deep`` decodes them), and the references
between tables. Every problem is one line that names the repair.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from valuespectrum.config import ConfigError

HEADER_BYTES = 3 * 4096  # DuckDB's file headers: one main and two database headers
VERIFY = "python -m valuespectrum.verify"
# Messages DuckDB gives for a file it cannot read back, as opposed to SQL or lock errors.
_DAMAGE_SIGNS = (
    "could not read enough bytes", "corrupt database file", "not a valid duckdb database file",
    "checksum",
)


class WorkspaceDamaged(ConfigError):
    """A workspace file is missing or damaged; the message is one line naming the repair.

    A ``ConfigError`` so the command line prints it as one line and exits with code 2.
    """


def database_damaged(path: Path, cause: BaseException | str) -> WorkspaceDamaged:
    first = str(cause).strip().splitlines()[0][:200] if str(cause).strip() else type(cause)
    return WorkspaceDamaged(
        f"workspace database {path} is damaged ({first}); move it away and re-run (collect and "
        "index rebuild their rows from the images and index files; the probe's call cache was "
        f"in it, so it asks the model again), or run {VERIFY} --workspace {path.parent}"
    )


def is_damage(exc: BaseException) -> bool:
    """Whether a DuckDB error says the file itself is unreadable (a lock conflict is not)."""
    text = str(exc).lower()
    return any(sign in text for sign in _DAMAGE_SIGNS)


def check_database_size(con: Any, path: Path) -> None:
    """Refuse a file that ends before the last block its tables and catalog use (a copy cut
    short, a full disk).

    DuckDB opens such a file and fails only when a query reaches a lost block, possibly stages
    later. The header's block count is no bound (blocks freed before they were ever written lie
    past the end of a sound file), so this takes the highest block that holds table data or
    metadata. Blocks of primary-key indexes are not listed by DuckDB; a cut that loses only
    those is found when a query reads them (see ``is_damage``). 15-30 ms, once per Store.
    """
    tables = [r[0] for r in con.execute(
        "SELECT table_name FROM duckdb_tables() WHERE database_name = current_database()"
    ).fetchall()]
    last = con.execute("SELECT max(block_id) FROM pragma_metadata_info()").fetchone()[0]
    blocks = [last] if last is not None else []
    for table in tables:
        blocks.extend(con.execute(
            "SELECT max(block_id), max(list_max(additional_block_ids)) "
            "FROM pragma_storage_info(?) WHERE persistent", [table]
        ).fetchone())
    used = [int(b) for b in blocks if b is not None and b >= 0]
    if not used:
        return
    block_size = con.execute("SELECT block_size FROM pragma_database_size()").fetchone()[0]
    expected = HEADER_BYTES + (max(used) + 1) * int(block_size)
    size = path.stat().st_size
    if size < expected:
        raise database_damaged(
            path, f"{size} bytes on disk but its data reaches byte {expected}: the file was cut"
        )


def missing_images(workspace: Path, file_paths: Iterable[str]) -> list[str]:
    """The stored images (paths relative to the workspace) that are absent or empty."""
    out = []
    for rel in dict.fromkeys(file_paths):
        try:
            if (workspace / rel).stat().st_size > 0:
                continue
        except OSError:
            pass
        out.append(rel)
    return out


def require_images(workspace: Path, file_paths: Iterable[str], stage: str) -> None:
    """Stop a stage before it reads a corpus image that is gone (a grey tile, a wrong answer)."""
    missing = missing_images(workspace, file_paths)
    if missing:
        raise WorkspaceDamaged(
            f"{stage}: {len(missing)} corpus image(s) missing or empty in {workspace}, e.g. "
            f"{missing[0]}; re-run collect with the corpus that holds them (stages=[collect,"
            f"{stage}]) to restore them from their source, or run {VERIFY} --workspace {workspace}"
        )


def require_index_complete(index: Any, recorded: int, path: Path) -> None:
    """Stop a search over an index that lost vectors the ``embeddings`` table recorded."""
    if len(index) < recorded:
        raise WorkspaceDamaged(
            f"vector index {path} holds {len(index)} vectors but the workspace recorded "
            f"{recorded}; re-run the index stage (stages=[index]), which re-embeds the missing ones"
        )


def index_keys_recorded(con: Any) -> dict[str, set[int]]:
    """index file name -> the screenshot ids ``embeddings`` says it holds."""
    out: dict[str, set[int]] = {}
    for name, sid in con.execute("SELECT index_file, screenshot_id FROM embeddings").fetchall():
        out.setdefault(name, set()).add(int(sid))
    return out


def dangling(con: Any) -> list[str]:
    """One line (what, then the fix) per kind of row that references rows which are gone."""
    checks = (
        ("""SELECT r.run_id, count(*) FROM retrievals r
            ANTI JOIN screenshots s ON s.id = r.screenshot_id GROUP BY r.run_id ORDER BY 1""",
         "{n} retrieval row(s) of run(s) {ids} reference screenshots not in the database; "
         "re-run collect over the corpus that held them (ids are content hashes, so their rows "
         "come back)"),
        # Only decisions: a "why" may fail and leave its fingerprint without a reply.
        ("""SELECT a.probe_run, count(*) FROM answers a
            WHERE a.outcome <> 'error'
              AND a.fingerprint NOT IN (SELECT fingerprint FROM responses)
            GROUP BY a.probe_run ORDER BY 1""",
         "{n} answer(s) of probe run(s) {ids} have no cached reply in responses; re-run the "
         "probe with the same settings: it asks those calls again and rewrites the answers"),
        ("""SELECT p.probe_run, 1 FROM probe_runs p
            ANTI JOIN scores s ON s.probe_run = p.probe_run ORDER BY 1""",
         "{n} probe run(s) without scores ({ids}); re-run the probe with the same settings "
         "(answered from the cache, no model calls) to score them"),
        ("""SELECT i.session_id, count(*) FROM impressions i
            ANTI JOIN sessions s ON s.session_id = i.session_id GROUP BY 1 ORDER BY 1""",
         "{n} impression(s) of session(s) {ids} have no row in sessions; re-run the induce "
         "stage with the same settings (it replays them without model calls)"),
    )
    out = []
    for sql, line in checks:
        rows = con.execute(sql).fetchall()
        if rows:
            ids = ", ".join(str(r[0]) for r in rows[:3]) + (", ..." if len(rows) > 3 else "")
            out.append(line.format(n=sum(int(r[1]) for r in rows), ids=ids))
    return out


# --- what python -m valuespectrum.verify reads -------------------------------------------------
def table_names(con: Any) -> set[str]:
    return {r[0] for r in con.execute(
        "SELECT table_name FROM duckdb_tables() WHERE database_name = current_database()"
    ).fetchall()}


def screenshot_files(con: Any) -> list[tuple[str, int, int]]:
    """(file_path, width, height) of every screenshot."""
    rows = con.execute("SELECT file_path, width, height FROM screenshots").fetchall()
    return [(r[0], int(r[1]), int(r[2])) for r in rows]


def screenshot_ids(con: Any) -> set[int]:
    return {int(r[0]) for r in con.execute("SELECT id FROM screenshots").fetchall()}


def run_counts(con: Any) -> tuple[int, int]:
    """(retrieval runs, probe runs) in the workspace."""
    row = con.execute(
        "SELECT (SELECT count(DISTINCT run_id) FROM retrievals), (SELECT count(*) FROM probe_runs)"
    ).fetchone()
    return int(row[0]), int(row[1])
