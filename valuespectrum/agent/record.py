"""Impressions and session ends written from a background thread, in batches.

A step only queues its row; the thread writes about once a second (and at the end) under the
workspace lock, so no step opens the database and a killed job loses at most the last second
of impressions, which the next run asks again (from the response cache where the reply landed).
"""

from __future__ import annotations

import json
import threading

from valuespectrum.agent.loop import Impression
from valuespectrum.store import InduceStore

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


class SessionWriter:
    """Queues impressions and session ends; ``close`` writes the rest and re-raises failures."""

    def __init__(self, store) -> None:
        self.store = store
        self._rows: list[tuple] = []
        self._ends: list[tuple] = []
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._closing = False
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._loop, name="session-writer", daemon=True)
        self._thread.start()

    def add(self, session_id: str, imp: Impression) -> None:
        if self._error is not None:
            raise self._error
        row = impression_row(session_id, imp)
        with self._lock:
            self._rows.append(row)

    def end(self, session_id: str, status: str, failed: int, error: str | None) -> None:
        with self._lock:
            self._ends.append((session_id, status, failed, error))

    def close(self) -> None:
        self._closing = True
        self._wake.set()
        self._thread.join()
        if self._error is not None:
            raise self._error

    def _loop(self) -> None:
        while True:
            self._wake.wait(FLUSH_SECONDS)
            self._wake.clear()
            closing = self._closing
            try:
                self._write()
            except BaseException as exc:  # surfaced by add() / close() in the caller's thread
                self._error = exc
                return
            if closing:
                return

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
