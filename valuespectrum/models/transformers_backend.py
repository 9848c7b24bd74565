"""Local vision-language models through Hugging Face transformers.

Weights are loaded lazily, on the first call, with ``AutoProcessor.from_pretrained`` and the
native class of the checkpoint's ``model_type`` (``valuespectrum.models.families``: LLaVA,
Qwen2.5-VL, Idefics3/SmolVLM, InternVL ``-hf``, BLIP-2): the same path serves a hub id
(downloaded into the HF cache, pinned by ``revision``) and a local folder written by
``save_pretrained``. Chat models get the processor's chat template; BLIP-2 a flat
"Question: ... Answer:" prompt (``transformers_prompts``). Constructing a ``TransformersModel``
is free, so configs can be composed and validated without torch.

Concurrent ``achat`` calls are gathered by a small asyncio micro-batcher: requests that arrive
within a few milliseconds and share ``GenerationParams`` run as one left-padded ``generate`` call
in a single worker thread, so the event loop stays free and the GPU sees batches. Greedy outputs
do not depend on batching; if a batch fails, its requests are retried one by one so that one bad
conversation cannot fail its neighbours.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from typing import Any

from valuespectrum.models import families
from valuespectrum.models.base import GenerationParams, Message, ModelCallError, Reply
from valuespectrum.models.transformers_prompts import (
    QUESTION_ANSWER_FORMAT,
    chat_message,
    control_tokens,
    decode_image,
    escape_control_tokens,
    question_answer_prompt,
)
from valuespectrum.third_party import quiet_loading

_decode_image = decode_image  # the name tests and older callers use

log = logging.getLogger(__name__)

_DTYPES = ("float32", "bfloat16", "float16", "auto")


@dataclass
class _Request:
    messages: Sequence[Message]
    params: GenerationParams
    future: asyncio.Future[Reply]
    started: float


class TransformersModel:
    """A ``ChatModel`` over local transformers weights of a family ``families.LOADABLE`` names."""

    def __init__(
        self,
        name: str,
        model_id: str,
        *,
        revision: str | None = None,
        device: str = "cpu",
        dtype: str = "float32",
        trust_remote_code: bool = False,
        batch_size: int = 4,
        max_image_side: int | None = None,
        processor_kwargs: dict[str, Any] | None = None,
        model_kwargs: dict[str, Any] | None = None,
        batch_wait_s: float = 0.005,
    ) -> None:
        if dtype not in _DTYPES:
            raise ValueError(f"dtype={dtype!r}: use one of {', '.join(_DTYPES)}")
        if batch_size < 1:
            raise ValueError(f"batch_size={batch_size}: must be at least 1")
        self.name = name
        self.model_id = model_id
        self.revision = revision
        self.device = device
        self.dtype = dtype
        self.trust_remote_code = trust_remote_code
        self.batch_size = batch_size
        self.max_image_side = max_image_side
        self.processor_kwargs = dict(processor_kwargs or {})
        self.model_kwargs = dict(model_kwargs or {})
        self.batch_wait_s = batch_wait_s
        self._model: Any = None
        self._load_error: ModelCallError | None = None
        self._processor: Any = None
        self._family: families.Family | None = None
        self._tokenizer: Any = None
        self._answer_ids: tuple[list[int], list[int]] | None = None
        self._executor: ThreadPoolExecutor | None = None
        self._queue: asyncio.Queue[_Request] | None = None
        self._worker: asyncio.Task[None] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def fingerprint(self) -> dict[str, Any]:
        """Backend, weights and the settings that change what the model sees; never the device."""
        return {
            "backend": "transformers",
            "model_id": self.model_id,
            "revision": self.revision,
            "dtype": self.dtype,
            "max_image_side": self.max_image_side,
            "processor_kwargs": dict(sorted(self.processor_kwargs.items())),
            # How conversations are rendered (chat template, or the flat question-answer form).
            "prompt_format": f"chat-template|{QUESTION_ANSWER_FORMAT}",
        }

    async def achat(self, messages: Sequence[Message], params: GenerationParams) -> Reply:
        """Queue the conversation for the micro-batcher and wait for its reply."""
        loop = asyncio.get_running_loop()
        if self._loop is not loop or self._worker is None or self._worker.done():
            # A new event loop (e.g. a second asyncio.run) needs its own queue and worker task.
            self._loop, self._queue = loop, asyncio.Queue()
            self._worker = loop.create_task(self._serve(self._queue))
        assert self._queue is not None
        request = _Request(tuple(messages), params, loop.create_future(), time.perf_counter())
        await self._queue.put(request)
        return await request.future

    async def aclose(self) -> None:
        """Stop the batcher, fail queued calls and free the weights (and CUDA cache)."""
        if self._worker is not None:
            self._worker.cancel()
            with contextlib.suppress(asyncio.CancelledError, RuntimeError):
                await self._worker
        while self._queue is not None and not self._queue.empty():
            pending = self._queue.get_nowait()
            if not pending.future.done():
                pending.future.set_exception(
                    ModelCallError("closed", "model closed", retryable=False)
                )
        self._worker = self._queue = self._loop = None
        if self._executor is not None:
            # Runs after any batch still in the thread, so weights are never freed mid-generate.
            await asyncio.get_running_loop().run_in_executor(self._executor, self._unload)
            self._executor.shutdown(wait=False)
            self._executor = None

    async def _serve(self, queue: asyncio.Queue[_Request]) -> None:
        if self._executor is None:
            self._executor = ThreadPoolExecutor(1, thread_name_prefix=f"transformers-{self.name}")
        while True:
            batch = [await queue.get()]
            if queue.qsize() < self.batch_size - 1:
                await asyncio.sleep(self.batch_wait_s)  # let a burst of callers arrive
            while len(batch) < self.batch_size and not queue.empty():
                batch.append(queue.get_nowait())
            groups: dict[GenerationParams, list[_Request]] = {}
            for request in batch:
                if not request.future.done():  # skip callers that gave up (timeouts)
                    groups.setdefault(request.params, []).append(request)
            for params, group in groups.items():
                await self._dispatch(group, params)

    async def _dispatch(self, group: list[_Request], params: GenerationParams) -> None:
        """Run one same-params batch in the worker thread and hand each caller its result."""
        loop = asyncio.get_running_loop()
        convs = [r.messages for r in group]
        try:
            results = await loop.run_in_executor(
                self._executor, self._run_with_fallback, convs, params
            )
        except Exception as exc:  # never leave a caller waiting forever
            results = [ModelCallError("other", repr(exc), retryable=False)] * len(group)
        for request, result in zip(group, results, strict=True):
            if request.future.done():
                continue
            if isinstance(result, ModelCallError):
                request.future.set_exception(result)
            else:  # latency as the caller saw it: waiting for a batch plus generating it
                latency = time.perf_counter() - request.started
                request.future.set_result(replace(result, latency_s=latency))

    # --- worker thread -------------------------------------------------------------------------

    def _run_with_fallback(
        self, convs: list[Sequence[Message]], params: GenerationParams
    ) -> list[Reply | ModelCallError]:
        """Run a batch; on failure retry each conversation alone to isolate the bad one."""
        try:
            self._load()  # a load failure is everyone's: no point retrying it per request
            return self._generate(convs, params)
        except ModelCallError as exc:
            if len(convs) == 1 or self._model is None:
                return [exc] * len(convs)
            log.warning("batch of %d failed (%s); retrying one by one", len(convs), exc)
        results: list[Reply | ModelCallError] = []
        for conv in convs:
            try:
                results.extend(self._generate([conv], params))
            except ModelCallError as exc:
                results.append(exc)
        return results

    def _load(self) -> None:
        if self._model is not None:
            return
        if self._load_error is not None:  # one failed load (minutes of hub retries) is enough
            raise self._load_error
        import torch
        import transformers

        common = {"revision": self.revision, "trust_remote_code": self.trust_remote_code}
        dtype = "auto" if self.dtype == "auto" else getattr(torch, self.dtype)
        started = time.perf_counter()
        log.info("loading weights of %s (%s, %s)", self.model_id, self.dtype, self.device)
        try:
            with quiet_loading():  # our two lines replace transformers' bars and report
                model_type = transformers.AutoConfig.from_pretrained(
                    self.model_id, **common
                ).model_type
                family = families.LOADABLE.get(model_type)
                if family is None:
                    raise ValueError(f"model_type {model_type!r} is not one of "
                                     f"{', '.join(sorted(families.LOADABLE))}")
                processor = transformers.AutoProcessor.from_pretrained(
                    self.model_id, **common, **self.processor_kwargs
                )
                model, report = getattr(transformers, family.loader).from_pretrained(
                    self.model_id,
                    dtype=dtype,
                    output_loading_info=True,
                    **common,
                    **self.model_kwargs,
                )
        except Exception as exc:  # missing files, unknown architecture, remote code errors
            msg = f"cannot load {self.model_id!r}: {str(exc).splitlines()[0][:300]}"
            self._load_error = ModelCallError("load", msg, retryable=False)
            raise self._load_error from exc
        if "device_map" not in self.model_kwargs:
            model = model.to(self.device)
        tokenizer = getattr(processor, "tokenizer", processor)
        tokenizer.padding_side = "left"  # also for processors that ignore the call-time option
        if tokenizer.pad_token is None:
            tokenizer.pad_token = tokenizer.eos_token
        self._processor, self._model, self._tokenizer = processor, model.eval(), tokenizer
        self._family = family
        missing = sorted(report.get("missing_keys") or ())
        if missing:  # randomly initialised layers change answers: never let that pass silently
            log.warning(
                "%s: %d weights missing from the checkpoint and randomly initialised (%s)",
                self.model_id,
                len(missing),
                ", ".join(missing[:3]),
            )
        log.info("loaded %s in %.1f s", self.model_id, time.perf_counter() - started)

    def _unload(self) -> None:
        had_model = self._model is not None
        self._model = self._processor = self._tokenizer = self._answer_ids = None
        self._family = None
        self._load_error = None
        gc.collect()
        if had_model:
            import torch

            if torch.cuda.is_available():
                torch.cuda.empty_cache()

    def _prepare(self, convs: list[Sequence[Message]]) -> Any:
        """Render and tokenize a batch; any failure here is the request's fault."""
        assert self._family is not None
        if self._family.prompt == "question_answer":
            return self._prepare_question_answer(convs)
        # Text that spells a control token ("<image>", "</s>") is escaped, so a caption or an
        # earlier reply cannot add image slots or end the turn. (transformers' own
        # sanitize_control_tokens is ignored by the InternVL processor and breaks Idefics3's.)
        escaped = control_tokens(self._tokenizer)
        try:
            hf_convs = [[chat_message(m, self.max_image_side, escaped) for m in conv]
                        for conv in convs]
            inputs = self._processor.apply_chat_template(
                hf_convs,
                add_generation_prompt=True,
                tokenize=True,
                return_dict=True,
                return_tensors="pt",
                # Left padding: every prompt must end where generation starts.
                processor_kwargs={"padding": True, "padding_side": "left"},
            )
        except Exception as exc:
            msg = f"cannot build prompt: {exc}"
            raise ModelCallError("bad_request", msg, retryable=False) from exc
        return inputs.to(self._model.device).to(self._model.dtype)  # casts only float tensors

    def _prepare_question_answer(self, convs: list[Sequence[Message]]) -> Any:
        """BLIP-2: one flat prompt and one image per conversation, left-padded as a batch."""
        rendered = [question_answer_prompt(conv) for conv in convs]
        images = [decode_image(image, self.max_image_side) for _, image in rendered]
        escaped = control_tokens(self._tokenizer)  # "<image>" in a caption stays text
        try:
            inputs = self._processor(
                images=images,
                text=[escape_control_tokens(prompt, escaped) for prompt, _ in rendered],
                return_tensors="pt",
                padding=True,
            )
        except Exception as exc:
            msg = f"cannot build prompt: {exc}"
            raise ModelCallError("bad_request", msg, retryable=False) from exc
        return inputs.to(self._model.device).to(self._model.dtype)

    def _generate(self, convs: list[Sequence[Message]], params: GenerationParams) -> list[Reply]:
        import torch

        inputs = self._prepare(convs)
        if params.temperature > 0 and params.seed is not None:
            torch.manual_seed(params.seed)  # reproducible for a fixed batch composition
        started = time.perf_counter()
        try:
            with torch.inference_mode():
                out = self._model.generate(
                    **inputs, pad_token_id=self._tokenizer.pad_token_id, **_generate_kwargs(params)
                )
        except Exception as exc:  # OOM, device-side asserts, shape errors in remote code ...
            raise ModelCallError("other", f"generate failed: {exc!r}", retryable=False) from exc
        generate_s = time.perf_counter() - started
        sequences = out.sequences if params.logprobs else out
        new_tokens = sequences[:, inputs["input_ids"].shape[1] :].tolist()
        texts = self._tokenizer.batch_decode(new_tokens, skip_special_tokens=True)
        input_counts = inputs["attention_mask"].sum(dim=1).tolist()
        n = len(texts)
        yes, no = self._yes_no_logprobs(out.logits[0]) if params.logprobs else ([None] * n,) * 2
        stops = _stop_ids(self._model.generation_config.eos_token_id, self._tokenizer)
        extra = {"batch_size": n, "generate_s": generate_s}
        version = getattr(self._model.config, "_commit_hash", None)
        return [
            Reply(
                text=texts[i].strip(),
                latency_s=generate_s,
                input_tokens=int(input_counts[i]),
                output_tokens=_count_generated(new_tokens[i], stops),
                yes_logprob=yes[i],
                no_logprob=no[i],
                model_version=version,
                extra=dict(extra),
            )
            for i in range(n)
        ]

    def _yes_no_logprobs(self, first_logits: Any) -> tuple[list[float | None], ...]:
        """Best log-probability among "yes"-like and "no"-like first tokens, per row."""
        if self._answer_ids is None:
            self._answer_ids = _answer_token_ids(self._tokenizer, first_logits.shape[-1])
        logprobs = first_logits.float().log_softmax(dim=-1)
        rows = logprobs.shape[0]
        return tuple(
            logprobs[:, ids].max(dim=-1).values.tolist() if ids else [None] * rows
            for ids in self._answer_ids
        )


