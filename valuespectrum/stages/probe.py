"""Probe: ask the model the paper's questions about every retrieved screenshot and score it.

Steps: resolve the retrieval run -> encode each screenshot once -> decision calls (cached by
request fingerprint; only missing calls are made, each written to the cache the moment it
lands) -> "why" calls in the same conversation -> optional descriptions -> parse every decision
into yes / no / refusal / invalid (a failed call is ``error``, never a "no") -> answers and
scores tables, MLflow metrics, a printed table and the radar / bar plots.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import time
from collections.abc import AsyncIterator, Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass, replace
from typing import Any

from valuespectrum.models.base import ChatModel, GenerationParams, ImagePart, Message
from valuespectrum.models.calls import CallRequest, CallResult, run_calls
from valuespectrum.store import ProbeStore, content_id

log = logging.getLogger(__name__)

# Cache writes are batched: a kill loses at most FLUSH_SECONDS (or FLUSH_EVERY calls) of answers.
# A flush costs ~70 ms of CPU (open, insert, checkpoint), so it is mostly the timer that fires:
# flushing every 32 calls cost 2.3 ms of CPU per call at 300 calls/s.
FLUSH_EVERY = 256
FLUSH_SECONDS = 1.0


@dataclass(frozen=True)
class Call:
    """One planned model call with its cache identity."""

    fingerprint: str
    kind: str
    image: ImagePart
    messages: tuple[Message, ...]
    request_json: str
    prompt_version: str
    params: GenerationParams


def run(ctx) -> dict[str, float]:
    """Probe the configured model on the current retrieval run; return scores as metrics."""
    from valuespectrum import profiles
    from valuespectrum.models.registry import build_model, generation_params
    from valuespectrum.stages.retrieve import ensure_retrieval

    cfg = ctx.cfg
    retrieval_run, table, _ = ensure_retrieval(ctx)
    prompts = probe_prompts(cfg.probe)
    encoded: Iterable[tuple[int, ImagePart]] = _encode_images(ctx, table)  # starts encoding
    images: dict[int, ImagePart] = {}
    perceiver = None
    if cfg.model.backend == "respondent":  # it perceives the whole corpus before any answer
        images = dict(encoded)
        encoded = list(images.items())
        perceiver = _perceiver(ctx, table, images)
    model = build_model(cfg.model, timeout_s=cfg.probe.timeout_s, perceiver=perceiver)
    if cfg.model.backend == "litellm":
        from valuespectrum.models.litellm_backend import import_litellm

        import_litellm()  # seconds of import: outside the first calls' timeouts
    samples = cfg.probe.samples
    params = [generation_params(cfg.model, s, samples) for s in range(samples)]
    probe_run = content_id(
        {
            "retrieval": retrieval_run,
            "model": model.fingerprint(),
            "prompts": prompts.fingerprint(),
            "params": [asdict(p) for p in params],
            "why": cfg.probe.ask_why,
        }
    )
    stats = _Stats()
    decisions: dict[tuple[int, int], Call] = {}

    def decision_calls() -> Iterator[Call]:
        """Planned as each image is encoded: the first calls go out before the last image."""
        for sid, img in encoded:
            images[sid] = img
            for s in range(samples):
                call = _call(model, "decision", img, _decision(prompts, img), params[s], prompts)
                decisions[(sid, s)] = call
                yield call

    n_decisions = table["screenshot_id"].nunique() * samples
    replies = asyncio.run(
        _ask(ctx, model, decision_calls(), stats, "decision calls", total=n_decisions)
    )
    whys: dict[tuple[int, int], Call] = {}
    if cfg.probe.ask_why:
        from valuespectrum.prompts import why_messages

        whys = {
            key: _call(
                model,
                "why",
                c.image,
                why_messages(prompts, c.image, replies[c.fingerprint]),
                params[key[1]],
                prompts,
            )
            for key, c in decisions.items()
            if c.fingerprint in replies
        }
        asyncio.run(_ask(ctx, model, list(whys.values()), stats, "why calls"))
    if cfg.probe.describe:
        from valuespectrum.prompts import describe_messages

        described = [
            _call(model, "describe", img, describe_messages(prompts, img), params[0], prompts)
            for img in images.values()
        ]
        asyncio.run(_ask(ctx, model, described, stats, "describe calls"))
    answers = _answers(table, decisions, whys, replies, probe_run, samples)
    with ctx.store.connect() as con:
        ProbeStore.save_run(
            con,
            (
                probe_run,
                cfg.model.name,
                cfg.model.label or cfg.model.name,
                cfg.model.simulated,
                retrieval_run,
                prompts.version,
                json.dumps({"model": model.fingerprint(), "params": [asdict(p) for p in params]}),
            ),
        )
        ProbeStore.replace_answers(con, probe_run, answers)
        cost, _ = ProbeStore.usage(con, [c.fingerprint for c in decisions.values()])
    ctx.state["probe_run"] = probe_run
    metrics = profiles.finish(ctx, probe_run, answers)
    asyncio.run(model.aclose())
    metrics.update(stats.as_metrics())
    metrics["cost_usd"] = cost
    return metrics


def probe_prompts(probe_cfg):
    """The preset wording with any ``probe.text`` overrides; overrides get their own version."""
    from valuespectrum.prompts import PAPER, PROTOTYPE

    base = {"paper": PAPER, "prototype": PROTOTYPE}[probe_cfg.prompts]
    text = {k: v for k, v in probe_cfg.text.items() if v is not None}
    if not text:
        return base
    custom = replace(base, **text)
    tag = hashlib.sha256(json.dumps(text, sort_keys=True).encode()).hexdigest()[:8]
    return replace(custom, version=f"{base.version}+custom-{tag}")


def _decision(prompts, image: ImagePart) -> tuple[Message, ...]:
    from valuespectrum.prompts import decision_messages

    return decision_messages(prompts, image)


def _call(model: ChatModel, kind: str, image: ImagePart, messages, params, prompts) -> Call:
    request = {
        "model": model.fingerprint(),
        "kind": kind,
        "prompt_version": prompts.version,
        "messages": [m.fingerprint() for m in messages],
        "params": asdict(params),
    }
    blob = json.dumps(request, sort_keys=True, default=str)
    fingerprint = hashlib.sha256(blob.encode()).hexdigest()
    return Call(fingerprint, kind, image, tuple(messages), blob, prompts.version, params)


def _encode_images(ctx, table) -> Iterator[tuple[int, ImagePart]]:
    """Each retrieved screenshot encoded once (JPEG, size from config): (screenshot id, image).

    Encoded bytes are kept under ``<workspace>/encoded/<settings>/`` so a re-run reads them back
    instead of decoding and re-encoding every screenshot (the largest cost of a cached re-run).
    Encoding starts at once in a thread pool (PIL works outside the GIL) and the images come
    out in table order as they are ready, so calls can start on the first ones.
    """
    import os
    from concurrent.futures import ThreadPoolExecutor

    from valuespectrum.prompts import encode_image

    p = ctx.cfg.probe
    size = tuple(p.image_size) if p.image_size else None
    settings = content_id({"max_side": p.image_max_side, "size": size, "codec": "jpeg-q90-v1"})
    folder = ctx.workspace / "encoded" / settings
    folder.mkdir(parents=True, exist_ok=True)
    rows = table[["screenshot_id", "file_path", "sha256"]].drop_duplicates("screenshot_id")

    def one(sid, path, sha) -> tuple[int, ImagePart]:
        cached = folder / f"{sha}.jpg"
        if cached.exists():
            return int(sid), ImagePart(cached.read_bytes())
        part = encode_image(ctx.workspace / path, max_side=p.image_max_side, size=size)
        tmp = cached.with_suffix(f".tmp{os.getpid()}.{sid}")
        tmp.write_bytes(part.data)
        os.replace(tmp, cached)
        return int(sid), part

    pool = ThreadPoolExecutor(max_workers=min(8, os.cpu_count() or 2), thread_name_prefix="encode")
    futures = [pool.submit(one, *row) for row in rows.itertuples(index=False)]
    pool.shutdown(wait=False)  # the workers finish the queue, then exit
    return (f.result() for f in futures)


class _Stats:
    def __init__(self) -> None:
        self.made = self.cached = self.failed = self.retried = 0
        self.seconds = 0.0

    def as_metrics(self) -> dict[str, float]:
        return {
            "calls_made": self.made,
            "calls_cached": self.cached,
            "calls_failed": self.failed,
            "calls_retried": self.retried,
            "call_seconds": self.seconds,
        }


async def _ask(
    ctx, model: ChatModel, calls: Iterable[Call], stats: _Stats, label: str,
    total: int | None = None,
) -> dict[str, str]:
    """Answer ``calls`` from the cache or the model; return fingerprint -> reply text.

    ``calls`` may be a generator still encoding images: it is drawn in a worker thread and
    taken in batches of whatever is ready, each looked up in the cache as it comes, so the first
    calls are in flight while later images are encoded (a list is one batch). ``label`` names
    the progress bar (e.g. "decision calls"); ``total`` counts the calls of a generator.
    """
    replies: dict[str, str] = {}
    writer = _CacheWriter(ctx, model.name, {})
    seen: set[str] = set()

    def cached(fingerprints: list[str]) -> dict[str, str]:
        with ctx.store.connect() as con:
            return ProbeStore.cached(con, fingerprints)

    async def requests() -> AsyncIterator[CallRequest | None]:
        async for batch in _ready_batches(calls):
            new = list(dict.fromkeys(c.fingerprint for c in batch if c.fingerprint not in seen))
            found = await asyncio.to_thread(cached, new)
            replies.update(found)
            stats.cached += len(found)
            seen.update(found)
            for c in batch:
                if c.fingerprint in seen:  # answered from the cache, or asked already
                    yield None
                    continue
                seen.add(c.fingerprint)
                writer.calls[c.fingerprint] = c
                yield CallRequest(c.fingerprint, c.messages, c.params)

    p = ctx.cfg.probe
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
            on_result=writer.add,
            progress=ctx.cfg.progress,
            label=label,
            total=len(calls) if isinstance(calls, Sequence) else total,
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
    return replies


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


class _CacheWriter:
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


def _answers(table, decisions, whys, replies, probe_run: str, samples: int) -> list[tuple]:
    from valuespectrum.parsing import parse_decision

    rows = []
    for r in table.itertuples():
        for s in range(samples):
            call = decisions[(int(r.screenshot_id), s)]
            if call.fingerprint in replies:
                parsed = parse_decision(replies[call.fingerprint])
                outcome, reason = parsed.outcome, parsed.reason
            else:
                outcome, reason = "error", "call failed"
            why = whys.get((int(r.screenshot_id), s))
            rows.append(
                (
                    probe_run,
                    r.value,
                    r.keyword,
                    int(r.rank),
                    s,
                    int(r.screenshot_id),
                    call.fingerprint,
                    outcome,
                    reason,
                    why.fingerprint if why else None,
                )
            )
    return rows


def _perceiver(ctx, table, images: dict[int, ImagePart]) -> Any:
    """The simulated respondent's view of the corpus (captions and/or CLIP vectors)."""
    import numpy as np

    from valuespectrum.index import VectorIndex
    from valuespectrum.perception import CorpusPerceiver
    from valuespectrum.stages.index import index_files, make_embedder
    from valuespectrum.values import DEFINITIONS, VALUES

    embedder = make_embedder(ctx)
    files = index_files(ctx.workspace, embedder)
    definitions = [f"{v.replace('_', ' ')}: {DEFINITIONS[v]}" for v in VALUES]
    ids = np.array(sorted(images), dtype=np.uint64)
    mode = ctx.cfg.model.perceive
    names = {"caption": ["caption"], "clip": ["clip"], "both": ["caption", "clip"]}[mode]
    if "caption" in names and (files.caption is None or not files.caption.exists()):
        raise FileNotFoundError(
            "the simulated respondent perceives captions: set embedder.caption_encoder=minilm"
            " and run the index stage, or model.perceive=clip"
        )

    def load_views() -> dict[str, Any]:
        views: dict[str, Any] = {}
        if "caption" in names:
            views["caption"] = _view(
                VectorIndex.open(files.caption, view=True),
                ids,
                embedder.caption_encoder.embed_texts(definitions),
            )
        if "clip" in names:
            views["clip"] = _view(
                VectorIndex.open(files.image, view=True), ids, embedder.embed_texts(definitions)
            )
        return views

    perceiver = CorpusPerceiver(names, load_views)
    for sid, image in images.items():
        perceiver.register(image.sha256, sid)
    return perceiver


def _view(index, ids, definitions):
    import numpy as np

    present = np.array([int(i) in index for i in ids], dtype=bool)
    vectors = index.get(ids[present]) if present.any() else []
    return (
        {int(i): v for i, v in zip(ids[present], vectors, strict=True)},
        np.asarray(definitions, dtype=np.float32),
    )
