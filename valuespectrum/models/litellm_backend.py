"""``LiteLLMModel``: every hosted API and any OpenAI-compatible server behind one ``ChatModel``.

litellm speaks OpenAI, Anthropic, Gemini, DashScope (``dashscope/qwen-vl-plus``) and local
OpenAI-compatible servers (vLLM, the test fake) with one message format, so the probe code never
branches on provider. What this module adds on top:

* the API key is read from the environment at call time and never kept on the object, so no
  repr, log line, fingerprint or cache row can leak it; it is also scrubbed from error messages,
  since some providers echo the key they rejected;
* litellm's own retries are off: ``calls.run_calls`` retries once, with jitter and Retry-After,
  across all backends;
* every failure becomes a ``ModelCallError`` whose ``kind``/``retryable`` the runner acts on;
* a call cancelled while litellm is still building its request (a timeout, the error-rate stop)
  leaves nothing behind (see ``litellm_executor``);
* per-call work litellm does only for logging callbacks, which the probe never registers, is
  kept small: no scan of every base64 image to shorten it for logs.
"""

from __future__ import annotations

import asyncio
import contextlib
import email.utils
import math
import os
import threading
import time
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from valuespectrum.models.base import (
    ErrorKind,
    GenerationParams,
    ImagePart,
    Message,
    ModelCallError,
    Reply,
)
from valuespectrum.models.litellm_executor import BuildExecutor

_warm = False  # set once import_litellm has warmed litellm up in this process
_warm_lock = threading.Lock()
_NO_KEY = "no-key"  # sent to a custom api_base when no key is configured (see _api_key)


class MissingCredentialError(ValueError):
    """The environment variable that should hold a model's API key is unset or empty."""


def import_litellm() -> Any:
    """Import and warm up litellm; the first use takes seconds, later ones nothing.

    Offline, litellm must not fetch its cost map at import. Its first completion then imports
    dozens more modules (~0.5 s), so one mock completion (no network) is made here. ``achat``
    calls this itself, but inside the first calls' timeout: call it up front when that is short.
    """
    global _warm
    os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
    # litellm copies every message after each call and regex-shortens base64 images in the copy
    # for its logging callbacks; with none registered that is ~5% of a call's CPU for nothing.
    os.environ.setdefault("MAX_BASE64_LENGTH_FOR_LOGGING", "0")
    import litellm

    with _warm_lock:  # many first calls start at once; warm up only once
        if not _warm:
            litellm.suppress_debug_info = True  # else every exception prints a banner to stdout
            with contextlib.suppress(Exception):  # warming up is an optimisation, not a need
                litellm.completion(model="openai/warm-up", mock_response="ok",
                                   messages=[{"role": "user", "content": "hi"}])
            _warm = True
    return litellm


async def _alitellm() -> Any:
    """``import_litellm`` without freezing the event loop for the seconds the first import takes."""
    BuildExecutor.install(asyncio.get_running_loop())
    if _warm:
        return import_litellm()
    return await asyncio.to_thread(import_litellm)


