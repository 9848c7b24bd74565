"""Run many chat calls concurrently, with retries, and hand each result over as it lands.

A probe is thousands of independent calls against a rate-limited, occasionally failing API.
``run_calls`` bounds how many are in flight, times each attempt out, retries what can succeed on
another try (exponential backoff with full jitter, never sooner than the server's Retry-After),
fails the rest at once, and calls ``on_result`` the moment each call is final, so the caller can
write it to its cache and a killed run resumes where it stopped. A run whose calls mostly fail
(wrong key, server down) is stopped early by ``max_error_rate`` instead of burning the budget.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import gc
import logging
import os
import random
import threading
from collections import Counter
from collections.abc import AsyncIterable, Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from valuespectrum.models.base import ChatModel, GenerationParams, Message, ModelCallError, Reply

logger = logging.getLogger(__name__)
_jitter = random.Random()  # backoff jitter only; never part of a result


@dataclass(frozen=True)
class CallRequest:
    """One call to make; ``key`` is the caller's id for it (e.g. the cache fingerprint)."""

    key: str
    messages: tuple[Message, ...]
    params: GenerationParams


@dataclass(frozen=True)
class Settled:
    """A call the caller settled without asking: answered from its cache, or failed before."""

    ok: bool


ANSWERED, FAILED_BEFORE = Settled(True), Settled(False)


@dataclass(frozen=True)
class CallResult:
    """The final state of one call: a reply, or the error of its last attempt."""

    key: str
    reply: Reply | None
    error: ModelCallError | None
    attempts: int
    retried: bool

    @property
    def ok(self) -> bool:
        return self.reply is not None


class ErrorRateExceeded(RuntimeError):
    """Too many calls failed; the run was stopped. ``results`` holds those that finished."""

    def __init__(self, message: str, results: list[CallResult]) -> None:
        super().__init__(message)
        self.results = results


class _Tally:
    """Counts for the progress bar and the error-rate guard."""

    def __init__(self, total: int | None, cached: int, progress: bool, label: str,
                 prior_failed: int = 0) -> None:
        self.done = self.failed = self.retried = 0
        self.prior_failed = prior_failed
        self.kinds: Counter[str] = Counter()
        self.last_error = ""
        self.cached = cached
        self.bar = None
        if progress:
            from tqdm import tqdm

            self.bar = tqdm(total=None if total is None else total + cached + prior_failed,
                            initial=cached + prior_failed, desc=label, unit="call",
                            dynamic_ncols=True, leave=True)
            self._postfix()

    def _postfix(self) -> None:
        if self.bar is not None:
            self.bar.set_postfix(done=self.done, retried=self.retried, failed=self.failed,
                                 cached=self.cached, refresh=False)

    def first_retry(self) -> None:
        self.retried += 1
        self._postfix()

    def skipped(self, ok: bool) -> None:
        if ok:
            self.cached += 1
        else:
            self.prior_failed += 1
        self._postfix()
        if self.bar is not None:
            self.bar.update(1)

    def finished(self, result: CallResult) -> None:
        self.done += 1
        if result.error is not None:
            self.failed += 1
            self.kinds[result.error.kind] += 1
            self.last_error = str(result.error).splitlines()[0][:300]
        self._postfix()
        if self.bar is not None:
            self.bar.update(1)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def backoff_s(attempt: int, base_s: float, max_s: float, retry_after: float | None) -> float:
    """Full-jitter exponential backoff before attempt ``attempt + 1``, never under Retry-After.

    Retry-After is capped at ``max_s``: a server asking for an hour gets another try (and
    another Retry-After) after ``max_s``, rather than silently stalling the whole run.
    """
    wait = _jitter.uniform(0.0, min(max_s, base_s * 2 ** (attempt - 1)))
    if retry_after is not None:
        wait = max(wait, min(retry_after, max_s))
    return wait


