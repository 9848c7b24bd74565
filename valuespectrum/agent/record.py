"""Impressions and session ends written from a background thread, in batches.

A step only queues its row; the thread writes about once a second (and at the end) under the
workspace lock, so no step opens the database and a killed job loses at most the last second
of impressions, which the next run asks again (from the response cache where the reply landed).
"""

from __future__ import annotations

import json

from valuespectrum.agent.loop import Impression
from valuespectrum.store import InduceStore
from valuespectrum.store.batches import BatchWriter

FLUSH_SECONDS = 1.0


def impression_row(session_id: str, imp: Impression) -> tuple:
    return (
        session_id, imp.position, imp.item_id, imp.outcome, imp.stayed, imp.score_pct,
        json.dumps(imp.fields, sort_keys=True, default=str), imp.parse_reason, imp.dwell_ms,
        imp.rec_score, imp.explored, imp.reason, list(imp.values), imp.fingerprint,
    )


def impression_from_row(row: tuple) -> Impression:
    """A stored row (store.induce.IMPRESSION_COLUMNS order) back as an :class:`Impression`."""
    (_sid, position, item_id, outcome, stayed, score_pct, fields, parse_reason, dwell_ms,
     rec_score, explored, reason, values, fingerprint) = row
    return Impression(
        int(position), int(item_id), outcome, bool(stayed), score_pct, json.loads(fields),
        parse_reason, int(dwell_ms), rec_score, bool(explored), reason or "",
        tuple(values or ()), fingerprint,
    )


class SessionWriter(BatchWriter):
    """Queues impressions and session ends; ``close`` writes the rest and re-raises failures."""

    def __init__(self, store) -> None:
        self.store = store
        self._rows: list[tuple] = []
        self._ends: list[tuple] = []
        super().__init__("session-writer", FLUSH_SECONDS)

    def add(self, session_id: str, imp: Impression) -> None:
        self.check()
        row = impression_row(session_id, imp)
        with self._lock:
            self._rows.append(row)

    def end(self, session_id: str, status: str, failed: int, error: str | None) -> None:
        with self._lock:
            self._ends.append((session_id, status, failed, error))

    def _write(self) -> None:
        with self._lock:
            rows, ends = self._rows, self._ends
            self._rows, self._ends = [], []
        if not (rows or ends):
            return
        with self.store.connect() as con:
            if rows:
                InduceStore.save_impressions(con, rows)
            for end in ends:
                InduceStore.close_session(con, *end)
