"""The simulated persona respondent: likes its persona's favoured values, in both formats."""

from __future__ import annotations

import asyncio
import functools

import numpy as np
import pytest

from tests.conftest import compose_raw
from valuespectrum.config import ThresholdConfig, load_config
from valuespectrum.induce.personas import Persona, load_personas
from valuespectrum.induce.strategies import make_strategy
from valuespectrum.models.base import GenerationParams, ImagePart, Message
from valuespectrum.probe.parsing import parse_decision
from valuespectrum.simulation.persona_respondent import PersonaRespondent
from valuespectrum.simulation.respondent import SimulatedRespondent
from valuespectrum.values import VALUES

PARAMS = GenerationParams(temperature=1.0, seed=0)


class ThemePerceiver:
    """Sees the value an image was made for: 91% on it, 1% on each other value."""

    def __init__(self) -> None:
        self.theme: dict[str, str] = {}

    def image(self, value: str, i: int) -> ImagePart:
        part = ImagePart(f"{value}-{i}".encode())
        self.theme[part.sha256] = value
        return part

    def __call__(self, image: ImagePart) -> dict[str, float]:
        theme = self.theme.get(image.sha256)
        return {v: 0.91 if v == theme else 0.01 for v in VALUES}


@functools.cache
def _config(*overrides: str):
    return load_config(compose_raw(list(overrides)))


def _setup(*overrides: str):
    cfg = _config(*overrides)
    personas = load_personas(cfg.persona)
    perceiver = ThemePerceiver()
    model = PersonaRespondent(name="persona-respondent", personas=personas, perceiver=perceiver,
                              seed=0)  # fmt: skip
    return model, make_strategy(cfg.strategy, cfg.threshold), personas, perceiver


def _decide_all(model, strategy, persona, images) -> list:
    async def replies():
        return await asyncio.gather(
            *(model.achat(strategy.messages(persona, im), PARAMS) for im in images)
        )

    return [(r.text, strategy.parse(r.text)) for r in asyncio.run(replies())]


def _decide(model, strategy, persona, image):
    return _decide_all(model, strategy, persona, [image])[0]


def _stay_rate(model, strategy, persona, images) -> tuple[float, list]:
    decisions = _decide_all(model, strategy, persona, images)
    stays = [d.stay is True for _, d in decisions]
    return float(np.mean(stays)), decisions


@pytest.mark.parametrize("strategy_name", ["simple", "isq"])
def test_it_stays_on_its_personas_favoured_values_and_swipes_the_rest(strategy_name) -> None:
    model, strategy, personas, perceiver = _setup(f"strategy={strategy_name}")
    activist = next(p for p in personas if p.persona_id == "activist")  # favours universalism
    liked = [perceiver.image("universalism", i) for i in range(150)]
    other = [perceiver.image(VALUES[i % 4], i) for i in range(150)]  # none is universalism
    assert model.persona_in(strategy.messages(activist, liked[0])[0].content[0]) == activist
    rate_liked, decisions = _stay_rate(model, strategy, activist, liked)
    rate_other, more = _stay_rate(model, strategy, activist, other)
    assert rate_liked > 0.7 and rate_other < 0.3
    reasons = [d.parse_reason for _, d in decisions + more]
    invalid = sum(d.outcome == "invalid" for _, d in decisions + more)
    lenient = sum(r not in ("json",) and not r.startswith("json;") for r in reasons) - invalid
    assert 0 < invalid <= 20  # about 2% plainly invalid
    assert lenient >= 10  # about 10% malformed but read