class LiteLLMModel:
    """A chat model reached through litellm; cheap to build, no network until ``achat``.

    ``api_key_env`` names the environment variable holding the key. With ``api_base`` set and no
    ``api_key_env``, a placeholder key is sent, so that litellm does not fall back to a provider
    key from the environment (e.g. ``OPENAI_API_KEY``) and send it to a third-party server.
    ``extra_params`` are passed to ``litellm.acompletion`` as they are. ``drop_params`` is on
    by default: a provider without ``seed`` or ``logprobs`` (Anthropic) then answers without
    them (``yes_logprob`` None) instead of failing every call as a bad request.
    """

    def __init__(
        self,
        name: str,
        model: str,
        *,
        api_base: str | None = None,
        api_key_env: str | None = None,
        image_detail: str = "high",
        timeout_s: float = 60.0,
        extra_params: Mapping[str, Any] | None = None,
        prices: tuple[float | None, float | None] = (None, None),
        supports_vision: bool | None = None,
    ) -> None:
        self.name = name
        self.model = model
        self.api_base = api_base
        self.api_key_env = api_key_env
        self.image_detail = image_detail
        self.timeout_s = timeout_s
        self.extra_params = dict(extra_params or {})
        self.prices = prices  # USD per million tokens in / out, for an id litellm cannot price
        self.supports_vision = supports_vision
        self._registered = False
        self._unpriced: set[str] = set()  # model versions litellm has no price for

    process_safe = True  # plain network I/O: models.spread may make its calls in workers

    def __getstate__(self) -> dict[str, Any]:  # a worker tells its own litellm the prices
        return {**self.__dict__, "_registered": False, "_unpriced": set()}

    def warm(self) -> None:  # what a call worker does before its first call
        import_litellm()

    def __repr__(self) -> str:
        return (
            f"LiteLLMModel(name={self.name!r}, model={self.model!r}, api_base={self.api_base!r}, "
            f"api_key_env={self.api_key_env!r}, image_detail={self.image_detail!r})"
        )

    def fingerprint(self) -> dict[str, Any]:
        """Cache identity: what decides the answers, never the key or the timeout."""
        return {
            "backend": "litellm",
            "model": self.model,
            "api_base": self.api_base,
            "image_detail": self.image_detail,
            **({"extra_params": self.extra_params} if self.extra_params else {}),
        }

    def check_credentials(self) -> None:
        """Fail before any work when the key this model needs is not in the environment."""
        if self.api_key_env and not os.environ.get(self.api_key_env):
            raise MissingCredentialError(
                f"set {self.api_key_env} (model={self.name}) or choose another model"
            )

    def _api_key(self) -> str | None:
        """The key to send; never None while ``api_key_env`` is set, or litellm would fall back
        to a provider default variable and send some other key."""
        if self.api_key_env:
            key = os.environ.get(self.api_key_env)
            if not key:
                raise ModelCallError("auth", f"set {self.api_key_env} (model={self.name})",
                                     retryable=False)
            return key
        return _NO_KEY if self.api_base else None

    async def achat(self, messages: Sequence[Message], params: GenerationParams) -> Reply:
        """One chat completion; every failure is raised as ``ModelCallError``."""
        litellm = await _alitellm()
        if not self._registered:
            self.register(litellm)
        key = self._api_key()
        kwargs: dict[str, Any] = {
            "model": self.model,
            "messages": to_openai_messages(messages, self.image_detail),
            "temperature": params.temperature,
            "max_tokens": params.max_tokens,
            "timeout": self.timeout_s,
            "num_retries": 0,
            "max_retries": 0,  # the openai SDK would otherwise retry twice on its own
            "drop_params": True,
            **({"api_base": self.api_base} if self.api_base else {}),
            **({"api_key": key} if key else {}),
            **({"top_p": params.top_p} if params.top_p is not None else {}),
            **({"seed": params.seed} if params.seed is not None else {}),
            **({"logprobs": True, "top_logprobs": 5} if params.logprobs else {}),
            **self.extra_params,
        }
        start = time.perf_counter()
        try:
            response = await litellm.acompletion(**kwargs)
        except Exception as exc:
            raise to_model_call_error(exc, secret=key if self.api_key_env else None) from None
        latency = time.perf_counter() - start
        return self._to_reply(litellm, response, latency)

    def register(self, litellm: Any) -> None:
        """Tell litellm what the config knows and its map does not (prices, vision)."""
        from valuespectrum.models.litellm_prices import register

        register(litellm, self.model, input_per_mtok=self.prices[0],
                 output_per_mtok=self.prices[1], supports_vision=self.supports_vision)
        self._registered = True

    def _to_reply(self, litellm: Any, response: Any, latency: float) -> Reply:
        """A ``Reply`` from a litellm ``ModelResponse``; missing pieces become None, not errors."""
        choices = getattr(response, "choices", None) or []
        choice = choices[0] if choices else None
        text = getattr(getattr(choice, "message", None), "content", None) or ""
        usage = getattr(response, "usage", None)
        yes_lp, no_lp = yes_no_logprobs(getattr(choice, "logprobs", None))
        return Reply(
            text=text,
            latency_s=latency,
            input_tokens=getattr(usage, "prompt_tokens", None),
            output_tokens=getattr(usage, "completion_tokens", None),
            cost_usd=self._cost(litellm, response),
            yes_logprob=yes_lp,
            no_logprob=no_lp,
            model_version=getattr(response, "model", None),
            extra={"finish_reason": getattr(choice, "finish_reason", None)},
        )

    def _cost(self, litellm: Any, response: Any) -> float | None:
        """USD cost where litellm's price map knows the model; unknown models cost None, not 0.

        A miss is remembered per served model version: pricing an unmapped model makes litellm
        raise after a provider lookup, a per-call cost a long probe need not pay twice.
        """
        from valuespectrum.models.litellm_prices import is_unpriced

        if is_unpriced(self.model):
            return None
        hidden = getattr(response, "_hidden_params", None) or {}
        cost = hidden.get("response_cost")
        version = str(getattr(response, "model", None))
        if cost is None and version not in self._unpriced:
            try:
                cost = litellm.completion_cost(completion_response=response)
            except Exception:  # unmapped model or custom server: an unknown price is no error
                self._unpriced.add(version)
        return float(cost) if isinstance(cost, int | float) and math.isfinite(cost) else None

    async def aclose(self) -> None:
        """Nothing to release: litellm owns its pooled clients (one per event loop and key)."""


def to_openai_messages(messages: Sequence[Message], detail: str) -> list[dict[str, Any]]:
    """OpenAI chat format: text parts, and images as ``data:`` URLs with ``detail``.

    A turn that is a single text is sent as a plain string, the form every provider accepts
    for system and assistant turns.
    """
    out = []
    for m in messages:
        if len(m.content) == 1 and isinstance(m.content[0], str):
            out.append({"role": m.role, "content": m.content[0]})
            continue
        parts = [
            {"type": "text", "text": p} if isinstance(p, str) else _image_part(p, detail)
            for p in m.content
        ]
        out.append({"role": m.role, "content": parts})
    return out


