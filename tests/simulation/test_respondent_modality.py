"""The simulated respondent in the modality ablation: it describes what it perceives, and answers
a text-only question from what it reads in the description, with known expectations."""

from __future__ import annotations

import asyncio

import numpy as np
import pytest

from valuespectrum.config import prompt_preset
from valuespectrum.models.base import GenerationParams, ImagePart, Message
from valuespectrum.probe.modality import read_description, text_decision_messages, text_prompts
from valuespectrum.probe.parsing import parse_decision
from valuespectrum.probe.plan import probe_prompts
from valuespectrum.probe.prompts import describe_messages
from valuespectrum.simulation.descriptions import SCENES
from valuespectrum.simulation.respondent import SimulatedRespondent
from valuespectrum.values import VALUES

PARAMS = GenerationParams(temperature=1.0, seed=0)
PROFILE = {v: 10.0 + 9 * i for i, v in enumerate(VALUES)}  # 10 .. 91, all distinct
PAPER = prompt_preset("paper")
TEXT = text_prompts(PAPER)


class Perceiver:
    """Sees the value an image was made for; reads a text's value from the scene it names."""

    def __init__(self) -> None:
        self.theme: dict[str, str] = {}
        self.read_texts: list[str] = []

    def image(self, value: str, i: int) -> ImagePart:
        part = ImagePart(f"{value}-{i}".encode())
        self.theme[part.sha256] = value
        return part

    def __call__(self, image: ImagePart) -> dict[str, float]:
        return {v: float(v == self.theme[image.sha256]) for v in VALUES}

    def read(self, text: str) -> dict[str, float]:
        self.read_texts.append(text)
        named = [v for v in VALUES if any(scene in text for scene in SCENES[v])]
        return {v: float(v in named) for v in VALUES} if named else dict.fromkeys(VALUES, 0.1)


def _respondent(perceiver) -> SimulatedRespondent:
    return SimulatedRespondent(name="r", profile=PROFILE, perceiver=perceiver)


def _ask(model, messages) -> str:
    return asyncio.run(model.achat(messages, PARAMS)).text


def test_it_describes_what_it_perceives_instead_of_answering_yes_or_no() -> None:
    perceiver = Perceiver()
    model = _respondent(perceiver)
    prompts = probe_prompts(PAPER)
    statuses = {"ok": 0, "refused": 0, "no_image": 0, "error": 0, "empty": 0}
    for value in VALUES:
        for i in range(20):
            image = perceiver.image(value, i)
            text = _ask(model, describe_messages(prompts, image))
            read = read_description(text)
            statuses[read.status] += 1
            if read.usable:
                assert any(scene in text for scene in SCENES[value]), text
                assert parse_decision(text).outcome not in ("yes", "no")
    assert statuses["ok"] >= 190 and statuses["error"] == statuses["empty"] == 0


def test_it_answers_a_description_from_what_it_reads_with_known_expectations() -> None:
    perceiver = Perceiver()
    model = _respondent(perceiver)
    rates, expected = {}, {}
    for value in VALUES:
        yes, p = 0, []
        for i in range(200):
            scene = SCENES[value][i % len(SCENES[value])]
            messages = text_decision_messages(TEXT, f"The image shows {scene}. Take {i}.")
            outcome = parse_decision(_ask(model, messages)).outcome
            yes += outcome == "yes"
            p.append(model.expected_text_outcomes(messages[-1].content[0])[0])
        rates[value], expected[value] = yes / 200, float(np.mean(p))
    answering = 1 - model.refusal_rate - model.invalid_rate - model.no_image_rate
    for value in VALUES:  # a perfect reader: the profile, less the replies that do not answer
        assert expected[value] == pytest.approx(answering * PROFILE[value] / 100)
        assert abs(rates[value] - expected[value]) < 0.12, value
    assert all(TEXT.text_decision.split("{")[0] in t for t in perceiver.read_texts)


def test_the_why_of_a_text_question_is_about_what_it_read() -> None:
    model = _respondent(Perceiver())
    for value, verb in (("power", "don't find appealing"), ("security", "care about")):
        first = text_decision_messages(TEXT, f"The image shows {SCENES[value][0]}.")
        why = (*first, Message.text("assistant", "Yes."), Message.text("user", PAPER.why))
        assert _ask(model, why) == f"Because it relates to {value}, which I {verb}."


def test_without_a_reader_a_text_question_gets_no_answer() -> None:
    class Blind:
        def __call__(self, image):
            return dict.fromkeys(VALUES, 0.1)

    model = _respondent(Blind())
    reply = _ask(model, text_decision_messages(TEXT, "A cat."))
    assert reply == "I need to see an image to answer."
    with pytest.raises(ValueError, match="cannot read text"):
        model.expected_text_outcomes("A cat.")
