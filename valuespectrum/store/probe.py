"""SQL of the probe: the response cache, call errors, answers, probe runs and scores."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from valuespectrum.store.rows import _plain, content_id, insert_rows, now_utc
from valuespectrum.store.schema import KEYWORD_COLUMNS, SCORE_COLUMNS


class ProbeStore:
    """SQL of the probe: the response cache, answers and scores (see DDL)."""

    @staticmethod
    def cached(con: Any, fingerprints: Sequence[str]) -> dict[str, tuple[str, int]]:
        """fingerprint -> reply text for the calls already answered."""
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
        """Rows end with ``retryable``, the column added after ``created_at``."""
        if rows:
            ts = now_utc()
            insert_rows(con, "call_errors", [(*r[:-1], ts, r[-1]) for r in rows], keyed=False)

    @staticmethod
    def settled_failures(
        con: Any, fingerprints: Sequence[str], setup_kinds: Sequence[str]
    ) -> dict[str, tuple[int, str, str]]:
        """fingerprint -> (runs it failed in, last error kind, last message) for calls that
        failed permanently: a non-retryable error about the item (any kind but ``setup_kinds``).
        """
        if not fingerprints:
            return {}
        res = con.execute(
            """SELECT fingerprint, count(*), arg_max(error_kind, created_at),
                      arg_max(message, created_at)
               FROM call_errors
               WHERE list_contains(?, fingerprint) AND retryable = false
                 AND NOT list_contains(?, error_kind)
               GROUP BY fingerprint""",
            [list(fingerprints), list(setup_kinds)],
        ).fetchall()
        return {r[0]: (int(r[1]), r[2], r[3] or "") for r in res}

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
    def replace_scores(con: Any, probe_run: str, scoring: dict[str, Any], scores: Any) -> str:
        """Rewrite the score set of ``probe_run`` under these scoring settings (other settings'
        sets stay); return its ``scoring_key``."""
        key = content_id(scoring)
        con.execute("DELETE FROM scores WHERE probe_run = ? AND scoring_key = ?", [probe_run, key])
        settings = json.dumps(scoring, sort_keys=True)
        rows = [
            (probe_run, key, settings, *[_plain(getattr(r, c)) for c in SCORE_COLUMNS])
            for r in scores.itertuples()
        ]
        if rows:
            insert_rows(con, "scores", rows)
        return key

    @staticmethod
    def replace_keyword_scores(con: Any, probe_run: str, scoring_key: str, keywords: Any) -> None:
        """Rewrite the keyword rows of one score set (``KEYWORD_COLUMNS``)."""
        con.execute(
            "DELETE FROM keyword_scores WHERE probe_run = ? AND scoring_key = ?",
            [probe_run, scoring_key],
        )
        rows = [
            (probe_run, scoring_key, *[_plain(getattr(r, c)) for c in KEYWORD_COLUMNS])
            for r in keywords.itertuples()
        ]
        if rows:
            insert_rows(con, "keyword_scores", rows)

    @staticmethod
    def logprobs(con: Any, fingerprints: Sequence[str]) -> dict[str, tuple[Any, Any]]:
        """fingerprint -> (yes_logprob, no_logprob) of the cached responses that have one."""
        if not fingerprints:
            return {}
        res = con.execute(
            "SELECT fingerprint, yes_logprob, no_logprob FROM responses "
            "WHERE list_contains(?, fingerprint) "
            "AND (yes_logprob IS NOT NULL OR no_logprob IS NOT NULL)",
            [list(fingerprints)],
        ).fetchall()
        return {r[0]: (r[1], r[2]) for r in res}

    @staticmethod
    def cost(con: Any, fingerprints: Sequence[str]) -> float | None:
        """What the given cached responses cost (USD); None when any of their costs is unknown
        (a NULL ``cost_usd`` is an unknown price, never a price of 0)."""
        if not fingerprints:
            return 0.0
        total, unknown = con.execute(
            "SELECT coalesce(sum(cost_usd), 0), count(*) FILTER (cost_usd IS NULL) "
            "FROM responses WHERE list_contains(?, fingerprint)",
            [list(fingerprints)],
        ).fetchone()
        return None if unknown else float(total)

    @staticmethod
    def kind_usage(con: Any, model: str, kind: str) -> tuple[float | None, float | None]:
        """Mean output tokens and mean latency of every cached reply of ``model`` and ``kind``
        (None when there is none): what a plan expects of the next such calls."""
        row = con.execute(
            "SELECT avg(output_tokens), avg(latency_s) FROM responses WHERE model = ? AND kind = ?",
            [model, kind],
        ).fetchone()
        return (None if row[0] is None else float(row[0]),
                None if row[1] is None else float(row[1]))
