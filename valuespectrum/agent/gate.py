"""Every step's question through one call runner: the cache first, then the model.

Sessions run concurrently and each asks one question at a time, so the gate feeds one
``run_calls`` for the whole job from a queue: its concurrency cap, retries with backoff, and one
error budget over all the job's calls (answers from the cache count) hold across sessions. The
job's cached replies are read once before the first step (no step opens the database) and every
new reply or failure is queued for the batched cache writer, which writes about once a second.
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import json
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import asdict
from typing import Any

from valuespectrum.models.base import ChatModel, GenerationParams, ImagePart, Message
from valuespectrum.models.calls import ANSWERED, CallRequest, CallResult, Settled, run_calls
from valuespectrum.probe.plan import Call

KIND = "induce"  # responses.kind of the role-play calls


def step_call(
    model_fp: Mapping[str, Any], version: str, image: ImagePart, messages: tuple[Message, ...],
    params: GenerationParams,
) -> Call:
    """The call of one step with its cache identity (the model, the strategy's version, the
    messages with the image by hash, the decoding settings), as the probe keys its calls."""
    request = {
        "model": model_fp,
        "kind": KIND,
        "prompt_version": version,
        "messages": [m.fingerprint() for m in messages],
        "params": _params_dict(params),
    }
    blob = json.dumps(request, sort_keys=True, default=str)
    fingerprint = hashlib.sha256(blob.encode()).hexdigest()
    return Call(fingerprint, KIND, image, messages, blob, version, params)


@functools.lru_cache(maxsize=64)
def _params_dict(params: GenerationParams) -> dict[str, Any]:
    return asdict(params)  # a deep copy per call cost more than the rest of the key


class CallGate:
    """``ask`` answers a call from the cache, or queues it for the job's one call runner."""

    def __init__(
        self,
        model: ChatModel,
        cached: dict[str, str],
        *,
        record: Callable[[CallResult], None],
        calls: dict[str, Call],
        settings: Mapping[str, Any],
    ) -> None:
        self.model, self.cached, self.record, self.calls = model, cached, record, calls
        self.settings = dict(settings)
        self.made = self.hits = 0
        # What this job's own calls cost (a reply without a known cost is counted apart), and
        # which replies stored before the job it used (their cost was paid by an earlier run).
        self.spent_usd, self.spent_unknown = 0.0, 0
        self._stored = frozenset(cached)
        self.stored_used: set[str] = set()
        self._queue: asyncio.Queue[CallRequest | Settled | None] = asyncio.Queue()
        self._pending: dict[str, asyncio.Future[CallResult]] = {}

    async def ask(self, call: Call) -> CallResult | str:
        """The reply text, or the failed ``CallResult`` of a call that got no answer."""
        fp = call.fingerprint
        if fp in self.cached:
            self.hits += 1
            if fp in self._stored:
                self.stored_used.add(fp)
            self._queue.put_nowait(ANSWERED)  # counts in the error budget like an answer
            return self.cached[fp]
        future = self._pending.get(fp)
        if future is None:  # the same call already in flight for another session: asked once
            future = asyncio.get_running_loop().create_future()
            self._pending[fp] = future
            self.calls[fp] = call
            self._queue.put_nowait(CallRequest(fp, call.messages, call.params))
        result = await asyncio.shield(future)
        return result.reply.text if result.ok else result

    async def serve(self, *, progress: bool, total: int | None) -> list[CallResult]:
        """Run the calls queued until ``close``; raises ``ErrorRateExceeded`` past the budget."""
        return await run_calls(
            self.model, self._requests(), on_result=self._done, progress=progress,
            label="induce calls", total=total, **self.settings,
        )

    def close(self) -> None:
        self._queue.put_nowait(None)

    async def _requests(self) -> AsyncIterator[CallRequest | Settled]:
        while (item := await self._queue.get()) is not None:
            yield item

    def _done(self, result: CallResult) -> None:
        self.made += result.attempts
        self.record(result)
        if result.ok:
            self.cached[result.key] = result.reply.text
            if result.reply.cost_usd is None:
                self.spent_unknown += 1
            else:
                self.spent_usd += result.reply.cost_usd
        future = self._pending.pop(result.key, None)
        if future is not None and not future.done():
            future.set_result(result)