def _image_part(image: ImagePart, detail: str) -> dict[str, Any]:
    url = f"data:{image.mime};base64,{image.base64}"
    return {"type": "image_url", "image_url": {"url": url, "detail": detail}}


def _field(obj: Any, name: str) -> Any:
    return obj.get(name) if isinstance(obj, Mapping) else getattr(obj, name, None)


def yes_no_logprobs(logprobs: Any) -> tuple[float | None, float | None]:
    """Log-probabilities of "yes" and "no" as the first generated token (None when absent).

    Tokens match case- and space-insensitively ("Yes", " yes", "YES"); when several variants
    appear, the most likely one is kept.
    """
    content = _field(logprobs, "content") if logprobs is not None else None
    if not content:
        return None, None
    first = content[0]
    candidates = [first, *(_field(first, "top_logprobs") or [])]
    best: dict[str, float] = {}
    for cand in candidates:
        token, lp = _field(cand, "token"), _field(cand, "logprob")
        word = (token or "").strip().lower()
        if word in ("yes", "no") and lp is not None:
            best[word] = max(best.get(word, -math.inf), float(lp))
    return best.get("yes"), best.get("no")


_MAX_MESSAGE_CHARS = 500  # litellm messages carry debug text; keep stored errors readable


def to_model_call_error(exc: BaseException, *, secret: str | None = None) -> ModelCallError:
    """Classify a litellm/openai/httpx exception for the retry logic; redact ``secret``.

    litellm re-raises a refused connection as a 500 ``InternalServerError``, so timeouts and
    transport failures are recognised anywhere in the exception chain, not only at its top.
    """
    import httpx
    import openai

    chain = _chain(exc)
    name = type(exc).__name__
    status = getattr(exc, "status_code", None)
    status = status if isinstance(status, int) else None
    kind: ErrorKind
    if isinstance(exc, openai.RateLimitError) or status == 429:
        kind, retryable = "rate_limit", True
    elif _any(chain, openai.APITimeoutError, httpx.TimeoutException, TimeoutError):
        kind, retryable = "timeout", True
    elif isinstance(exc, (openai.AuthenticationError, openai.PermissionDeniedError)) or status in (
        401, 403
    ):
        kind, retryable = "auth", False
    elif _any(chain, openai.APIConnectionError, httpx.TransportError, ConnectionError):
        kind, retryable = "transport", True
    elif (status is not None and status >= 500) or isinstance(exc, openai.InternalServerError):
        kind, retryable = "server", True
    elif status == 408:
        kind, retryable = "timeout", True
    elif isinstance(exc, openai.BadRequestError) or (status is not None and 400 <= status < 500):
        kind, retryable = "bad_request", False
    else:
        kind, retryable = "other", False
    message = f"{name}: {exc}"
    if secret and len(secret) >= 8:  # a toy key like "x" would blank out every letter x
        message = message.replace(secret, "***")
    message = " ".join(message.split())[:_MAX_MESSAGE_CHARS]
    return ModelCallError(
        kind,
        message,
        retryable=retryable,
        retry_after=retry_after_s(exc) if retryable else None,
        status=status,
    )


def _chain(exc: BaseException) -> list[BaseException]:
    """``exc`` and every exception it was raised from or while handling, outermost first."""
    out: list[BaseException] = []
    node: BaseException | None = exc
    while node is not None and all(node is not seen for seen in out):
        out.append(node)
        node = node.__cause__ or node.__context__
    return out


def _any(chain: list[BaseException], *types: type[BaseException]) -> bool:
    return any(isinstance(e, types) for e in chain)


def retry_after_s(exc: BaseException) -> float | None:
    """The server's Retry-After hint in seconds, from wherever litellm left the headers.

    litellm rebuilds its exceptions and keeps the provider's headers only on
    ``litellm_response_headers`` or on the chained original, so the whole chain is searched.
    Accepts ``retry-after-ms``, ``retry-after`` in seconds, and ``retry-after`` as an HTTP-date.
    """
    for node in _chain(exc):
        for headers in _header_sources(node):
            value = _parse_retry_after(headers)
            if value is not None:
                return value
    return None


def _header_sources(exc: BaseException) -> list[Mapping[str, str]]:
    response = getattr(exc, "response", None)
    sources = [
        getattr(exc, "litellm_response_headers", None),
        getattr(exc, "headers", None),
        getattr(response, "headers", None),
    ]
    return [h for h in sources if isinstance(h, Mapping) or hasattr(h, "get")]


def _parse_retry_after(headers: Mapping[str, str]) -> float | None:
    lower = {str(k).lower(): str(v) for k, v in headers.items()}
    if "retry-after-ms" in lower:
        try:
            return max(0.0, float(lower["retry-after-ms"]) / 1000.0)
        except ValueError:
            pass
    value = lower.get("retry-after")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())
