"""Spread one model's calls over worker processes, each with an event loop of its own.

One event loop makes at most a few hundred API calls a second: litellm spends 4-5 ms of CPU on
each (building the request, parsing and pricing the reply) under one interpreter lock, which a
local server answering in 200 ms out-paces from about 32 calls in flight. ``SpreadModel`` wraps a
model whose calls are plain network I/O (``process_safe = True``: ``LiteLLMModel``) and hands its
calls to worker processes; this process keeps the retries, timeouts, budget, cache and progress
(``models.calls``), so nothing else changes and the answers are the same calls' answers.

* The workers start on the first call (``python -m valuespectrum.models.spread_worker``, about
  2 s to import litellm) and serve the rest of this process's jobs (a sweep's); until one has
  the model ready, calls are made here. One that cannot start leaves them here, with a warning.
* A worker gets the model pickled (no key on it: ``LiteLLMModel`` reads the key at call time)
  with this process's environment, so it reads the same key this process would.
* A call cancelled here (its timeout, the error-rate stop) is cancelled in the worker, which
  confirms it. The next call goes to the worker with the fewest calls unanswered, so one that
  stops answering (stopped, stuck) soon gets none; its calls time out here and are retried.
  A worker that dies fails its calls in flight as retryable ``transport`` errors; the runner
  asks them again, here or in another worker, and the dead worker is replaced at the next job.
* Frames (a 4-byte length, a pickle) go over a socket pair to this process's own children.
"""

from __future__ import annotations

import asyncio
import atexit
import concurrent.futures
import contextlib
import itertools
import logging
import os
import pickle
import queue
import socket
import subprocess
import sys
import threading
import uuid
from collections.abc import Callable, Sequence
from typing import Any

from valuespectrum.models.base import ChatModel, GenerationParams, Message, ModelCallError, Reply
from valuespectrum.models.spread_worker import HEAD, child_env, error_from, frame

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
    return min(AUTO_MAX_PROCESSES, usable_cpus())


