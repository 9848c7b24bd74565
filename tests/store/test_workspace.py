"""Store.connect: a damaged database file is one line naming the fix, not a traceback three
stages later; a database merely in use elsewhere is not called damaged."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from tests.conftest import ROOT
from valuespectrum.store import DB_NAME, Store
from valuespectrum.store.integrity import WorkspaceDamaged


def _filled(ws: Path) -> Path:
    """A workspace database of several blocks (cache rows with long texts)."""
    store = Store(ws)
    with store.connect() as con:
        con.execute(
            "INSERT INTO responses SELECT 'f' || range, 'm', 'decision', 's', 'v', '{}', "
            "repeat('yes because ', 40) || range, NULL, NULL, NULL, NULL, NULL, NULL, NULL, "
            "1, now() FROM range(20000)"
        )
        con.execute("CHECKPOINT")  # into the file itself, whatever this process did before
    return ws / DB_NAME


def _assert_one_line_fix(exc: BaseException, path: Path) -> None:
    message = str(exc)
    assert "\n" not in message and f"workspace database {path} is damaged" in message
    assert "move it away and re-run" in message and "python -m valuespectrum.verify" in message


def test_a_database_truncated_to_half_fails_at_connect(tmp_path: Path) -> None:
    db = _filled(tmp_path / "ws")
    os.truncate(db, db.stat().st_size // 2)
    with pytest.raises(WorkspaceDamaged) as info, Store(tmp_path / "ws").connect():
        pass  # before: opened fine, and only a later query failed, with a traceback
    _assert_one_line_fix(info.value, db)


@pytest.mark.parametrize("size", [0, 100])
def test_an_emptied_database_fails_at_connect(tmp_path: Path, size: int) -> None:
    db = _filled(tmp_path / "ws")
    os.truncate(db, size)
    with pytest.raises(WorkspaceDamaged) as info, Store(tmp_path / "ws").connect():
        pass
    _assert_one_line_fix(info.value, db)


def test_a_corrupt_block_read_inside_a_block_names_the_fix(tmp_path: Path) -> None:
    db = _filled(tmp_path / "ws")
    with duckdb.connect(str(db), read_only=True) as con:
        (block, block_size) = con.execute(
            "SELECT max(block_id), any_value((SELECT block_size FROM pragma_database_size())) "
            "FROM pragma_storage_info('responses') WHERE column_name = 'text' AND persistent"
        ).fetchone()
    with db.open("r+b") as fh:  # same size, garbage in a block of reply texts
        fh.seek(3 * 4096 + block * block_size + 1000)
        fh.write(b"\xa5" * 4096)
    opened = False
    with pytest.raises(WorkspaceDamaged) as info, Store(tmp_path / "ws").connect() as con:
        opened = True
        con.execute("SELECT sum(length(text)) FROM responses").fetchall()
    assert opened
    _assert_one_line_fix(info.value, db)


def test_other_errors_inside_a_block_pass_unchanged(tmp_path: Path) -> None:
    _filled(tmp_path / "ws")
    with pytest.raises(duckdb.CatalogException), Store(tmp_path / "ws").connect() as con:
        con.execute("SELECT * FROM no_such_table")


def test_a_database_held_by_another_process_is_not_called_damaged(tmp_path: Path) -> None:
    db = _filled(tmp_path / "ws")
    holder = subprocess.Popen(
        [sys.executable, "-c",
         f"import duckdb, time; c = duckdb.connect({str(db)!r}); print('held', flush=True); "
         "time.sleep(30)"],
        cwd=ROOT, stdout=subprocess.PIPE, text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(duckdb.IOException, match="lock") as info, \
                Store(tmp_path / "ws").connect():
            pass
        assert not isinstance(info.value, WorkspaceDamaged)
    finally:
        holder.kill()
        holder.wait()


def test_the_cli_prints_one_line_and_exits_2(tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    db = _filled(ws)
    os.truncate(db, db.stat().st_size // 2)
    result = subprocess.run(
        [sys.executable, "run.py", "stages=[collect]", "corpus.n=4", "tracking.enabled=false",
         "progress=false", f"paths.workspace={ws}", f"hydra.run.dir={tmp_path / 'out'}"],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
        env={**os.environ, "LITELLM_LOCAL_MODEL_COST_MAP": "True"},
    )
    assert result.returncode == 2, result.stderr[-2000:]
    (line,) = [ln for ln in result.stderr.splitlines() if ln.startswith("error:")]
    assert "Traceback" not in result.stderr and f"workspace database {db}" in line
