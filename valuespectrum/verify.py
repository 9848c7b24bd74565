"""Check a whole workspace: ``python -m valuespectrum.verify [--workspace DIR] [--deep]``.

Prints one line per problem, each naming its repair, then a summary; exits 0 when the workspace
is clean, 1 when something is damaged, 2 when there is no workspace to check. It checks that the
database opens and holds every table, that every screenshot's image exists with a sane size
(``--deep``: decodes fully, at the recorded size), that every index file loads and holds exactly
the vectors ``embeddings`` records, and that retrievals, answers and scores reference rows that
exist. Stages check only what they are about to read; this reads everything.

It repairs nothing and writes nothing but the lock file: the database is opened read-only,
under the workspace lock. It imports neither Hydra nor torch, so it starts at once.
"""

from __future__ import annotations

import argparse
import os
import sys
from contextlib import nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from valuespectrum.store import DB_NAME, Store
from valuespectrum.store.integrity import (
    WorkspaceDamaged,
    check_database_size,
    dangling,
    database_damaged,
    index_keys_recorded,
    is_damage,
    missing_images,
    run_counts,
    screenshot_files,
    screenshot_ids,
    table_names,
)
from valuespectrum.store.schema import TABLES

INDEX_FIX = "re-run the index stage (python run.py stages=[index])"


@dataclass
class Report:
    """What a check found: problem lines and the counts for the summary."""

    problems: list[str] = field(default_factory=list)
    screenshots: list[tuple[str, int, int]] = field(default_factory=list)  # path, width, height
    ids: set[int] = field(default_factory=set)
    recorded: dict[str, set[int]] = field(default_factory=dict)
    runs: tuple[int, int] = (0, 0)  # retrieval runs, probe runs
    index_files: int = 0

    def add(self, line: str) -> None:
        self.problems.append(line)


def verify(workspace: Path, *, deep: bool = False, lock_timeout_s: float = 60.0) -> Report:
    """Run every check on ``workspace`` (which must exist) and return what was found."""
    report = Report()
    store = Store(workspace, lock_timeout_s=lock_timeout_s)
    # A running job writes the database and swaps index files under the lock; a workspace this
    # user may only read (a group's shared one) is checked without it.
    writable = os.access(workspace, os.W_OK)
    with store.lock() if writable else nullcontext():
        db_ok = _check_database(store.path, report)
        _check_indexes(workspace, report, db_ok)
    if db_ok:
        _check_images(workspace, report, deep)
    return report


def _check_database(path: Path, report: Report) -> bool:
    """Tables present, references sound; fills ``report`` with what the file checks need."""
    import duckdb

    if not path.exists():
        report.add(f"workspace database {path} is missing; re-run python run.py (collect "
                   "rebuilds the corpus rows from their sources; the probe cache is lost)")
        return False
    try:
        with duckdb.connect(str(path), read_only=True) as con:
            check_database_size(con, path)
            present = table_names(con)
            for table in TABLES:
                if table not in present:
                    report.add(f"table {table} is missing from {path}; re-run the stages that "
                               "fill it (any run recreates it empty)")
            if set(TABLES) - present:
                return False
            _read_rows(con, report)
    except WorkspaceDamaged as exc:
        report.add(str(exc))
        return False
    except duckdb.Error as exc:
        if not is_damage(exc):
            raise
        report.add(str(database_damaged(path, exc)))
        return False
    return True


def _read_rows(con: Any, report: Report) -> None:
    report.screenshots = screenshot_files(con)
    report.ids = screenshot_ids(con)
    report.recorded = index_keys_recorded(con)
    report.runs = run_counts(con)
    for line in dangling(con):
        report.add(line)