def usable_cpus() -> int:
    """The CPUs this process may run on (its affinity; a CPU quota is not seen)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


class _Worker:
    """One worker process, its socket, and the calls it has in flight.

    A frame is sent at once where the socket takes it whole without waiting; the rest, and every
    frame after it until the queue is empty, goes out through a sender thread, so a worker slow
    to read (busy, stopped) never blocks the event loop. One reader thread settles the futures.
    ``unanswered`` holds every call sent and not yet answered, cancelled ones included until the
    worker confirms: the next call goes to the worker with the fewest, so a stuck one soon gets
    none.
    """

    def __init__(self, index: int) -> None:
        here, there = socket.socketpair()
        self.name = f"call worker {index}"
        try:
            # -m, not multiprocessing: the caller's __main__ is never run again in the child;
            # -P: the package comes from where this one did (child_env), not from the cwd;
            # its own session: Ctrl-C is this process's to handle, the worker ends at EOF.
            self.proc = subprocess.Popen(
                [sys.executable, "-P", "-m", "valuespectrum.models.spread_worker",
                 str(there.fileno())],
                pass_fds=(there.fileno(),), start_new_session=True, stdin=subprocess.DEVNULL,
                env=child_env())
        except BaseException:
            here.close()
            raise
        finally:
            there.close()
        self.sock = here
        here.settimeout(None)  # blocking, whatever socket.setdefaulttimeout says
        self.alive = True
        self.ever_ready = False  # it has set a model up once: it started fine
        self._state = threading.Lock()
        self.ready: set[str] = set()  # models (SpreadModel ids) this worker can call
        # key -> (loop, asyncio future) of a call; (None, concurrent future) of an offload
        self.pending: dict[int, tuple[Any, Any]] = {}
        self.unanswered: set[int] = set()
        self._out: queue.SimpleQueue[bytes | memoryview | None] = queue.SimpleQueue()
        self._queued = 0  # frames handed to the sender thread and not yet sent
        self._sending = threading.Lock()
        for target, role in ((self._read, "reader"), (self._write, "sender")):
            threading.Thread(target=target, daemon=True, name=f"{self.name} {role}").start()

    def send(self, obj: Any) -> None:
        self.send_frame(frame(obj))

    def send_frame(self, data: bytes) -> None:
        if not self.alive:
            raise OSError(f"{self.name} has exited")
        with self._sending:
            rest: bytes | memoryview = data
            if not self._queued and _NOWAIT is not None:  # a thread hand-off costs ~3 ms
                with contextlib.suppress(OSError):  # full; or broken: the sender finds out
                    rest = memoryview(data)[self.sock.send(data, _NOWAIT):]
                if not rest:
                    return
            self._queued += 1
            self._out.put(rest)

    def _write(self) -> None:
        try:
            while (data := self._out.get()) is not None:
                self.sock.sendall(data)
                with self._sending:
                    self._queued -= 1
        except OSError:
            self._gone()

    def _read(self) -> None:
        try:
            stream = self.sock.makefile("rb")
            while len(head := stream.read(HEAD)) == HEAD:
                self._receive(pickle.loads(stream.read(int.from_bytes(head, "big"))))
        except Exception as exc:  # a broken socket or frame: this worker is done
            if not isinstance(exc, OSError | EOFError):
                log.warning("%s: unreadable answer (%s: %s)", self.name, type(exc).__name__, exc)
        finally:
            self._gone()

    def _receive(self, message: tuple) -> None:
        kind, key, value = message
        if kind == "ready":
            self.ready.add(key)
            self.ever_ready = True
            return
        if kind == "gone":  # the model could not be set up there: keep its calls here
            log.warning("%s cannot make this model's calls (%s); making them here",
                        self.name, value)
            self.ready.discard(key)
            return
        self.unanswered.discard(key)
        waiting = self.pending.pop(key, None)
        if waiting is not None and waiting[0] is None:  # an offloaded function's future
            _settle(waiting[1], value if kind == "done" else RuntimeError(f"{self.name}: {value}"))
        elif waiting is not None:  # still awaited here ("cancelled": not by us, so retry it)
            loop, future = waiting
            result = (value if kind == "reply" else error_from(value) if kind == "error" else
                      ModelCallError("transport", f"{self.name} cancelled the call",
                                     retryable=True))
            _settle_soon(loop, future, result)

    def _gone(self) -> None:
        """The worker has exited (or its socket broke): fail what it had, as retryable."""
        with self._state:  # the reader and the sender may both find out
            if not self.alive:
                return
            self.alive = False
        self._out.put(None)
        gone = ModelCallError("transport", f"{self.name} exited", retryable=True)
        while True:
            try:
                _key, (loop, future) = self.pending.popitem()
            except KeyError:
                break
            if loop is None:  # an offload: a concurrent future, settled from any thread
                _settle(future, RuntimeError(f"{self.name} exited"))
            else:
                _settle_soon(loop, future, gone)
        if not self.ever_ready:  # it never got going: say why the calls stay here
            code = None
            with contextlib.suppress(subprocess.TimeoutExpired):
                code = self.proc.wait(1)
            log.warning("%s exited (code %s) before it could make a call; the calls are made"
                        " in this process", self.name, code)

    def close(self) -> None:
        with self._state:
            self.alive = False
        self._out.put(None)
        with contextlib.suppress(OSError):
            self.sock.shutdown(socket.SHUT_RDWR)
        self.sock.close()
        try:
            self.proc.wait(2)
        except subprocess.TimeoutExpired:
            self.proc.kill()


def offload(fn: Callable[..., Any], *args: Any, **kwargs: Any
            ) -> concurrent.futures.Future | None:
    """Run ``fn(*args, **kwargs)`` (a module-level function; picklable arguments and result)
    in the least busy call worker of this process; None when none is up (then run it here).

    The probe draws its figures this way while it computes its summary and writes its tables,
    then waits only for what is left of the drawing.
    """
    up = [w for w in _pool.workers if w.alive and w.ever_ready]
    if not up:
        return None
    worker = min(up, key=lambda w: len(w.unanswered))
    key, future = next(_ids), concurrent.futures.Future()
    try:
        data = frame(("run", key, (fn.__module__, fn.__qualname__, args, kwargs)))
        worker.pending[key] = (None, future)
        worker.unanswered.add(key)
        worker.send_frame(data)
    except Exception:  # it cannot travel, or the worker has just exited: run it here
        worker.pending.pop(key, None)
        worker.unanswered.discard(key)
        return None
    return future


def _settle_soon(loop: asyncio.AbstractEventLoop, future: asyncio.Future, result: Any) -> None:
    with contextlib.suppress(RuntimeError):  # a closed loop: nobody waits for this any more
        loop.call_soon_threadsafe(_settle, future, result)


def _settle(future: Any, result: Any) -> None:
    """Settle an asyncio or concurrent future with ``result`` (an exception: raised there)."""
    if not future.done():
        (future.set_exception if isinstance(result, BaseException) else future.set_result)(result)


class _Pool:
    """This process's call workers, started on demand and kept until it exits."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.workers: list[_Worker] = []
        self._count = itertools.count()
        self.failed_start = False  # a worker exited before it was ready: none are started

    def get(self, n: int) -> list[_Worker]:
        """``n`` live workers, started where missing; fewer (or none) if a start fails."""
        with self._lock:
            dead = [w for w in self.workers if not w.alive]
            for w in dead:
                self.workers.remove(w)
                w.close()
            self.failed_start = self.failed_start or any(not w.ever_ready for w in dead)
            if self.failed_start:  # workers cannot start here: do not try every job again
                return []
            if dead:
                log.warning("%d call worker(s) had exited; starting new ones", len(dead))
            try:
                while len(self.workers) < n:
                    self.workers.append(_Worker(next(self._count)))
            except OSError as exc:  # out of processes or descriptors: call from here
                log.warning("cannot start a call worker (%s); making the calls in this process",
                            exc)
            return self.workers[:n]

    def close(self) -> None:
        with self._lock:
            for w in self.workers:
                w.close()
            self.workers.clear()

    def forget(self) -> None:
        """In a forked child: the workers (and their threads) are the parent's, not ours."""
        self._lock = threading.Lock()
        for w in self.workers:
            w.alive = False  # a SpreadModel of the parent's now calls from here
            with contextlib.suppress(OSError):
                os.close(w.sock.detach())  # the parent's worker sees its EOF, not ours
        self.workers = []


