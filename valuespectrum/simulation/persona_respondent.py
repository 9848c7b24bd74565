"""A SIMULATED respondent that plays personas: the role-play's known-truth check.

It is not a VLM. Built with the study's personas, it recognises which one a prompt gives (by
its traits), likes that persona's favoured values (``like`` % stay on them, ``dislike`` % on
the rest; the persona's ``favours`` are never in the prompt, it knows them from the list it was
built with) and perceives each image through the same ``Perceiver`` as ``SimulatedRespondent``
(p(value | image)). Its stay probability is ``sum_v p(v | image) * profile[v] / 100``; without
a persona (persona=none, or traits it does not know) it uses ``self_profile``.

It answers both role-play formats: the Simple JSON ``{"decision", "reason", "trait_num"}`` and
the six ISQ items, whose ratings follow its liking (so S% is high for what it likes and falls
around the threshold it cannot see for what it half likes). Now and then a reply is malformed
but readable (a ```json fence, prose around the object, single quotes, "Yes", numbers as
strings, a 0 on the 1-10 scale) or plainly invalid. The probe's plain question ("Do you like
the content of this image? (Yes or No)") is answered by ``SimulatedRespondent`` with the same
profile. Randomness is keyed by (seed, image sha256, conversation text): the same prompt about
the same image always gets the same reply.
"""

from __future__ import annotations

import hashlib
import json
import random
import time
from collections.abc import Mapping, Sequence
from typing import Any

from valuespectrum.induce.personas import Persona
from valuespectrum.models.base import GenerationParams, ImagePart, Message, Reply
from valuespectrum.simulation.respondent import Perceiver, SimulatedRespondent
from valuespectrum.values import LABELS, VALUES

ISQ_RATINGS = ("visual_appeal", "curiosity_stimulation", "emotional_engagement",
               "value_expectation")  # fmt: skip
PROSE = ("I hope this helps!", "That is my honest take.", "Let me know if you need more.")
INVALID_SIMPLE = (
    "I am not sure how this person would feel about it.",
    '{"decision": "maybe", "reason": "hard to tell"}',
    "",
)
INVALID_ISQ = (
    "I can't rate this picture.",
    '{"visual_appeal": "high", "curiosity_stimulation": "medium"}',
    "",
)


