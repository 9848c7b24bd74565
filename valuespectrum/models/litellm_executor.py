"""The default executor for event loops that make litellm calls.

``litellm.acompletion`` builds each request in the loop's default executor, which returns the
(not yet started) coroutine that will send it. A call cancelled around that hop leaves the
coroutine unawaited; this executor closes it instead of letting Python warn about it.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import functools
import inspect
import weakref
from collections.abc import Callable
from typing import Any, ClassVar


class BuildExecutor(concurrent.futures.ThreadPoolExecutor):
    """The default executor of a loop that makes litellm calls; closes requests left unsent.

    ``litellm.acompletion`` builds each request in the loop's default executor, which returns
    the (not yet started) coroutine that will send it. A call cancelled around that hop (its
    timeout, the error-rate stop) drops the coroutine, and Python warns "coroutine
    'OpenAIChatCompletion.acompletion' was never awaited" when it is collected. Its request was
    never sent. This executor closes such a coroutine once the task that asked for it has
    ended; it is otherwise the stock default executor.
    """

    _loops: ClassVar[weakref.WeakSet[asyncio.AbstractEventLoop]] = weakref.WeakSet()

    @classmethod
    def install(cls, loop: asyncio.AbstractEventLoop) -> None:
        if loop not in cls._loops:
            loop.set_default_executor(cls(thread_name_prefix="litellm-build"))
            cls._loops.add(loop)

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any
               ) -> concurrent.futures.Future[Any]:
        future = super().submit(fn, *args, **kwargs)
        try:
            task = asyncio.current_task()
        except RuntimeError:  # submitted from outside a running loop: nobody to outlive
            task = None
        if task is not None:
            task.add_done_callback(functools.partial(_close_when_built, future))
        return future


def _close_when_built(future: concurrent.futures.Future[Any], _task: object) -> None:
    """The asking task has ended: close the coroutine it got, or will get, if never started."""
    future.add_done_callback(_close_unstarted)  # runs at once if the build is already done


def _close_unstarted(future: concurrent.futures.Future[Any]) -> None:
    if future.cancelled() or future.exception() is not None:
        return
    result = future.result()
    if inspect.iscoroutine(result) and inspect.getcoroutinestate(result) == inspect.CORO_CREATED:
        result.close()