async def _attempt(model: ChatModel, request: CallRequest, timeout_s: float) -> Reply:
    try:
        async with asyncio.timeout(timeout_s):  # unlike wait_for, no extra task per attempt
            return await model.achat(request.messages, request.params)
    except TimeoutError:
        raise ModelCallError("timeout", f"no answer within {timeout_s:g} s",
                             retryable=True) from None
    except ModelCallError:
        raise
    except Exception as exc:  # a backend bug must not look like a model answer, nor kill the run
        logger.warning("unexpected %s from %s", type(exc).__name__, model.name, exc_info=True)
        raise ModelCallError("other", f"{type(exc).__name__}: {exc}", retryable=False) from exc


async def _call(
    model: ChatModel,
    request: CallRequest,
    gate: asyncio.Semaphore,
    tally: _Tally,
    *,
    timeout_s: float,
    max_retries: int,
    backoff_base_s: float,
    backoff_max_s: float,
) -> CallResult:
    """One call with retries; the slot is held per attempt, not during backoff."""
    attempt = 0
    while True:
        attempt += 1
        try:
            async with gate:
                reply = await _attempt(model, request, timeout_s)
            return CallResult(request.key, reply, None, attempt, attempt > 1)
        except ModelCallError as err:
            if not err.retryable or attempt > max_retries:
                return CallResult(request.key, None, err, attempt, attempt > 1)
            if attempt == 1:
                tally.first_retry()
            wait = backoff_s(attempt, backoff_base_s, backoff_max_s, err.retry_after)
            logger.debug("%s: %s; retry %d in %.2f s", request.key, err, attempt, wait)
            await asyncio.sleep(wait)


_frozen: dict[str, Any] = {"runs": 0, "ours": False, "lock": threading.Lock()}


@contextlib.contextmanager
def older_objects_frozen() -> Iterator[None]:
    """The garbage collector leaves alone the objects that existed before (``gc.freeze``): a
    full collection of a job's heap (about 0.3 s for the 560k objects of the demo's probe)
    would stall every call in flight. Newer garbage is still collected; the older objects go
    back to the collector when the last such block (of any thread) ends. Frozen by someone
    else already (a freeze before a fork), they are left as they were."""
    with _frozen["lock"]:
        _frozen["runs"] += 1
        if _frozen["runs"] == 1:
            _frozen["ours"] = not gc.get_freeze_count()
            if _frozen["ours"]:
                gc.freeze()
    try:
        yield
    finally:
        with _frozen["lock"]:
            _frozen["runs"] -= 1
            if not _frozen["runs"] and _frozen["ours"]:
                _frozen["ours"] = False
                gc.unfreeze()


def _thaw_in_child() -> None:
    """A child forked while calls ran here: they do not run on in the child."""
    _frozen["lock"] = threading.Lock()
    if _frozen["runs"] and _frozen["ours"]:
        gc.unfreeze()
    _frozen.update(runs=0, ours=False)


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_thaw_in_child)


def _older_objects_frozen_meanwhile(run):
    @functools.wraps(run)
    async def frozen_meanwhile(*args, **kwargs):
        with older_objects_frozen():
            return await run(*args, **kwargs)

    return frozen_meanwhile


