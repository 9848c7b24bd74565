"""A SIMULATED respondent with a known value profile: the instrument's known-truth check.

It is not a VLM. It perceives an image through a ``Perceiver`` (which value the image expresses,
as a probability over the ten values: from its caption's similarity to the value definitions,
or, with ``oracle`` perception, the demo image's known theme), says yes with probability
``sum_v p(v | image) * profile[v] / 100``, and phrases the answer in varied natural language
(``simulation.wording``) — now and then refusing, rambling or saying it cannot see the image,
like real models do. Asked to describe the image (the paper's third question), it writes what it
perceives (``simulation.descriptions``); asked about a description without an image (the
modality ablation's text-only question), it reads that text (its perceiver's ``read``, the
caption encoder against the value definitions) and answers from what it read. It reads the
question it is asked (``simulation.questions``: reverse-keyed or not, the option named first)
and can be given known answering effects (acquiescence, order bias, wording sensitivity; none
by default). Because it knows these probabilities, it knows the score each value should get on
the images it was shown (``expected_outcomes``, aggregated by ``scoring.expected_scores``): if
the pipeline (prompting, parsing, scoring) is sound, every recovered score lies within its CI of
that expectation, up to the CI's own miss rate. Every table and plot that shows its numbers
labels them as simulated.
"""

from __future__ import annotations

import dataclasses
import hashlib
import random
import re
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from valuespectrum.models.base import GenerationParams, ImagePart, Message, Reply
from valuespectrum.simulation import descriptions
from valuespectrum.simulation.questions import AnswerEffects, read_question
from valuespectrum.simulation.wording import WORDING_VERSION, reply_text
from valuespectrum.values import VALUES

Perceiver = Callable[[ImagePart], Mapping[str, float]]

WHY_TEMPLATE = "Because it relates to {value}, which I {verb}."
_DESCRIBE = re.compile(r"\bdescribe\b", re.I)


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
            "wording": WORDING_VERSION, "describes": descriptions.DESCRIPTION_VERSION,
            "perceiver": getattr(self.perceiver, "describe", dict)(),
            "reads": getattr(getattr(self.perceiver, "read", None), "describe", dict)(),
            # only when set: effects are new, and a respondent without them answers as before
            # (its describe and read versions above did change its keys once, since it now
            # describes instead of answering yes or no to the describe question)
            **({"effects": dataclasses.asdict(self.effects)} if self.effects else {}),
        }

    def p_yes(self, image: ImagePart | None, question: str = "",
              perceived: Mapping[str, float] | None = None) -> float:
        """Probability of a "yes" to ``question`` about ``image`` (or about what was
        ``perceived``): its p(like) under the profile, through the answering effects
        (``simulation.questions``; none by default)."""
        perceived = self.perceiver(image) if perceived is None else perceived
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
        turns = sum(1 for m in messages if m.role == "user")
        if image is None and getattr(self.perceiver, "read", None) is None:
            text = "I need to see an image to answer."
        elif image is None:
            text = self._answer_text(messages, params, turns)
        else:
            rng = self._rng(image, messages, params)
            if turns > 1:
                text = self._why(image, rng)
            elif _DESCRIBE.search(_question(messages)):
                text = self._describe(image, rng)
            else:
                text = self._decide(image, rng, _question(messages))
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

    def _decide(self, image: ImagePart | None, rng: random.Random, question: str,
                perceived: Mapping[str, float] | None = None) -> str:
        u = rng.random()
        for outcome, rate in (
            ("refusal", self.refusal_rate), ("invalid", self.invalid_rate),
            ("no_image", self.no_image_rate),
        ):
            if u < rate:
                return reply_text(outcome, rng)
            u -= rate
        says_yes = rng.random() < self.p_yes(image, question, perceived)
        return reply_text("yes" if says_yes else "no", rng)

    def _why(self, image: ImagePart | None, rng: random.Random,
             perceived: Mapping[str, float] | None = None) -> str:
        perceived = self.perceiver(image) if perceived is None else perceived
        top = max(perceived, key=lambda v: perceived[v])
        verb = "care about" if self.profile[top] >= 50 else "don't find appealing"
        return WHY_TEMPLATE.format(value=top.replace("_", "-"), verb=verb)

    def _rng(
        self, image: ImagePart | None, messages: Sequence[Message], params: GenerationParams
    ) -> random.Random:
        text = "|".join(p for m in messages for p in m.content if isinstance(p, str))
        seen = image.sha256 if image is not None else "text"
        key = f"{self.seed}|{params.seed}|{seen}|{text}|{params.temperature}"
        return random.Random(int(hashlib.sha256(key.encode()).hexdigest()[:16], 16))

    # The modality ablation: describing an image, and answering on a description alone.

    def expected_text_outcomes(self, text: str) -> tuple[float, float, float]:
        """``expected_outcomes`` of the text-only question ``text`` (a description in it).
        The answering effects are not applied to text questions: a description's own words
        ("skip", "dislike") must not read as a reverse-keyed question."""
        answering = 1.0 - self.refusal_rate - self.invalid_rate - self.no_image_rate
        p = self.p_yes(None, perceived=self._read(text))
        return answering * p, answering * (1.0 - p), 1.0 - self.no_image_rate

    def prime_texts(self, texts: Sequence[str]) -> None:
        """Read the text-only questions ``texts`` ahead, in one batch (no reply changes)."""
        prime = getattr(getattr(self.perceiver, "read", None), "prime", None)
        if prime is not None:
            prime(list(texts))

    def _describe(self, image: ImagePart, rng: random.Random) -> str:
        """What it perceives, told as a scene; now and then a refusal or a missing image."""
        u = rng.random()
        if u < self.refusal_rate:
            return rng.choice(descriptions.REFUSALS)
        if u < self.refusal_rate + self.no_image_rate:
            return rng.choice(descriptions.NO_IMAGE)
        perceived = self.perceiver(image)
        value = rng.choices(VALUES, weights=[perceived[v] for v in VALUES])[0]
        return descriptions.description_text(value, rng)

    def _answer_text(self, messages: Sequence[Message], params: GenerationParams,
                     turns: int) -> str:
        rng = self._rng(None, messages, params)
        perceived = self._read(_question(messages, first=True))
        return (self._why(None, rng, perceived) if turns > 1
                else self._decide(None, rng, "", perceived))

    def _read(self, text: str) -> Mapping[str, float]:
        read = getattr(self.perceiver, "read", None)
        if read is None:
            raise ValueError("this respondent's perceiver cannot read text: build it with "
                             "perception.corpus_perceiver and embedder.caption_encoder=minilm")
        return read(text)


def _question(messages: Sequence[Message], first: bool = False) -> str:
    """The text of the last (or first) user turn."""
    turns = [m for m in messages if m.role == "user"]
    turn = turns[0] if first else turns[-1]
    return " ".join(p for p in turn.content if isinstance(p, str))