def _check_indexes(workspace: Path, report: Report, db_ok: bool) -> None:
    """Every index file loads; with the database, its keys are exactly the recorded ones."""
    from valuespectrum.retrieval.index import VectorIndex

    folder = workspace / "index"
    files = sorted(folder.glob("*.usearch")) if folder.is_dir() else []
    report.index_files = len(files)
    for name in sorted(set(report.recorded) - {p.name for p in files}):
        report.add(f"vector index {folder / name} is missing but embeddings records "
                   f"{len(report.recorded[name])} vectors in it; {INDEX_FIX}, which re-embeds "
                   "them")
    for path in files:
        try:
            keys = set(VectorIndex.open(path, view=True).keys().tolist())
        except WorkspaceDamaged as exc:
            report.add(str(exc))
            continue
        if not db_ok:
            continue
        recorded = report.recorded.get(path.name, set())
        lost, strangers = recorded - keys, keys - report.ids
        unrecorded = keys - recorded - strangers
        if lost:
            report.add(f"vector index {path} lacks {len(lost)} vectors that embeddings records; "
                       f"{INDEX_FIX}, which re-embeds them")
        if strangers:
            report.add(f"vector index {path} holds {len(strangers)} vector(s) of screenshots not "
                       "in the database (a file of another workspace?); delete it and "
                       f"{INDEX_FIX}")
        if unrecorded:
            report.add(f"vector index {path} holds {len(unrecorded)} vectors embeddings does "
                       f"not record; {INDEX_FIX}, which records them")


def _check_images(workspace: Path, report: Report, deep: bool) -> None:
    repair = ("re-run collect with the corpus that holds them (python run.py stages=[collect] "
              "corpus=...), which restores them from their source")
    missing = missing_images(workspace, [p for p, _, _ in report.screenshots])
    if missing:
        report.add(f"{len(missing)} corpus image(s) missing or empty in {workspace}, e.g. "
                   f"{missing[0]}; {repair}")
    if not deep:
        return
    gone = set(missing)
    bad = [(path, why) for path, w, h in report.screenshots
           if path not in gone and (why := _undecodable(workspace / path, (w, h)))]
    if bad:
        report.add(f"{len(bad)} corpus image(s) do not decode or have the wrong size, e.g. "
                   f"{bad[0][0]} ({bad[0][1]}); delete them and {repair}")


def _undecodable(path: Path, size: tuple[int, int]) -> str | None:
    """Why the stored PNG is unusable (Pillow's CRC-checking ``verify`` and a full decode)."""
    from PIL import Image

    try:
        with Image.open(path) as image:
            image.verify()
        with Image.open(path) as image:
            if image.size != size:
                return f"{image.size[0]}x{image.size[1]}, recorded {size[0]}x{size[1]}"
            image.load()
    except Exception as exc:  # Pillow raises many kinds for a damaged file
        return f"{type(exc).__name__}: {str(exc)[:80]}"
    return None


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" + ("" if n == 1 else "s")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m valuespectrum.verify",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("--workspace", type=Path, default=Path("data/workspace"),
                        help="the workspace folder (paths.workspace; default data/workspace)")
    parser.add_argument("--deep", action="store_true",
                        help="also decode every image fully (slower)")
    args = parser.parse_args(argv)
    workspace = args.workspace.expanduser().resolve()
    marks = (workspace / DB_NAME, workspace / "images", workspace / "index")
    if not workspace.is_dir() or not any(p.exists() for p in marks):
        print(f"error: no workspace at {workspace}; pass --workspace DIR (a run's "
              "paths.workspace)", file=sys.stderr)
        return 2
    try:
        report = verify(workspace, deep=args.deep)
    except (TimeoutError, OSError) as exc:  # locked by a stuck run, in use elsewhere
        print(f"error: {exc}", file=sys.stderr)
        return 2
    for line in report.problems:
        print(f"problem: {line}")
    if report.problems:
        print(f"workspace {workspace}: {len(report.problems)} problem(s) found")
        return 1
    retrievals, probes = report.runs
    print(f"workspace {workspace}: clean ({_plural(len(report.screenshots), 'screenshot')}, "
          f"{_plural(report.index_files, 'index file')}, "
          f"{_plural(retrievals, 'retrieval run')}, {_plural(probes, 'probe run')})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