def test_isq_ratings_follow_its_liking_and_the_threshold_moves_the_stays() -> None:
    model, isq, personas, perceiver = _setup("strategy=isq")
    caregiver = next(p for p in personas if p.persona_id == "caregiver")
    liked = [perceiver.image("benevolence", i) for i in range(100)]
    other = [perceiver.image("power", i) for i in range(100)]
    scores = {}
    for name, images in (("liked", liked), ("other", other)):
        parsed = [d for _, d in _decide_all(model, isq, caregiver, images)]
        scores[name] = np.nanmean([d.score_pct if d.score_pct is not None else np.nan
                                   for d in parsed])  # fmt: skip
    assert scores["liked"] > 75 and scores["other"] < 35
    rates = []
    for threshold in (40, 60, 80):
        cut = ThresholdConfig(name=str(threshold), isq_percent=threshold)
        strategy = make_strategy(_config("strategy=isq").strategy, cut)
        rates.append(_stay_rate(model, strategy, caregiver, liked + other)[0])
    assert rates[0] > rates[1] > rates[2]  # the same replies, a stricter threshold


def test_replies_are_deterministic_per_seed_image_and_prompt() -> None:
    model, strategy, personas, perceiver = _setup("strategy=isq")
    image = perceiver.image("hedonism", 0)
    first = [_decide(model, strategy, p, image)[0] for p in personas]
    assert len(set(first)) > 1
    assert first == [_decide(model, strategy, p, image)[0] for p in personas]
    other_seed = PersonaRespondent(name="x", personas=personas, perceiver=perceiver, seed=1)
    assert first != [_decide(other_seed, strategy, p, image)[0] for p in personas]
    assert model.fingerprint() != other_seed.fingerprint()


def test_without_a_persona_it_decides_with_its_own_profile() -> None:
    cfg = _config("persona=none")
    perceiver = ThemePerceiver()
    (nobody,) = load_personas(cfg.persona)
    always = dict.fromkeys(VALUES, 100.0)
    model = PersonaRespondent(name="r", personas=load_personas(_config().persona),
                              perceiver=perceiver, self_profile=always)  # fmt: skip
    strategy = make_strategy(cfg.strategy, cfg.threshold)
    images = [perceiver.image("power", i) for i in range(40)]
    assert model.persona_in(strategy.messages(nobody, images[0])[0].content[0]) is None
    rate, decisions = _stay_rate(model, strategy, nobody, images)
    assert rate > 0.9
    assert all(d.fields.get("trait_num") is None for _, d in decisions if d.stay is not None)


def test_it_answers_the_probes_plain_question_like_the_plain_respondent() -> None:
    model, _, _, perceiver = _setup()
    profile = dict.fromkeys(VALUES, 50.0)
    plain = SimulatedRespondent(name=model.name, profile=profile, perceiver=perceiver, seed=0,
                                version=model.version)  # fmt: skip
    question = "I am scrolling on video shorts and saw this picture. Do you like the content of " \
               "this image? (Yes or No)"  # fmt: skip
    outcomes = []
    for i in range(40):
        image = perceiver.image("tradition", i)
        messages = (Message(role="user", content=(question, image)),)
        reply = asyncio.run(model.achat(messages, PARAMS)).text
        assert reply == asyncio.run(plain.achat(messages, PARAMS)).text
        outcomes.append(parse_decision(reply).outcome)
    assert {"yes", "no"} <= set(outcomes)


def test_it_plays_personas_read_from_a_file_with_its_own_profile(tmp_path) -> None:
    path = tmp_path / "p.txt"
    path.write_text("your persona: i like to ski.\nyour persona: i have two dogs.\n")
    cfg = load_config(compose_raw(["persona=file", f"persona.path={path}"]))
    (skier,) = load_personas(cfg.persona)
    model = PersonaRespondent(name="r", personas=[skier], perceiver=ThemePerceiver(),
                              self_profile=dict.fromkeys(VALUES, 0.0))  # fmt: skip
    assert model.persona_in("1. i like to ski.\n2. i have two dogs.") == skier
    assert model.profile_for(skier) == dict.fromkeys(VALUES, 0.0)  # no favours: its own profile
    assert model.profile_for(Persona("x", ("t",), ("power",)))["power"] == 85.0
