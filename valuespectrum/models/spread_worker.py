"""The worker side of ``models.spread``: make the calls the parent process sends (and
``child_env``, the environment the parent starts a worker with).

A worker is a child process (``python -m valuespectrum.models.spread_worker <fd>``, in a session
of its own) with one event loop. It reads frames (a 4-byte length, then a pickle) from its
socket: a model to set up (with the parent's environment), calls to make on it, cancellations,
a model to drop, or a function to run (``spread.offload``). It answers each call with its
``Reply`` or the fields of its ``ModelCallError``, and exits when the parent closes the socket
(or dies).
"""

from __future__ import annotations

import asyncio
import importlib
import logging
import os
import pickle
import socket
import sys
from pathlib import Path
from typing import Any

from valuespectrum.models.base import GenerationParams, ModelCallError

HEAD = 4  # bytes of frame length


def frame(obj: Any) -> bytes:
    data = pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)
    return len(data).to_bytes(HEAD, "big") + data


def error_fields(err: ModelCallError) -> tuple:
    message = str(err).removeprefix(f"{err.kind}: ")
    return (err.kind, message, err.retryable, err.retry_after, err.status)


def error_from(fields: tuple) -> ModelCallError:
    kind, message, retryable, retry_after, status = fields
    return ModelCallError(kind, message, retryable=retryable, retry_after=retry_after,
                          status=status)


def child_env() -> dict[str, str]:
    """This environment, with the folder this package was imported from first on the path
    (a checkout on ``sys.path``, not only an install), so the worker runs the same code."""
    import site

    import valuespectrum

    root = str(Path(valuespectrum.__file__).resolve().parents[1])
    if root in {*site.getsitepackages(), site.getusersitepackages()}:
        return dict(os.environ)  # installed: the child finds it where this one did
    path = os.environ.get("PYTHONPATH")
    return {**os.environ, "PYTHONPATH": root + (os.pathsep + path if path else "")}


def serve(sock: socket.socket) -> None:
    """A worker's main: make the calls its parent sends until the socket closes."""
    logging.getLogger("LiteLLM").setLevel(logging.ERROR)
    asyncio.run(_worker_loop(sock))


async def _worker_loop(sock: socket.socket) -> None:
    reader, writer = await asyncio.open_connection(sock=sock)
    models: dict[str, Any] = {}
    tasks: dict[int, asyncio.Task] = {}
    jobs: set[asyncio.Task] = set()  # offloaded functions running

    async def call(key: int, model: Any, messages: tuple, params: GenerationParams) -> None:
        try:
            out = ("reply", key, await model.achat(messages, params))
        except ModelCallError as err:
            out = ("error", key, error_fields(err))
        except Exception as exc:  # a backend bug: the runner reports it, never as an answer
            out = ("error", key, ("other", f"{type(exc).__name__}: {exc}", False, None, None))
        finally:
            tasks.pop(key, None)
        try:
            data = frame(out)
        except Exception as exc:  # a reply that cannot be sent back is that call's error
            data = frame(("error", key, ("other", f"the reply could not be sent back: {exc}",
                                         False, None, None)))
        if not writer.is_closing():  # closing: the parent has gone, nobody to tell
            writer.write(data)

    def cancelled(task: asyncio.Task, key: int) -> None:
        """Tell the parent a call ended cancelled (asked to, or before it started)."""
        tasks.pop(key, None)
        if task.cancelled() and not writer.is_closing():
            writer.write(frame(("cancelled", key, None)))

    async def run(key: int, module: str, name: str, args: tuple, kwargs: dict) -> None:
        """An offloaded function (``spread.offload``), in a thread: calls keep flowing."""
        try:
            fn = getattr(importlib.import_module(module), name)
            out = ("done", key, await asyncio.to_thread(fn, *args, **kwargs))
        except Exception as exc:
            out = ("failed", key, f"{type(exc).__name__}: {exc}")
        if not writer.is_closing():
            writer.write(frame(out))

    async def set_up(key: str, model_bytes: bytes, env: dict[str, str]) -> None:
        try:
            os.environ.clear()
            os.environ.update(env)
            model = pickle.loads(model_bytes)
            warm = getattr(model, "warm", None)
            if warm is not None:
                await asyncio.to_thread(warm)
            models[key] = model
            writer.write(frame(("ready", key, None)))
        except Exception as exc:
            writer.write(frame(("gone", key, f"{type(exc).__name__}: {exc}")))

    while True:
        try:
            head = await reader.readexactly(HEAD)
            kind, key, value = pickle.loads(await reader.readexactly(int.from_bytes(head, "big")))
        except (asyncio.IncompleteReadError, ConnectionError):
            break
        if kind == "call":
            model_key, messages, params = value
            if model_key in models:
                task = asyncio.create_task(call(key, models[model_key], messages, params))
                task.add_done_callback(lambda t, key=key: cancelled(t, key))
                tasks[key] = task
            else:
                writer.write(frame(("error", key, ("other", "the call worker lost the model",
                                                    True, None, None))))
        elif kind == "run":
            jobs.add(asyncio.create_task(run(key, *value)))
            jobs.difference_update([j for j in jobs if j.done()])
        elif kind == "cancel":
            task = tasks.pop(key, None)
            if task is not None:
                task.cancel()
        elif kind == "model":
            await set_up(key, *value)
        elif kind == "forget":
            model = models.pop(key, None)
            if model is not None:
                await model.aclose()
    for task in list(tasks.values()):
        task.cancel()


if __name__ == "__main__":  # python -m valuespectrum.models.spread_worker <socket fd>
    if len(sys.argv) != 2 or not sys.argv[1].isdigit():
        sys.exit("a call worker of the probe (models.spread); it starts its own workers, and"
                 " run by hand this only shows the package imports")
    serve(socket.socket(fileno=int(sys.argv[1])))
