"""Spread one model's calls over worker processes, each with an event loop of its own.

One event loop makes at most a few hundred API calls a second: litellm spends 4-5 ms of CPU on
each (building the request, parsing and pricing the reply) under one interpreter lock, which a
local server answering in 200 ms out-paces from about 32 calls in flight. ``SpreadModel`` wraps a
model whose calls are plain network I/O (``process_safe = True``: ``LiteLLMModel``) and hands its
calls to worker processes; this process keeps the retries, timeouts, budget, cache and progress
(``models.calls``), so nothing else changes and the answers are the same calls' answers.

* The workers are started on the first call (``spawn``; a worker imports litellm, about 2 s) and
  kept for the rest of this process, so the jobs of a sweep share them; until a worker has the
  model ready, its calls are made here, so starting costs no latency.
* A worker gets the model pickled (no key on it: ``LiteLLMModel`` reads the key at call time)
  with this process's environment, so it reads the same key this process would.
* A call cancelled here (its timeout, the error-rate stop) is cancelled in the worker. A worker
  that dies fails its calls in flight as retryable ``transport`` errors; the runner asks them
  again, here or in another worker, and the dead worker is replaced at the next job.
* Frames are pickles with a 4-byte length over a socket pair between this process and its own
  children; nothing listens on a port.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import itertools
import logging
import multiprocessing as mp
import os
import pickle
import socket
import threading
import uuid
from collections.abc import Sequence
from typing import Any

from valuespectrum.models.base import ChatModel, GenerationParams, Message, ModelCallError, Reply
from valuespectrum.models.spread_worker import HEAD, error_from, frame, serve

log = logging.getLogger(__name__)
# ``client_processes=auto`` spreads from this many calls in flight and this many calls to make:
# below, one loop keeps up and a worker's start (a litellm import) would cost more than it saves.
AUTO_MIN_CONCURRENCY = 32
AUTO_MIN_CALLS = 256
AUTO_MAX_PROCESSES = 4


def processes_for(setting: int | str, *, concurrency: int, calls: int) -> int:
    """How many worker processes ``probe.client_processes`` asks for (0: calls made here)."""
    if setting != "auto":
        return int(setting)
    if concurrency < AUTO_MIN_CONCURRENCY or calls < AUTO_MIN_CALLS:
        return 0
    return min(AUTO_MAX_PROCESSES, os.cpu_count() or 1)


class _Worker:
    """One worker process, its socket, and the calls it has in flight."""

    def __init__(self, ctx: Any, index: int) -> None:
        here, there = socket.socketpair()
        self.proc = ctx.Process(target=serve, args=(there,), daemon=True,
                                name=f"valuespectrum-calls-{index}")
        self.proc.start()
        there.close()
        self.sock = here
        self.alive = True
        self.ready: set[str] = set()  # models (SpreadModel ids) this worker can call
        self.pending: dict[int, tuple[asyncio.AbstractEventLoop, asyncio.Future]] = {}
        self._send_lock = threading.Lock()
        self._reader = threading.Thread(target=self._read, daemon=True,
                                        name=f"valuespectrum-calls-{index}-reader")
        self._reader.start()

    def send(self, obj: Any) -> None:
        data = frame(obj)
        with self._send_lock:
            self.sock.sendall(data)

    def _read(self) -> None:
        stream = self.sock.makefile("rb")
        try:
            while True:
                head = stream.read(HEAD)
                if len(head) < HEAD:
                    break
                self._receive(pickle.loads(stream.read(int.from_bytes(head, "big"))))
        except (OSError, EOFError, pickle.UnpicklingError):
            pass
        finally:
            self.alive = False
            self._fail_pending()

    def _receive(self, frame: tuple) -> None:
        kind, key, value = frame
        if kind == "ready":
            self.ready.add(key)
            return
        if kind == "gone":  # the model could not be set up there: keep its calls here
            log.warning("a call worker cannot make this model's calls (%s); making them here",
                        value)
            return
        waiting = self.pending.pop(key, None)
        if waiting is not None:
            loop, future = waiting
            result = value if kind == "reply" else error_from(value)
            _settle_soon(loop, future, result)

    def _fail_pending(self) -> None:
        gone = ModelCallError("transport", f"call worker {self.proc.name} exited",
                              retryable=True)
        while self.pending:
            _key, (loop, future) = self.pending.popitem()
            _settle_soon(loop, future, gone)

    def close(self) -> None:
        self.alive = False
        with contextlib.suppress(OSError):
            self.sock.shutdown(socket.SHUT_RDWR)
        self.sock.close()
        self.proc.join(2)
        if self.proc.is_alive():
            self.proc.terminate()


def _settle_soon(loop: asyncio.AbstractEventLoop, future: asyncio.Future, result: Any) -> None:
    with contextlib.suppress(RuntimeError):  # a closed loop: nobody waits for this any more
        loop.call_soon_threadsafe(_settle, future, result)


def _settle(future: asyncio.Future, result: Any) -> None:
    if future.done():
        return
    if isinstance(result, BaseException):
        future.set_exception(result)
    else:
        future.set_result(result)


class _Pool:
    """This process's call workers, started on demand and kept until it exits."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.workers: list[_Worker] = []
        self._count = itertools.count()

    def get(self, n: int) -> list[_Worker]:
        with self._lock:
            dead = [w for w in self.workers if not w.alive]
            for w in dead:
                self.workers.remove(w)
                w.close()
            if dead:
                log.warning("%d call worker(s) had exited; starting new ones", len(dead))
            ctx = mp.get_context("spawn")
            while len(self.workers) < n:
                self.workers.append(_Worker(ctx, next(self._count)))
            return self.workers[:n]

    def close(self) -> None:
        with self._lock:
            for w in self.workers:
                w.close()
            self.workers.clear()


