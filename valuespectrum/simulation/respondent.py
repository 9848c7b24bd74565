"""A SIMULATED respondent with a known value profile: the instrument's known-truth check.

It is not a VLM. It perceives an image through a ``Perceiver`` (which value the image expresses,
as a probability over the ten values: from its caption's similarity to the value definitions,
or, with ``oracle`` perception, the demo image's known theme), says yes with probability
``sum_v p(v | image) * profile[v] / 100``, and phrases the answer in varied natural language
(``simulation.wording``) — now and then refusing, rambling or saying it cannot see the image,
like real models do. Because it knows these probabilities, it knows the score each value
should get on the images it was shown (``expected_outcomes``, aggregated by
``scoring.expected_scores``): if the pipeline (prompting, parsing, scoring) is sound, every
recovered score lies within its CI of that expectation, up to the CI's own miss rate. It reads
the question it is asked (``simulation.questions``: reverse-keyed or not, the option named
first) and can be given known answering effects (acquiescence, order bias, wording
sensitivity; none by default), which its expectations include. Every
table and plot that shows its numbers labels them as simulated.
"""

from __future__ import annotations

import dataclasses
import hashlib
import random
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from valuespectrum.models.base import GenerationParams, ImagePart, Message, Reply
from valuespectrum.simulation.questions import AnswerEffects, read_question
from valuespectrum.simulation.wording import WORDING_VERSION, reply_text
from valuespectrum.values import VALUES

Perceiver = Callable[[ImagePart], Mapping[str, float]]

WHY_TEMPLATE = "Because it relates to {value}, which I {verb}."


class SimulatedRespondent:
    """ChatModel implementation driven by a profile (% yes per value) and a perceiver.

    Randomness is keyed by (seed, image sha256, conversation text), so the same question about
    the same image always gets the same answer: runs are reproducible and the response cache
    behaves as with a deterministic API.
    """

    def __init__(
        self,
        *,
        name: str,
        profile: Mapping[str, float],
        perceiver: Perceiver,
        seed: int = 0,
        refusal_rate: float = 0.02,
        invalid_rate: float = 0.02,
        no_image_rate: float = 0.01,
        version: str = "respondent-v2",
        effects: AnswerEffects | None = None,
    ) -> None:
        missing = [v for v in VALUES if v not in profile]
        if missing:
            raise ValueError(f"respondent profile lacks {missing}; give all ten values (0..100)")
        self.name = name
        self.profile = {v: float(profile[v]) for v in VALUES}
        self.perceiver = perceiver
        self.seed = seed
        self.refusal_rate = refusal_rate
        self.invalid_rate = invalid_rate
        self.no_image_rate = no_image_rate
        self.version = version
        self.effects = effects or AnswerEffects()

    def fingerprint(self) -> dict[str, Any]:
        return {
            "backend": "respondent", "version": self.version, "profile": self.profile,
            "seed": self.seed, "refusal_rate": self.refusal_rate,
            "invalid_rate": self.invalid_rate, "no_image_rate": self.no_image_rate,
            "wording": WORDING_VERSION,
            "perceiver": getattr(self.perceiver, "describe", dict)(),
            # only when set, so the cache keys of a respondent without effects stay as they were
            **({"effects": dataclasses.asdict(self.effects)} if self.effects else {}),
        }

    def p_yes(self, image: ImagePart, question: str = "") -> float:
        """Probability of a "yes" to ``question`` about ``image``: its p(like) under the profile,
        through the answering effects (``simulation.questions``; none by default)."""
        perceived = self.perceiver(image)
        total = sum(perceived.values()) or 1.0
        p_like = sum(w * self.profile[v] / 100.0 for v, w in perceived.items()) / total
        return self.effects.p_yes(p_like, read_question(question)) if question else p_like

    def expected_outcomes(self, image: ImagePart, question: str = "") -> tuple[float, ...]:
        """(p of a "yes" reply, p of a "no" reply, p that the reply enters a score) to
        ``question`` about ``image``: a refusal or an unclear reply is neither, a reply without
        the image is not counted."""
        answering = 1.0 - self.refusal_rate - self.invalid_rate - self.no_image_rate
        p = self.p_yes(image, question)
        return answering * p, answering * (1.0 - p), 1.0 - self.no_image_rate

    async def achat(self, messages: Sequence[Message], params: GenerationParams) -> Reply:
        t0 = time.perf_counter()
        image = next(
            (p for m in messages for p in m.content if isinstance(p, ImagePart)), None
        )
        if image is None:
            text = "I need to see an image to answer."
        else:
            rng = self._rng(image, messages, params)
            turns = sum(1 for m in messages if m.role == "user")
            question = " ".join(p for p in messages[-1].content if isinstance(p, str))
            text = self._why(image, rng) if turns > 1 else self._decide(image, rng, question)
        return Reply(
            text=text,
            latency_s=time.perf_counter() - t0,
            input_tokens=sum(len(str(p).split()) for m in messages for p in m.content),
            output_tokens=len(text.split()),
            cost_usd=0.0,
            model_version=self.version,
        )

    async def aclose(self) -> None:
        return None

    def _decide(self, image: ImagePart, rng: random.Random, question: str) -> str:
        u = rng.random()
        for outcome, rate in (
            ("refusal", self.refusal_rate), ("invalid", self.invalid_rate),
            ("no_image", self.no_image_rate),
        ):
            if u < rate:
                return reply_text(outcome, rng)
            u -= rate
        says_yes = rng.random() < self.p_yes(image, question)
        return reply_text("yes" if says_yes else "no", rng)

    def _why(self, image: ImagePart, rng: random.Random) -> str:
        perceived = self.perceiver(image)
        top = max(perceived, key=lambda v: perceived[v])
        verb = "care about" if self.profile[top] >= 50 else "don't find appealing"
        return WHY_TEMPLATE.format(value=top.replace("_", "-"), verb=verb)

    def _rng(
        self, image: ImagePart, messages: Sequence[Message], params: GenerationParams
    ) -> random.Random:
        text = "|".join(p for m in messages for p in m.content if isinstance(p, str))
        key = f"{self.seed}|{params.seed}|{image.sha256}|{text}|{params.temperature}"
        return random.Random(int(hashlib.sha256(key.encode()).hexdigest()[:16], 16))
