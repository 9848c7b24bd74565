"""Schema migration: a workspace made before scores were keyed by their scoring settings keeps
its score rows (as scoring_key 'legacy') and then holds one score set per scoring setting."""

from __future__ import annotations

from pathlib import Path

import duckdb

from valuespectrum.store import DB_NAME, Store

# The scores table as workspaces made before scoring_key have it.
OLD_SCORES = """CREATE TABLE scores (
    probe_run VARCHAR NOT NULL, model VARCHAR NOT NULL, value VARCHAR NOT NULL,
    higher_order VARCHAR,
    score DOUBLE, ci_low DOUBLE, ci_high DOUBLE, score_answered DOUBLE,
    centred DOUBLE, centred_ci_low DOUBLE, centred_ci_high DOUBLE,
    n INTEGER, n_images INTEGER, n_yes INTEGER, n_no INTEGER, n_refusal INTEGER,
    n_invalid INTEGER, n_error INTEGER,
    refusal_rate DOUBLE, invalid_rate DOUBLE, error_rate DOUBLE,
    PRIMARY KEY (probe_run, value)
)"""


def _old_workspace(ws: Path) -> None:
    ws.mkdir()
    with duckdb.connect(str(ws / DB_NAME)) as con:
        con.execute(OLD_SCORES)
        con.execute(
            "INSERT INTO scores (probe_run, model, value, score, n) VALUES "
            "('run1', 'm', 'power', 40.0, 20), ('run1', 'm', 'hedonism', 75.0, 20)"
        )


def _rows(ws: Path) -> list[tuple]:
    with duckdb.connect(str(ws / DB_NAME), read_only=True) as con:
        return con.execute(
            "SELECT probe_run, scoring_key, value, score, n FROM scores ORDER BY 2, 3"
        ).fetchall()


def test_old_scores_are_kept_as_legacy_and_new_settings_add_their_own_rows(tmp_path) -> None:
    ws = tmp_path / "ws"
    _old_workspace(ws)
    store = Store(ws)
    with store.connect() as con:
        con.execute("SELECT 1")
    assert _rows(ws) == [
        ("run1", "legacy", "hedonism", 75.0, 20), ("run1", "legacy", "power", 40.0, 20),
    ]
    with Store(ws).connect() as con:  # a second Store finds the new shape: nothing to migrate
        con.execute(
            "INSERT INTO scores (probe_run, scoring_key, model, value, score, n) "
            "VALUES ('run1', 'k2', 'm', 'power', 41.0, 20)"
        )
        pk = con.execute(
            "SELECT constraint_text FROM duckdb_constraints() "
            "WHERE table_name = 'scores' AND constraint_type = 'PRIMARY KEY'"
        ).fetchone()[0]
    assert "scoring_key" in pk
    assert len(_rows(ws)) == 3


def test_score_columns_of_the_table_and_of_scoring_agree() -> None:
    # Two definitions (the store must not import pandas-heavy scoring): kept equal here.
    from valuespectrum.probe.scoring import SCORE_COLUMNS as scored
    from valuespectrum.store.schema import SCORE_COLUMNS as stored

    assert stored == scored
