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


def test_keyword_columns_of_the_table_and_of_scoring_agree() -> None:
    # Two definitions, as for SCORE_COLUMNS: a keyword column added to one is caught here.
    from valuespectrum.probe.scoring import KEYWORD_COLUMNS as scored
    from valuespectrum.store.schema import KEYWORD_COLUMNS as stored

    assert stored == scored


def test_scores_from_before_the_interval_columns_gain_them_and_keep_their_rows(tmp_path) -> None:
    """A workspace whose scores table has scoring_key but not ci_method and the other columns
    added with the two-stage intervals: they are added (NULL in old rows) and a new score set
    with them is stored next to the old one."""
    import pandas as pd

    from valuespectrum.store import SCORE_COLUMNS, ProbeStore
    from valuespectrum.store.schema import SCORES_ADDED, SCORES_DDL

    ws = tmp_path / "ws"
    ws.mkdir()
    with duckdb.connect(str(ws / DB_NAME)) as con:
        con.execute(SCORES_DDL.format(table="scores"))  # the shape before SCORES_ADDED
        con.execute("INSERT INTO scores (probe_run, scoring_key, model, value, score, n) "
                    "VALUES ('run1', 'k1', 'm', 'power', 40.0, 20)")
    row = dict.fromkeys(SCORE_COLUMNS, None) | {
        "model": "m", "value": "power", "score": 45.0, "n": 20, "ci_method": "two_stage",
        "noise_se": 11.1,
    }
    with Store(ws).connect() as con:
        ProbeStore.replace_scores(con, "run1", {"interval": "two_stage"}, pd.DataFrame([row]))
        got = con.execute(
            "SELECT scoring_key = 'k1', score, ci_method, noise_se FROM scores ORDER BY score"
        ).fetchall()
        names = [d[0] for d in con.execute("SELECT * FROM scores LIMIT 0").description]
    assert got == [(True, 40.0, None, None), (False, 45.0, "two_stage", 11.1)]
    assert names[-len(SCORES_ADDED):] == [name for name, _ in SCORES_ADDED]


# The answers table as workspaces made before the keying axis have it.
OLD_ANSWERS = """CREATE TABLE answers (
    probe_run VARCHAR NOT NULL, value VARCHAR NOT NULL, keyword VARCHAR NOT NULL,
    rank INTEGER NOT NULL, sample INTEGER NOT NULL, screenshot_id BIGINT NOT NULL,
    fingerprint VARCHAR NOT NULL, outcome VARCHAR NOT NULL, parse_reason VARCHAR NOT NULL,
    why_fingerprint VARCHAR,
    PRIMARY KEY (probe_run, value, keyword, rank, sample)
)"""


def test_old_answers_are_kept_as_forward_keyed_and_reverse_ones_fit_beside_them(tmp_path) -> None:
    ws = tmp_path / "ws"
    ws.mkdir()
    with duckdb.connect(str(ws / DB_NAME)) as con:
        con.execute(OLD_ANSWERS)
        con.execute("INSERT INTO answers VALUES ('run1', 'power', 'kw', 1, 0, 7, 'fp', 'yes', "
                    "'yes', NULL)")
    with Store(ws).connect() as con:
        got = con.execute("SELECT probe_run, outcome, decided_by, answer_order, keying "
                          "FROM answers").fetchall()  # fmt: skip
        assert got == [("run1", "yes", None, None, "forward")]
        con.execute("INSERT INTO answers (probe_run, value, keyword, rank, sample, screenshot_id,"
                    " fingerprint, outcome, parse_reason, answer_order, keying) VALUES ('run1',"
                    " 'power', 'kw', 1, 0, 7, 'fp2', 'no', 'no', 'yes_first', 'reverse')")
        pk = con.execute(
            "SELECT constraint_text FROM duckdb_constraints() "
            "WHERE table_name = 'answers' AND constraint_type = 'PRIMARY KEY'"
        ).fetchone()[0]
    assert "keying" in pk
    with Store(ws).connect() as con:  # nothing left to migrate
        assert con.execute("SELECT count(*) FROM answers").fetchone() == (2,)