class PersonaRespondent:
    """ChatModel that plays the persona a prompt describes (see the module docstring)."""

    def __init__(
        self,
        *,
        name: str,
        personas: Sequence[Persona],
        perceiver: Perceiver,
        seed: int = 0,
        like: float = 85.0,
        dislike: float = 15.0,
        self_profile: Mapping[str, float] | None = None,
        malformed_rate: float = 0.1,
        invalid_rate: float = 0.02,
        version: str = "persona-respondent-v1",
    ) -> None:
        if not 0 <= dislike <= 100 or not 0 <= like <= 100:
            raise ValueError("like and dislike are % stay, 0..100")
        self.name = name
        self.personas = tuple(p for p in personas if p.traits)
        self.perceiver = perceiver
        self.seed = seed
        self.like, self.dislike = float(like), float(dislike)
        self.self_profile = {v: float((self_profile or {}).get(v, 50.0)) for v in VALUES}
        self.malformed_rate, self.invalid_rate = malformed_rate, invalid_rate
        self.version = version

    @classmethod
    def from_model_config(cls, cfg: Any, personas: Sequence[Persona],
                          perceiver: Perceiver) -> PersonaRespondent:  # fmt: skip
        """From ``model=respondent``'s config: its profile is the no-persona profile."""
        return cls(name=cfg.name, personas=personas, perceiver=perceiver,
                   seed=cfg.generation.seed or 0, self_profile=cfg.profile,
                   version=f"{cfg.model}+personas-v1")  # fmt: skip

    def fingerprint(self) -> dict[str, Any]:
        return {
            "backend": "persona_respondent", "version": self.version, "seed": self.seed,
            "like": self.like, "dislike": self.dislike, "self_profile": self.self_profile,
            "malformed_rate": self.malformed_rate, "invalid_rate": self.invalid_rate,
            "personas": [[p.persona_id, list(p.traits), list(p.favours)] for p in self.personas],
            "perceiver": getattr(self.perceiver, "describe", dict)(),
        }  # fmt: skip

    def persona_in(self, text: str) -> Persona | None:
        """The persona whose traits the prompt shows (most traits present), or None."""
        text = text.lower()
        best, best_key = None, (0, 0)
        for persona in self.personas:
            present = sum(t.lower() in text for t in persona.traits)
            key = (int(present == len(persona.traits)), present)
            if present and key > best_key:
                best, best_key = persona, key
        return best

    def profile_for(self, persona: Persona | None) -> dict[str, float]:
        """% stay per value: ``like`` on the persona's favoured values, ``dislike`` elsewhere."""
        if persona is None or not persona.favours:
            return dict(self.self_profile)
        return {v: self.like if v in persona.favours else self.dislike for v in VALUES}

    def p_stay(self, image: ImagePart, persona: Persona | None) -> float:
        perceived = self.perceiver(image)
        profile = self.profile_for(persona)
        total = sum(perceived.values()) or 1.0
        return sum(w * profile[v] / 100.0 for v, w in perceived.items()) / total

    async def achat(self, messages: Sequence[Message], params: GenerationParams) -> Reply:
        t0 = time.perf_counter()
        text = "\n".join(p for m in messages for p in m.content if isinstance(p, str))
        image = next((p for m in messages for p in m.content if isinstance(p, ImagePart)), None)
        persona = self.persona_in(text)
        if image is not None and "visual_appeal" in text:
            answer = self._isq(image, persona, self._rng(image, text, params))
        elif image is not None and '"decision"' in text:
            answer = self._simple(image, persona, self._rng(image, text, params))
        else:  # the probe's plain question (or no image): the plain respondent, same profile
            plain = SimulatedRespondent(name=self.name, profile=self.profile_for(persona),
                                        perceiver=self.perceiver, seed=self.seed,
                                        version=self.version)  # fmt: skip
            return await plain.achat(messages, params)
        return Reply(
            text=answer, latency_s=time.perf_counter() - t0,
            input_tokens=len(text.split()), output_tokens=len(answer.split()), cost_usd=0.0,
            model_version=self.version,
        )  # fmt: skip

    async def aclose(self) -> None:
        return None

    def _simple(self, image: ImagePart, persona: Persona | None, rng: random.Random) -> str:
        u = rng.random()
        if u < self.invalid_rate:
            return rng.choice(INVALID_SIMPLE)
        stay = rng.random() < self.p_stay(image, persona)
        trait: int | str = "NA"
        if stay and persona is not None:
            trait = rng.randint(1, len(persona.traits))
        reply = {"decision": "yes" if stay else "no", "reason": self._reason(image, stay),
                 "trait_num": str(trait)}  # fmt: skip
        if u < self.invalid_rate + self.malformed_rate:
            if rng.random() < 0.25:
                reply["decision"] = reply["decision"].capitalize()  # "Yes"
            return _malformed(reply, rng)
        return json.dumps(reply)

    def _isq(self, image: ImagePart, persona: Persona | None, rng: random.Random) -> str:
        u = rng.random()
        if u < self.invalid_rate:
            return rng.choice(INVALID_ISQ)
        p = self.p_stay(image, persona)
        intent = rng.random() < p
        level = 0.6 * p + 0.4 * intent  # ratings follow its liking and its decision
        reply: dict[str, Any] = {
            r: min(10, max(1, round(1 + 9 * (level + rng.gauss(0, 0.12))))) for r in ISQ_RATINGS
        }
        reply["preference_alignment"] = int(rng.random() < p)
        reply["action_decision"] = int(intent)
        if u < self.invalid_rate + self.malformed_rate:
            twist = rng.random()
            if twist < 0.25:  # a 0-10 scale: its lowest rating written as 0
                reply = {k: (0 if k in ISQ_RATINGS and v == 1 else v) for k, v in reply.items()}
            elif twist < 0.5:
                reply = {k: str(v) for k, v in reply.items()}  # numbers as strings
            return _malformed(reply, rng)
        return json.dumps(reply)

    def _reason(self, image: ImagePart, stay: bool) -> str:
        perceived = self.perceiver(image)
        top = LABELS.get(max(perceived, key=lambda v: perceived[v]), "it")
        return f"It is about {top.lower()}, which I {'care about' if stay else 'skip'}."

    def _rng(self, image: ImagePart, text: str, params: GenerationParams) -> random.Random:
        key = f"{self.seed}|{params.seed}|{image.sha256}|{text}|{params.temperature}"
        return random.Random(int(hashlib.sha256(key.encode()).hexdigest()[:16], 16))


def _malformed(reply: dict[str, Any], rng: random.Random) -> str:
    """The reply as a model that does not quite follow the format writes it, still readable."""
    body = json.dumps(reply)
    kind = rng.randrange(4)
    if kind == 0:
        return f"```json\n{json.dumps(reply, indent=2)}\n```"
    if kind == 1:
        return f"{body}\n{rng.choice(PROSE)}"
    if kind == 2:
        return f"Here is my answer: {body}"
    return repr(reply)  # single quotes
