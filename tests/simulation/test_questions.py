"""The simulated respondent reads the question it is asked and answers with known effects."""

from __future__ import annotations

import asyncio
import statistics

import pytest
from PIL import Image

from valuespectrum.models.base import GenerationParams, ImagePart, Message
from valuespectrum.probe.options import with_order
from valuespectrum.probe.prompts import blank_like, encode_image
from valuespectrum.simulation.questions import AnswerEffects, read_question
from valuespectrum.simulation.respondent import SimulatedRespondent
from valuespectrum.values import VALUES

FORWARD = "I am scrolling on video shorts and saw this picture. Do you like it? (Yes or No)"
REVERSE = "I am scrolling on video shorts and saw this. Would you scroll past this? (Yes or No)"
PROFILE = {v: 80.0 if v == "power" else 30.0 for v in VALUES}


def _respondent(**effects: float) -> SimulatedRespondent:
    return SimulatedRespondent(
        name="r", profile=PROFILE, seed=0, effects=AnswerEffects(**effects),
        perceiver=lambda image: {v: float(v == "power") for v in VALUES},
    )


def test_it_tells_the_question_apart_from_its_text() -> None:
    forward = read_question(FORWARD)
    assert not forward.reverse and forward.first == "yes_first"
    assert read_question(FORWARD.upper()) == forward  # case and spacing do not matter
    assert read_question(REVERSE).reverse
    assert read_question(with_order(FORWARD, "no_first")).first == "no_first"
    assert read_question("Do you like it?").first is None
    # both answer orders are one wording: they share its shift
    assert read_question(with_order(FORWARD, "no_first")).wording == read_question(FORWARD).wording


def test_each_effect_moves_p_yes_by_its_known_amount() -> None:
    image = ImagePart(b"x")
    plain, p = _respondent(), 0.8
    assert plain.p_yes(image, FORWARD) == pytest.approx(p)
    assert plain.p_yes(image, REVERSE) == pytest.approx(1 - p)
    yes_man = _respondent(acquiescence=15)
    assert yes_man.p_yes(image, FORWARD) == pytest.approx(0.95)
    assert yes_man.p_yes(image, REVERSE) == pytest.approx(0.35)
    assert _respondent(acquiescence=30).p_yes(image, FORWARD) == 1.0  # clipped
    biased = _respondent(order_bias=10)
    assert biased.p_yes(image, FORWARD) == pytest.approx(0.9)
    assert biased.p_yes(image, with_order(FORWARD, "no_first")) == pytest.approx(0.7)
    assert biased.p_yes(image, with_order(REVERSE, "no_first")) == pytest.approx(0.1)
    assert biased.p_yes(image, "Do you like it?") == pytest.approx(0.8)  # no option named first
    yes, no, counted = plain.expected_outcomes(image, REVERSE)
    assert yes == pytest.approx(0.95 * 0.2) and no == pytest.approx(0.95 * 0.8)
    assert counted == pytest.approx(0.99)


def test_wording_sensitivity_is_one_seeded_shift_per_wording_with_the_given_sd() -> None:
    effects = AnswerEffects(wording_sensitivity=8)
    shifts = [effects.shift(read_question(f"Question {i}: do you like it? (Yes or No)"))
              for i in range(2000)]  # fmt: skip
    assert statistics.pstdev(shifts) == pytest.approx(0.08, rel=0.1)
    assert abs(statistics.fmean(shifts)) < 0.01
    q = read_question(FORWARD)
    assert effects.shift(q) == effects.shift(read_question(FORWARD)) != 0
    assert effects.shift(q) == effects.shift(read_question(with_order(FORWARD, "no_first")))
    assert AnswerEffects().shift(q) == 0


def test_without_effects_its_identity_and_answers_are_as_before() -> None:
    plain, effects = _respondent(), _respondent(acquiescence=15)
    assert "effects" not in plain.fingerprint()
    assert effects.fingerprint()["effects"]["acquiescence"] == 15


def test_a_blank_image_is_perceived_as_no_value_and_its_replies_follow_the_question() -> None:
    from valuespectrum.simulation.perception import ThemePerceiver

    shot = encode_image(Image.new("RGB", (40, 60), "red"))
    perceiver = ThemePerceiver({7: "power"})
    perceiver.register(shot.sha256, 7)
    blank = blank_like(shot)
    assert blank != shot and blank_like(shot) == blank  # one grey picture of the same size
    assert perceiver(blank) == dict.fromkeys(VALUES, 0.1)
    r = SimulatedRespondent(name="r", profile=PROFILE, perceiver=perceiver)
    assert r.p_yes(blank, FORWARD) == pytest.approx(statistics.fmean(PROFILE.values()) / 100)
    assert r.p_yes(shot, FORWARD) == pytest.approx(0.8)

    async def ask(question: str) -> str:
        reply = await r.achat((Message(role="user", content=(shot, question)),),
                              GenerationParams(temperature=1.0, seed=0))
        return reply.text

    assert asyncio.run(ask(FORWARD)) == asyncio.run(ask(FORWARD))  # reproducible
