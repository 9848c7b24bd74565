"""``FaultPlan``: a fake-server script whose final outcome per image is known in advance.

A probe over many images through a flaky API must end with exactly the answers the server meant
to give, after retries, and an ``error`` (never a "no") where it never answered. This plan makes
that checkable: faults are a pure function of the seed and the request's content, and the plan
records what it finally served per subject.
"""

from __future__ import annotations

import hashlib
import threading
from collections import Counter
from typing import Any, Literal

from tests.fakes.openai_server import (
    Action,
    garbage,
    hang,
    refuse,
    reply,
    request_images,
    request_texts,
    status,
)

Outcome = Literal["yes", "no", "refuse", "garbage", "error"]
_TRANSIENT = ("rate_limit", "server_error", "hang")
_PERMANENT = ("fail", "reject")


class FaultPlan:
    """A script that injects faults deterministically per image, so final outcomes are known.

    Each request is keyed by the sha256 of its images plus its last user text (so the three
    questions about one image are independent subjects). The subject's *fate* is a pure function
    of ``(seed, key)``: with the given probabilities it is a ``refuse``, ``garbage``,
    ``rate_limit`` (429 with Retry-After), ``server_error`` (500), ``hang``, permanent
    ``fail`` (always 500), permanent ``reject`` (always 400: non-retryable), ``yes``
    (``p_yes``), or else ``no``.

    Transient fates fault on the first ``transient_attempts`` attempts and then answer with the
    subject's own yes/no (a second pure draw, with the yes share of the clean answers), so a
    429 followed by a "yes" counts as ``yes``. ``expected(key, max_retries)`` says what a client
    allowing ``max_retries`` retries ends with. ``final`` records the outcome of the *last*
    answer served per subject (``error`` for a fault) and ``counts()`` tallies it, so a test
    compares what the client stored with what was served.
    """

    def __init__(self, seed: int = 0, *, p_refuse: float = 0.0, p_garbage: float = 0.0,
                 p_429: float = 0.0, p_500: float = 0.0, p_hang: float = 0.0,
                 p_fail: float = 0.0, p_reject: float = 0.0, p_yes: float = 0.5,
                 transient_attempts: int = 1, retry_after: float = 0.01,
                 hang_s: float = 2.0) -> None:
        self.seed = seed
        self._fates = (("refuse", p_refuse), ("garbage", p_garbage), ("rate_limit", p_429),
                       ("server_error", p_500), ("hang", p_hang), ("fail", p_fail),
                       ("reject", p_reject), ("yes", p_yes))
        if sum(p for _, p in self._fates) > 1.0 + 1e-9:
            raise ValueError("FaultPlan probabilities sum to more than 1")
        self.transient_attempts = transient_attempts
        self.retry_after = retry_after
        self.hang_s = hang_s
        self._lock = threading.Lock()
        self.attempts: Counter[str] = Counter()
        self.final: dict[str, Outcome] = {}

    @staticmethod
    def key(body: dict[str, Any]) -> str:
        """The subject of a request: its images' sha256s and its last user text."""
        h = hashlib.sha256()
        for img in request_images(body):
            h.update(hashlib.sha256(img).digest())
        h.update((request_texts(body, ("user",)) or [""])[-1].encode())
        return h.hexdigest()

    def _draw(self, key: str, salt: str) -> float:
        digest = hashlib.sha256(f"{self.seed}:{salt}:{key}".encode()).digest()
        return int.from_bytes(digest[:8], "big") / 2**64

    def fate(self, key: str) -> str:
        u, acc = self._draw(key, "fate"), 0.0
        for name, p in self._fates:
            acc += p
            if u < acc:
                return name
        return "no"

    def answer(self, key: str) -> Outcome:
        """The yes/no a subject with a transient fate gives once the fault has passed."""
        faults = sum(p for name, p in self._fates if name != "yes")
        p_yes = dict(self._fates)["yes"] / max(1e-12, 1.0 - faults)
        return "yes" if self._draw(key, "answer") < p_yes else "no"

    def expected(self, key: str, max_retries: int) -> Outcome:
        """The final outcome for a client that allows ``max_retries`` retries after attempt 1."""
        fate = self.fate(key)
        if fate in _PERMANENT or (fate in _TRANSIENT and self.transient_attempts > max_retries):
            return "error"
        return self.answer(key) if fate in _TRANSIENT else fate  # type: ignore[return-value]

    def counts(self) -> Counter[str]:
        with self._lock:
            return Counter(self.final.values())

    def __call__(self, body: dict[str, Any], _index: int) -> Action:
        key = self.key(body)
        with self._lock:
            self.attempts[key] += 1
            attempt = self.attempts[key]
        fate = self.fate(key)
        action, outcome = self._action(key, fate, attempt)
        with self._lock:
            self.final[key] = outcome
        return action

    def _action(self, key: str, fate: str, attempt: int) -> tuple[Action, Outcome]:
        faulty = fate in _PERMANENT or (fate in _TRANSIENT and attempt <= self.transient_attempts)
        if faulty and fate == "reject":
            return status(400), "error"
        if faulty and fate == "rate_limit":
            return status(429, retry_after=self.retry_after), "error"
        if faulty and fate == "hang":
            return hang(self.hang_s), "error"
        if faulty:
            return status(500), "error"
        if fate in ("refuse", "garbage"):
            return (refuse() if fate == "refuse" else garbage(attempt)), fate  # type: ignore[return-value]
        answer = self.answer(key) if fate in _TRANSIENT else fate
        lp = {"Yes": -0.05, "No": -3.0} if answer == "yes" else {"No": -0.05, "Yes": -3.0}
        return reply(f"{answer.capitalize()}.", logprobs=lp), answer  # type: ignore[return-value]
