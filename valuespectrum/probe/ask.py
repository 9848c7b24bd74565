"""Answer planned calls from the response cache or the model, writing each reply as it lands.

A re-run of the same job makes no model call; a killed run loses at most the few answers still
queued for the cache. Failed calls are never cached: they go to ``call_errors``.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence

from valuespectrum.models.base import SETUP_ERROR_KINDS, ChatModel
from valuespectrum.models.calls import CallRequest, CallResult, check_job_budget, run_calls
from valuespectrum.probe.plan import Call
from valuespectrum.store import ProbeStore

log = logging.getLogger(__name__)

FLUSH_EVERY = 32  # cache writes are batched; a kill loses at most this many answered calls
FLUSH_SECONDS = 1.0


class CallStats:
    def __init__(self) -> None:
        """Counts over all calls of a job, logged as the probe's call metrics."""
        self.made = self.cached = self.failed = self.retried = self.skipped_failed = 0
        self.failures: dict[str, str] = {}  # fingerprint -> why it has no answer
        self.seconds = 0.0

    def as_metrics(self) -> dict[str, float]:
        return {
            "usage/calls_made": self.made,
            "usage/calls_cached": self.cached,
            "usage/calls_failed": self.failed,
            "usage/calls_retried": self.retried,
            "usage/calls_skipped_failed": self.skipped_failed,
            "timing/call_seconds": self.seconds,
        }


async def ask(ctx, model: ChatModel, calls: Sequence[Call], stats: CallStats) -> dict[str, str]:
    """Answer ``calls`` from the cache or the model; return fingerprint -> reply text.

    A call that failed permanently in an earlier run (a non-retryable error about the item, not
    a setup error such as a wrong key, see ``SETUP_ERROR_KINDS``) is not asked again unless
    ``probe.retry_failed`` is set, and never after ``probe.max_failed_runs`` failed runs. The
    error budget judges the whole job: cached answers and settled failures count too, so a
    re-run of a finished job neither calls the model nor trips the budget.
    """
    p = ctx.cfg.probe
    unique = list({c.fingerprint: c for c in calls}.values())
    with ctx.store.connect() as con:
        replies = ProbeStore.cached(con, [c.fingerprint for c in unique])
        missing = [c.fingerprint for c in unique if c.fingerprint not in replies]
        settled = ProbeStore.settled_failures(con, missing, sorted(SETUP_ERROR_KINDS))
    # The same cause as the run that failed (call_errors.message is str(error)), so the
    # answers, and the results folder keyed by them, stay identical across re-runs.
    skipped = {
        fp: message[:300]
        for fp, (runs, _kind, message) in settled.items()
        if not p.retry_failed or runs >= p.max_failed_runs
    }
    todo = [c for c in unique if c.fingerprint not in replies and c.fingerprint not in skipped]
    stats.cached += len(replies)
    stats.skipped_failed += len(skipped)
    stats.failures.update(skipped)
    if skipped:
        hint = (f"probe.max_failed_runs={p.max_failed_runs} reached" if p.retry_failed
                else "probe.retry_failed=true asks them again")
        log.warning("%d call(s) failed in earlier runs and stay errors (%s)", len(skipped), hint)
    if not todo:
        check_job_budget(len(skipped), len(replies) + len(skipped), p.max_error_rate)
        return replies
    writer = CacheWriter(ctx, model.name, {c.fingerprint: c for c in todo})
    requests = [CallRequest(c.fingerprint, c.messages, c.params) for c in todo]
    t0 = time.perf_counter()
    try:
        results = await run_calls(
            model,
            requests,
            concurrency=p.concurrency,
            timeout_s=p.timeout_s,
            max_retries=p.max_retries,
            backoff_base_s=p.backoff_base_s,
            max_error_rate=p.max_error_rate,
            on_result=writer.add,
            progress=ctx.cfg.progress,
            cached=len(replies),
            prior_failed=len(skipped),
        )
    finally:
        writer.close()
        stats.seconds += time.perf_counter() - t0
    for r in results:
        stats.made += r.attempts
        stats.retried += int(r.retried)
        stats.failed += int(not r.ok)
        if r.ok:
            replies[r.key] = r.reply.text
        else:
            stats.failures[r.key] = str(r.error)[:300] if r.error else "call failed"
    return replies


class CacheWriter:
    """Writes finished calls to the cache from a background thread, in small batches.

    ``add`` runs in the event loop for every finished call, so it only queues the row; the
    thread takes the workspace lock and writes every ``FLUSH_SECONDS`` or ``FLUSH_EVERY`` rows,
    keeping the loop free to start calls. ``close`` writes the rest and re-raises any failure.
    """

    def __init__(self, ctx, model_name: str, calls: dict[str, Call]) -> None:
        import threading

        self.ctx, self.model_name, self.calls = ctx, model_name, calls
        self._ok: list[tuple] = []
        self._failed: list[tuple] = []
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._closing = False
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._loop, name="cache-writer", daemon=True)
        self._thread.start()

    def add(self, result: CallResult) -> None:
        call = self.calls[result.key]
        if result.reply is not None:
            r = result.reply
            row = (
                result.key,
                self.model_name,
                call.kind,
                call.image.sha256,
                call.prompt_version,
                call.request_json,
                r.text,
                r.latency_s,
                r.input_tokens,
                r.output_tokens,
                r.cost_usd,
                r.yes_logprob,
                r.no_logprob,
                r.model_version,
                result.attempts,
            )
            with self._lock:
                self._ok.append(row)
        else:
            e = result.error
            row = (
                result.key,
                self.model_name,
                call.kind,
                e.kind if e else "other",
                e.status if e else None,
                str(e)[:500],
                result.attempts,
                e.retryable if e else False,
            )
            with self._lock:
                self._failed.append(row)
        if self._error is not None:
            raise self._error
        if len(self._ok) + len(self._failed) >= FLUSH_EVERY:
            self._wake.set()

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
            ok, failed = self._ok, self._failed
            self._ok, self._failed = [], []
        if ok or failed:
            with self.ctx.store.connect() as con:
                ProbeStore.save_responses(con, ok)
                ProbeStore.save_errors(con, failed)