_NOWAIT = getattr(socket, "MSG_DONTWAIT", None)  # one send without waiting (POSIX)
_pool = _Pool()
atexit.register(lambda: _pool.close())
if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=lambda: _pool.forget())
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
        """The ready worker with the fewest unanswered calls; None: make the call here."""
        if self._workers is None:
            self._workers = []
            try:
                model, env = pickle.dumps(self.inner), dict(os.environ)
            except Exception as exc:  # a model that cannot travel makes its calls here
                log.warning("model=%s cannot be sent to a call worker (%s); calling from here",
                            self.name, exc)
                return None
            self._workers = _pool.get(self.processes)
            for w in self._workers:
                with contextlib.suppress(OSError):  # a dead one is replaced at the next job
                    w.send(("model", self._id, (model, env)))
        ready = [w for w in self._workers if w.alive and self._id in w.ready]
        return min(ready, key=lambda w: len(w.unanswered)) if ready else None

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
        try:
            data = frame(("call", key, (self._id, tuple(messages), params)))
        except Exception:  # what cannot travel is asked from here
            self.local_calls += 1
            return await self.inner.achat(messages, params)
        worker.pending[key] = (loop, future)
        worker.unanswered.add(key)
        try:
            worker.send_frame(data)
        except OSError:  # it has just exited: make this call here
            worker.pending.pop(key, None)
            worker.unanswered.discard(key)
            self.local_calls += 1
            return await self.inner.achat(messages, params)
        self.spread_calls += 1
        try:
            return await future
        except asyncio.CancelledError:
            if worker.pending.pop(key, None) is not None and worker.alive:
                with contextlib.suppress(OSError):  # it stays unanswered until confirmed
                    worker.send(("cancel", key, None))
            raise

    async def aclose(self) -> None:
        """Let the workers drop this model (they stay for the next job); close the model."""
        for w in self._workers or []:
            w.ready.discard(self._id)
            with contextlib.suppress(OSError):
                w.send(("forget", self._id, None))
        self._workers = None
        await self.inner.aclose()