_pool = _Pool()
atexit.register(_pool.close)
_ids = itertools.count()


class SpreadModel:
    """``model`` with its calls made in ``processes`` worker processes (see the module doc).

    Same name and fingerprint as ``model``, so its answers are cached as the model's own; every
    other attribute is the model's.
    """

    def __init__(self, model: ChatModel, processes: int) -> None:
        if processes < 1:
            raise ValueError(f"processes must be >= 1, got {processes}")
        self.inner = model
        self.name = model.name
        self.processes = processes
        self._id = uuid.uuid4().hex
        self._workers: list[_Worker] | None = None
        self.spread_calls = 0  # calls a worker made
        self.local_calls = 0  # calls made here (workers starting, or gone)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    def __repr__(self) -> str:
        return f"SpreadModel({self.inner!r}, processes={self.processes})"

    def fingerprint(self) -> dict[str, Any]:
        return self.inner.fingerprint()

    def _pick(self) -> _Worker | None:
        if self._workers is None:
            self._workers = _pool.get(self.processes)
            model, env = pickle.dumps(self.inner), dict(os.environ)
            for w in self._workers:
                with contextlib.suppress(OSError):  # a dead one is replaced at the next job
                    w.send(("model", self._id, (model, env)))
        ready = [w for w in self._workers if w.alive and self._id in w.ready]
        return min(ready, key=lambda w: len(w.pending)) if ready else None

    async def ready(self, timeout_s: float = 60.0) -> int:
        """Wait until every worker can make this model's calls; the number that can."""
        self._pick()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout_s
        workers = self._workers or []
        while loop.time() < deadline and any(w.alive and self._id not in w.ready
                                             for w in workers):
            await asyncio.sleep(0.02)
        return sum(w.alive and self._id in w.ready for w in workers)

    async def achat(self, messages: Sequence[Message], params: GenerationParams) -> Reply:
        worker = self._pick()
        if worker is None:
            self.local_calls += 1
            return await self.inner.achat(messages, params)
        loop = asyncio.get_running_loop()
        future = loop.create_future()
        key = next(_ids)
        worker.pending[key] = (loop, future)
        try:
            worker.send(("call", key, (self._id, tuple(messages), params)))
            sent = worker.alive  # else its reader may have failed its calls before this one
        except OSError:
            sent = False
        if not sent:  # it has just died: make this call here
            worker.pending.pop(key, None)
            self.local_calls += 1
            return await self.inner.achat(messages, params)
        self.spread_calls += 1
        try:
            return await future
        except asyncio.CancelledError:
            if worker.pending.pop(key, None) is not None and worker.alive:
                with contextlib.suppress(OSError):
                    worker.send(("cancel", key, None))
            raise

    async def aclose(self) -> None:
        """Let the workers drop this model (they stay for the next job); close the model."""
        for w in self._workers or []:
            if w.alive:
                with contextlib.suppress(OSError):
                    w.send(("forget", self._id, None))
        self._workers = None
        await self.inner.aclose()
