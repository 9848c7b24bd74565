"""Answer planned calls from the response cache or the model, writing each reply as it lands.

A re-run of the same job makes no model call; a killed run loses at most the few answers still
queued for the cache. Failed calls are never cached: they go to ``call_errors``.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Iterable, Sequence

from valuespectrum.models.base import SETUP_ERROR_KINDS, ChatModel
from valuespectrum.models.calls import (
    ANSWERED,
    FAILED_BEFORE,
    CallRequest,
    CallResult,
    Settled,
    run_calls,
)
from valuespectrum.probe.costplan import Budget
from valuespectrum.probe.plan import Call
from valuespectrum.store import ProbeStore
from valuespectrum.store.batches import BatchWriter

log = logging.getLogger(__name__)

# Cache writes are batched: a kill loses at most FLUSH_SECONDS (or FLUSH_EVERY calls) of answers.
# A flush costs ~70 ms of CPU (open, insert, checkpoint), so it is mostly the timer that fires:
# flushing every 32 calls cost 2.3 ms of CPU per call at 300 calls/s.
FLUSH_EVERY = 256
FLUSH_SECONDS = 1.0


class CallStats:
    def __init__(self) -> None:
        """Counts over all calls of a job, logged as the probe's call metrics."""
        self.made = self.cached = self.failed = self.retried = self.skipped_failed = 0
        self.failures: dict[str, str] = {}  # fingerprint -> why it has no answer
        self.seconds = 0.0
        # What this run's own calls cost, and which answers came from the cache (their cost
        # was paid by the run that made them). A reply without a known cost is counted apart.
        self.spent_usd = 0.0
        self.spent_unknown = 0
        self.cached_fingerprints: list[str] = []

    def as_metrics(self) -> dict[str, float]:
        return {
            "usage/calls_made": self.made,
            "usage/calls_cached": self.cached,
            "usage/calls_failed": self.failed,
            "usage/calls_retried": self.retried,
            "usage/calls_skipped_failed": self.skipped_failed,
            "timing/call_seconds": self.seconds,
        }


async def ask(
    ctx, model: ChatModel, calls: Iterable[Call], stats: CallStats, label: str,
    total: int | None = None, budget: Budget | None = None,
) -> dict[str, str]:
    """Answer ``calls`` from the cache or the model; return fingerprint -> reply text.

    ``calls`` may be a generator still encoding images: it is drawn in a worker thread and
    taken in batches of whatever is ready, each looked up in the cache as it comes, so the first
    calls are in flight while later images are encoded (a list is one batch). ``label`` names
    the progress bar; ``total`` counts the calls of a generator.

    A call that failed permanently in an earlier run (a non-retryable error about the item, not
    a setup error such as a wrong key, see ``SETUP_ERROR_KINDS``) is not asked again unless
    ``probe.retry_failed`` is set, and never after ``probe.max_failed_runs`` failed runs. The
    error budget judges the whole job: cached answers and such failures count too, so a
    re-run of a finished job neither calls the model nor trips the budget. ``budget`` (the
    job's ``probe.max_cost_usd``) stops the run once the spent cost passes it; what was answered
    by then is cached.
    """
    p = ctx.cfg.probe
    replies: dict[str, str] = {}
    writer = CacheWriter(ctx, model.name, {})
    sized = isinstance(calls, Sequence)
    seen: set[str] = set()

    def look_up(fingerprints: list[str]) -> tuple[dict[str, str], dict[str, str]]:
        """(cached replies, causes of permanent earlier failures to skip) of a batch."""
        with ctx.store.connect() as con:
            found = ProbeStore.cached(con, fingerprints)
            missing = [fp for fp in fingerprints if fp not in found]
            settled = ProbeStore.settled_failures(con, missing, sorted(SETUP_ERROR_KINDS))
        # The cause the failing run recorded (call_errors.message is str(error)), so answers,
        # and the results folder keyed by them, stay identical across re-runs.
        skip = {
            fp: message[:300]
            for fp, (runs, _kind, message) in settled.items()
            if not p.retry_failed or runs >= p.max_failed_runs
        }
        return found, skip

    async def requests() -> AsyncIterator[CallRequest | Settled]:
        async for batch in _ready_batches(calls):
            new = list(dict.fromkeys(c.fingerprint for c in batch if c.fingerprint not in seen))
            found, skip = await asyncio.to_thread(look_up, new)
            replies.update(found)
            stats.cached += len(found)
            stats.cached_fingerprints.extend(found)
            stats.skipped_failed += len(skip)
            stats.failures.update(skip)
            for c in batch:
                if c.fingerprint in seen:  # the same call twice in one job: asked once
                    continue
                seen.add(c.fingerprint)
                if c.fingerprint in found:
                    yield ANSWERED
                elif c.fingerprint in skip:
                    yield FAILED_BEFORE
                else:
                    writer.calls[c.fingerprint] = c
                    yield CallRequest(c.fingerprint, c.messages, c.params)

    t0 = time.perf_counter()
    try:
        results = await run_calls(
            model,
            requests(),
            concurrency=p.concurrency,
            timeout_s=p.timeout_s,
            max_retries=p.max_retries,
            backoff_base_s=p.backoff_base_s,
            max_error_rate=p.max_error_rate,
            on_result=writer.add if budget is None else _spending(writer, budget),
            progress=ctx.cfg.progress,
            label=label,
            total=len({c.fingerprint for c in calls}) if sized else total,
        )
    finally:
        writer.close()
        stats.seconds += time.perf_counter() - t0
    if stats.skipped_failed:
        hint = (f"probe.max_failed_runs={p.max_failed_runs} reached" if p.retry_failed
                else "probe.retry_failed=true asks them again")
        log.warning("%d call(s) failed permanently in earlier runs and stay errors (%s)",
                    stats.skipped_failed, hint)
    for r in results:
        stats.made += r.attempts
        stats.retried += int(r.retried)
        stats.failed += int(not r.ok)
        if r.ok:
            replies[r.key] = r.reply.text
            if r.reply.cost_usd is None:
                stats.spent_unknown += 1
            else:
                stats.spent_usd += r.reply.cost_usd
        else:
            stats.failures[r.key] = str(r.error)[:300] if r.error else "call failed"
    return replies


