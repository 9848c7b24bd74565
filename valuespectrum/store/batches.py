"""Rows queued by a hot loop and written by a background thread, in batches.

The probe's response cache and the role-play's impressions are written this way: the caller's
loop only appends a row under a lock, and one thread opens the database about once a second
(or sooner, when ``wake`` is called), so no step waits for DuckDB and a killed job loses at most
the last second of rows. ``close`` writes the rest and re-raises a failure of the thread in the
caller's thread, as does the next ``check``.
"""

from __future__ import annotations

import threading

FLUSH_SECONDS = 1.0


class BatchWriter:
    """Subclasses queue rows under ``self._lock`` and write them in ``_write``."""

    def __init__(self, name: str, flush_seconds: float = FLUSH_SECONDS) -> None:
        self.flush_seconds = flush_seconds
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._closing = False
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._loop, name=name, daemon=True)
        self._thread.start()

    def check(self) -> None:
        """Re-raise the writer thread's failure, if any, in the caller's thread."""
        if self._error is not None:
            raise self._error

    def wake(self) -> None:
        """Write now rather than at the next tick (a batch is full)."""
        self._wake.set()

    def close(self) -> None:
        self._closing = True
        self._wake.set()
        self._thread.join()
        self.check()

    def _loop(self) -> None:
        while True:
            self._wake.wait(self.flush_seconds)
            self._wake.clear()
            closing = self._closing
            try:
                self._write()
            except BaseException as exc:  # surfaced by check() / close() in the caller's thread
                self._error = exc
                return
            if closing:
                return

    def _write(self) -> None:
        raise NotImplementedError
