"""SQL of the induce stage: sessions, their impressions, and the cached replies they reuse."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from valuespectrum.store.rows import insert_rows, now_utc

SESSION_COLUMNS: tuple[str, ...] = (
    "session_id", "condition", "persona_id", "favours", "session_index", "model", "strategy",
    "strategy_version", "threshold", "recommender", "recommender_settings", "platform", "driver",
    "seed", "catalog", "stay_ms", "skip_ms", "videos", "status", "failed_steps", "error",
    "settings",
)
IMPRESSION_COLUMNS: tuple[str, ...] = (
    "session_id", "position", "item_id", "outcome", "stayed", "score_pct", "fields",
    "parse_reason", "dwell_ms", "rec_score", "explored", "reason", "item_values", "fingerprint",
)


class InduceStore:
    """Statements of the induce stage (see the ``sessions`` and ``impressions`` DDL)."""

    @staticmethod
    def open_sessions(con: Any, rows: Sequence[dict[str, Any]]) -> None:
        """Insert new sessions; a known one keeps its counts and gets this run's length and
        ``running`` status."""
        ts = now_utc()
        insert_rows(
            con, "sessions", [(*[r[c] for c in SESSION_COLUMNS], ts, ts) for r in rows]
        )
        for r in rows:
            con.execute(
                "UPDATE sessions SET videos = ?, status = 'running', updated_at = ? "
                "WHERE session_id = ?",
                [r["videos"], ts, r["session_id"]],
            )

    @staticmethod
    def close_session(
        con: Any, session_id: str, status: str, failed_steps: int, error: str | None
    ) -> None:
        con.execute(
            "UPDATE sessions SET status = ?, failed_steps = failed_steps + ?, "
            "error = coalesce(?, error), updated_at = ? WHERE session_id = ?",
            [status, failed_steps, error, now_utc(), session_id],
        )

    @staticmethod
    def save_impressions(con: Any, rows: Sequence[Sequence[Any]]) -> None:
        """Rows in :data:`IMPRESSION_COLUMNS` order; a stored position is never rewritten."""
        ts = now_utc()
        insert_rows(con, "impressions", [(*r, ts) for r in rows])

    @staticmethod
    def impressions(con: Any, session_ids: Sequence[str]) -> dict[str, list[tuple]]:
        """session id -> its stored impressions (IMPRESSION_COLUMNS order), by position."""
        if not session_ids:
            return {}
        cols = ", ".join(IMPRESSION_COLUMNS)
        res = con.execute(
            f"SELECT {cols} FROM impressions WHERE list_contains(?, session_id) "
            "ORDER BY session_id, position",
            [list(session_ids)],
        ).fetchall()
        out: dict[str, list[tuple]] = {}
        for row in res:
            out.setdefault(row[0], []).append(row)
        return out

    @staticmethod
    def sessions(con: Any, session_ids: Sequence[str]) -> list[dict[str, Any]]:
        cols = ", ".join(SESSION_COLUMNS)
        res = con.execute(
            f"SELECT {cols} FROM sessions WHERE list_contains(?, session_id) ORDER BY session_id",
            [list(session_ids)],
        ).fetchall()
        return [dict(zip(SESSION_COLUMNS, r, strict=True)) for r in res]

    @staticmethod
    def cached_replies(con: Any, model: str, kind: str, prompt_version: str) -> dict[str, str]:
        """fingerprint -> reply of every cached call of this model, kind and prompt version:
        read once per job, so no step opens the database."""
        res = con.execute(
            "SELECT fingerprint, text FROM responses WHERE model = ? AND kind = ? "
            "AND prompt_version = ?",
            [model, kind, prompt_version],
        ).fetchall()
        return {r[0]: r[1] for r in res}


def fields_json(fields: dict[str, Any]) -> str:
    return json.dumps(fields, sort_keys=True, default=str)