@_older_objects_frozen_meanwhile
async def run_calls(
    model: ChatModel,
    requests: Sequence[CallRequest] | AsyncIterable[CallRequest | Settled],
    *,
    concurrency: int = 16,
    timeout_s: float = 60,
    max_retries: int = 4,
    backoff_base_s: float = 0.5,
    backoff_max_s: float = 30,
    max_error_rate: float | None = None,
    min_calls_for_error_rate: int = 20,
    on_result: Callable[[CallResult], None] | None = None,
    progress: bool = True,
    cached: int = 0,
    prior_failed: int = 0,
    label: str = "calls",
    total: int | None = None,
) -> list[CallResult]:
    """Make every call in ``requests``; return their results in request order.

    At most ``concurrency`` attempts are in flight. Each attempt gets ``timeout_s``; retryable
    errors get up to ``max_retries`` more attempts. ``on_result`` runs in the event loop as each
    call becomes final (an exception from it stops the run and propagates). With
    ``max_error_rate`` set, once at least ``min_calls_for_error_rate`` calls have finished and
    more than that fraction failed, the calls still running are cancelled and
    ``ErrorRateExceeded`` is raised. The rate is over the caller's whole job: ``cached`` calls
    the caller already has answers for count as successes, ``prior_failed`` calls it skips
    because they failed before count as failures; ``label`` names the bar ("decision calls").

    ``requests`` may also be an async iterable, drawn while the first calls are in flight, so
    the caller can still be preparing later ones (encoding images); an item ``ANSWERED`` or
    ``FAILED_BEFORE`` stands for a call the caller settled itself (from its cache, or as an
    earlier permanent failure), which counts in the budget and advances the bar. ``total``
    then sizes the bar; an exception from the iterable stops the run and propagates. A job
    with nothing left to call is still judged, so a re-run never passes a budget its earlier
    failures exceed. While it runs, the objects older than the run are left out of garbage
    collection (``older_objects_frozen``).
    """
    if concurrency < 1:
        raise ValueError(f"concurrency must be >= 1, got {concurrency}")
    gate = asyncio.Semaphore(concurrency)
    size = len(requests) if isinstance(requests, Sequence) else total
    tally = _Tally(size, cached, progress, label, prior_failed)
    results: list[CallResult | None] = []
    tasks: list[asyncio.Task[None]] = []
    stop: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    async def one(i: int, request: CallRequest) -> None:
        result = await _call(model, request, gate, tally, timeout_s=timeout_s,
                             max_retries=max_retries, backoff_base_s=backoff_base_s,
                             backoff_max_s=backoff_max_s)
        results[i] = result
        tally.finished(result)
        try:
            if on_result is not None:
                on_result(result)
        except BaseException as exc:
            if not stop.done():
                stop.set_exception(exc)
            raise
        if _too_many_errors(tally, max_error_rate, min_calls_for_error_rate) and not stop.done():
            stop.set_exception(ErrorRateExceeded(_error_rate_message(tally, max_error_rate),
                                                 [r for r in results if r is not None]))

    def start(request: CallRequest | Settled) -> None:
        if isinstance(request, Settled):
            tally.skipped(request.ok)
            return
        results.append(None)
        tasks.append(asyncio.create_task(one(len(results) - 1, request)))

    async def feed() -> None:
        if isinstance(requests, Sequence):
            for request in requests:
                start(request)
        else:
            async for request in requests:
                start(request)
        await asyncio.gather(*tasks)

    everything = asyncio.create_task(feed())
    try:
        await asyncio.wait({everything, stop}, return_when=asyncio.FIRST_COMPLETED)
        if stop.done():
            stop.result()  # raises the reason the run was stopped
        everything.result()
        if _too_many_errors(tally, max_error_rate, min_calls_for_error_rate):
            # Only settled calls pushed the job over (nothing new failed): judge it the same.
            raise ErrorRateExceeded(_error_rate_message(tally, max_error_rate),
                                    [r for r in results if r is not None])
    finally:
        for task in (everything, *tasks):
            task.cancel()  # the feed and the calls still running, if any
        # Awaiting them all also retrieves every exception, already raised above.
        await asyncio.gather(everything, *tasks, return_exceptions=True)
        stop.cancel()
        tally.close()
    return [r for r in results if r is not None]


def _job_counts(tally: _Tally) -> tuple[int, int]:
    """(failed, finished) over the whole job: new calls, cached answers and earlier failures."""
    return (tally.failed + tally.prior_failed,
            tally.done + tally.cached + tally.prior_failed)


def _too_many_errors(tally: _Tally, max_rate: float | None, min_calls: int) -> bool:
    failed, finished = _job_counts(tally)
    return max_rate is not None and finished >= min_calls and failed / finished > max_rate


def _error_rate_message(tally: _Tally, max_rate: float | None) -> str:
    failed, finished = _job_counts(tally)
    kinds = ", ".join(f"{k} {n}" for k, n in tally.kinds.most_common())
    earlier = (f", {tally.prior_failed} of them in earlier runs (probe.retry_failed=true asks "
               "those again)" if tally.prior_failed else "")
    return (f"stopped: {failed}/{finished} calls of this job failed{earlier} "
            f"({failed / finished:.0%} > max {max_rate:.0%}; {kinds}; "
            f"last: {tally.last_error}); raise probe.max_error_rate or check the model/server")