def _generate_kwargs(params: GenerationParams) -> dict[str, Any]:
    kwargs: dict[str, Any] = {"max_new_tokens": params.max_tokens, "do_sample": False}
    if params.temperature > 0:
        kwargs.update(do_sample=True, temperature=params.temperature)
        if params.top_p is not None:
            kwargs["top_p"] = params.top_p
    if params.logprobs:
        # Raw logits rather than ``scores``: warpers (temperature, top-p) rescale or -inf those.
        kwargs.update(return_dict_in_generate=True, output_logits=True)
    return kwargs


def _answer_token_ids(tokenizer: Any, vocab_size: int) -> tuple[list[int], list[int]]:
    """Token ids that decode to "yes" / "no" once stripped and lowercased (" Yes", "NO", ...)."""
    special = set(tokenizer.all_special_ids)
    ids = [i for i in range(min(len(tokenizer), vocab_size)) if i not in special]
    words = [t.strip().lower() for t in tokenizer.batch_decode([[i] for i in ids])]
    return (
        [i for i, w in zip(ids, words, strict=True) if w == "yes"],
        [i for i, w in zip(ids, words, strict=True) if w == "no"],
    )


def _stop_ids(eos: int | list[int] | None, tokenizer: Any) -> set[int]:
    ids = set(eos if isinstance(eos, list) else [] if eos is None else [eos])
    return ids | ({tokenizer.eos_token_id} if tokenizer.eos_token_id is not None else set())


def _count_generated(tokens: list[int], stops: set[int]) -> int:
    """Generated tokens up to and including the first stop token; later padding is not counted."""
    return next((i + 1 for i, token in enumerate(tokens) if token in stops), len(tokens))