def _spending(writer: CacheWriter, budget: Budget):
    """Cache each finished call, then add its cost to the job's budget (which may stop it)."""

    def on_result(result: CallResult) -> None:
        writer.add(result)
        if result.reply is not None:
            r = result.reply
            budget.spend(r.cost_usd, r.input_tokens, r.output_tokens)

    return on_result


async def _ready_batches(calls: Iterable[Call]) -> AsyncIterator[list[Call]]:
    """``calls`` in batches of whatever is ready: a list at once; a generator, which may block
    (encoding images), is drawn in a worker thread and each batch is what it yielded meanwhile.
    """
    if isinstance(calls, Sequence):
        yield list(calls)
        return
    loop = asyncio.get_running_loop()
    ready: asyncio.Queue[Call | BaseException | None] = asyncio.Queue()

    def draw() -> None:
        end: BaseException | None = None
        try:
            for call in calls:
                loop.call_soon_threadsafe(ready.put_nowait, call)
        except Exception as exc:  # e.g. an image that cannot be read: raised by the consumer
            end = exc
        loop.call_soon_threadsafe(ready.put_nowait, end)

    drawing = loop.run_in_executor(None, draw)
    batch: list[Call] = []
    while True:
        item = ready.get_nowait() if batch else await ready.get()
        if isinstance(item, BaseException):
            raise item
        if item is not None:
            batch.append(item)
        if batch and (item is None or ready.empty()):
            yield batch
            batch = []
        if item is None:
            break
    await drawing


class CacheWriter(BatchWriter):
    """Writes finished calls to the cache from a background thread, in small batches.

    ``add`` runs in the event loop for every finished call, so it only queues the row; the
    thread takes the workspace lock and writes every ``FLUSH_SECONDS`` or ``FLUSH_EVERY`` rows,
    keeping the loop free to start calls. ``close`` writes the rest and re-raises any failure.
    """

    def __init__(self, ctx, model_name: str, calls: dict[str, Call]) -> None:
        self.ctx, self.model_name, self.calls = ctx, model_name, calls
        self._ok: list[tuple] = []
        self._failed: list[tuple] = []
        super().__init__("cache-writer", FLUSH_SECONDS)

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
        self.check()
        if len(self._ok) + len(self._failed) >= FLUSH_EVERY:
            self.wake()

    def _write(self) -> None:
        with self._lock:
            ok, failed = self._ok, self._failed
            self._ok, self._failed = [], []
        if ok or failed:
            with self.ctx.store.connect() as con:
                ProbeStore.save_responses(con, ok)
                ProbeStore.save_errors(con, failed)
