"""The one protocol every chat model backend speaks.

A probe or an induction session only ever sees ``ChatModel``: messages with text and images in,
a ``Reply`` out, or a ``ModelCallError`` raised. Keeping the surface this small is what lets the
same probe run against an API, a local transformers model, a loopback fake server or the
simulated respondent, and lets the cache key every call the same way.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Literal, Protocol, runtime_checkable

Role = Literal["system", "user", "assistant"]


@dataclass(frozen=True)
class ImagePart:
    """An encoded image (JPEG unless ``mime`` says otherwise), as sent to the model.

    Its hash and base64 text are computed once per object: a probe sends each image in
    several calls (samples, the "why" turn) and keys each call by the image's hash.
    """

    data: bytes
    mime: str = "image/jpeg"

    @cached_property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()

    @cached_property
    def base64(self) -> str:
        return base64.b64encode(self.data).decode("ascii")


@dataclass(frozen=True)
class Message:
    """One chat turn; ``content`` interleaves text and images in the order they are shown."""

    role: Role
    content: tuple[str | ImagePart, ...]

    @classmethod
    def text(cls, role: Role, text: str) -> Message:
        return cls(role=role, content=(text,))

    def fingerprint(self) -> dict[str, Any]:
        """JSON-able identity of the turn: images by sha256, never by bytes."""
        parts: list[Any] = [
            p if isinstance(p, str) else {"image_sha256": p.sha256, "mime": p.mime}
            for p in self.content
        ]
        return {"role": self.role, "content": parts}


@dataclass(frozen=True)
class GenerationParams:
    """Decoding settings; part of every cache key."""

    temperature: float = 0.0
    max_tokens: int = 300
    top_p: float | None = None
    seed: int | None = None
    logprobs: bool = False


@dataclass(frozen=True)
class Reply:
    """What a model said, with the accounting a researcher needs to audit a run."""

    text: str
    latency_s: float
    input_tokens: int | None = None
    output_tokens: int | None = None
    cost_usd: float | None = None
    # Log-probabilities of answering "yes"/"no" as the first token, where the backend gives them.
    yes_logprob: float | None = None
    no_logprob: float | None = None
    # The model version the server reports (may differ from the configured alias).
    model_version: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


ErrorKind = Literal[
    "timeout", "rate_limit", "server", "auth", "bad_request", "transport", "other"
]


# Non-retryable failures that say nothing about the item asked (wrong key, weights missing, model
# closed): a later run asks such items again by itself. Any other non-retryable failure (a 400,
# a content-policy refusal by the API, a backend crash on this input) is permanent for that item
# and is only asked again when the run says so (probe.retry_failed). Retryable failures that ran
# out of retries (429, 5xx, timeouts) are always asked again on the next run.
SETUP_ERROR_KINDS = frozenset({"auth", "transport", "rate_limit", "load", "closed"})


class ModelCallError(Exception):
    """A call that produced no answer. Never a "no": the probe records it as ``error``.

    ``retryable`` tells the call runner whether another attempt can help; ``retry_after`` is
    the server's own hint in seconds (HTTP Retry-After), honoured before backoff.
    """

    def __init__(
        self,
        kind: ErrorKind,
        message: str,
        *,
        retryable: bool,
        retry_after: float | None = None,
        status: int | None = None,
    ) -> None:
        super().__init__(f"{kind}: {message}")
        self.kind = kind
        self.retryable = retryable
        self.retry_after = retry_after
        self.status = status


@runtime_checkable
class ChatModel(Protocol):
    """A vision-language model that answers a conversation."""

    name: str  # the config name, e.g. "gpt4o"

    def fingerprint(self) -> dict[str, Any]:
        """Identity of the model for cache keys: backend, model id/version, fixed settings."""
        ...

    async def achat(self, messages: Sequence[Message], params: GenerationParams) -> Reply:
        """Answer ``messages``; raise ``ModelCallError`` when no answer could be had."""
        ...

    async def aclose(self) -> None:
        """Release clients, threads or weights."""
        ...
