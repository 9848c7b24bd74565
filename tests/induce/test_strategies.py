"""Simple and ISQ: the conversation each builds, and how each reads the replies models give."""

from __future__ import annotations

import pytest

from tests.conftest import compose_raw
from valuespectrum.config import load_config
from valuespectrum.induce.personas import Persona
from valuespectrum.induce.strategies import isq_score, make_strategy
from valuespectrum.models.base import ImagePart

IMAGE = ImagePart(b"\xff\xd8 not really a jpeg")
FISHER = Persona(
    "fisherman", ("i own a boat.", "i like to go fishing on the lake."), ("tradition",)
)
NOBODY = Persona("none", ())


def _strategy(*overrides: str):
    cfg = load_config(compose_raw(list(overrides)))
    return make_strategy(cfg.strategy, cfg.threshold)


SIMPLE = _strategy("strategy=simple")
ISQ = _strategy("strategy=isq")

# (case, reply, outcome, decision, trait_num, reason contains)
SIMPLE_REPLIES = [
    ("plain json", '{"decision": "yes", "reason": "boats", "trait_num": "1"}', "yes", 1, "json"),
    ("no", '{"decision": "no", "reason": "dull", "trait_num": "NA"}', "no", None, "json"),
    ("capital Yes", '{"decision": "Yes", "reason": "x", "trait_num": 2}', "yes", 2, "json"),
    ("upper NO", '{"decision": "NO", "reason": "x", "trait_num": "N/A"}', "no", None, "json"),
    ("fenced", '```json\n{"decision": "yes", "reason": "r", "trait_num": 1}\n```', "yes", 1,
     "fenced json"),
    ("fenced no tag", '```\n{"decision": "no", "reason": "r"}\n```', "no", None, "fenced"),
    ("fenced with prose", 'Sure!\n```json\n{"decision": "yes"}\n```\nHope it helps.', "yes",
     None, "fenced json with prose"),
    ("trailing prose", '{"decision": "no", "reason": "r", "trait_num": "NA"} I prefer lakes.',
     "no", None, "json with prose"),
    ("leading prose", 'Here is my answer: {"decision": "yes", "trait_num": "2"}', "yes", 2,
     "with prose"),
    ("single quotes", "{'decision': 'yes', 'reason': \"it's a boat\", 'trait_num': 1}", "yes",
     1, "single quotes"),
    ("python literals", "{'decision': True, 'reason': 'ok', 'trait_num': None}", "yes", None,
     "decision given as true"),
    ("bool false", '{"decision": false, "reason": "no fish", "trait_num": "NA"}', "no", None,
     "decision given as false"),
    ("trailing comma", '{"decision": "yes", "reason": "r",}', "yes", None, "trailing comma"),
    ("cut short", '{"decision": "yes", "reason": "the lake reminds me of', "yes", None,
     "key-value text"),
    ("key lines", "Decision: No\nReason: not for me\nTrait_num: NA", "no", None, "key-value"),
    ("markdown value", '{"decision": "**Yes**", "trait_num": "Trait 2"}', "yes", 2, "json"),
    ("decision sentence", '{"decision": "Yes, I would watch it"}', "yes", None,
     "decision read from"),
    ("decision 1", '{"decision": 1}', "yes", None, "decision given as 1"),
    ("decision string true", '{"decision": "true"}', "yes", None, "decision given as 'true'"),
    ("spaced key", '{"Decision ": "no", "Trait Num": "3"}', "no", 3, "json"),
    ("several traits", '{"decision": "yes", "trait_num": "1, 2"}', "yes", [1, 2], "json"),
    ("plain yes", "Yes.", "yes", None, "plain answer"),
    ("plain no", "No, I would swipe.", "no", None, "plain answer"),
    ("maybe", '{"decision": "maybe", "reason": "hm"}', "invalid", None, "is not yes or no"),
    ("no decision", '{"reason": "nice", "trait_num": 1}', "invalid", None, "without a decision"),
    ("refusal", "As an AI, I cannot have interests.", "invalid", None, "no plain yes or no"),
    ("empty", "", "invalid", None, "empty reply"),
    ("garbage braces", "{{{ decision ???", "invalid", None, "cannot be read"),
    ("both", "yes and no", "invalid", None, "no plain yes or no"),
]


@pytest.mark.parametrize(("case", "reply", "outcome", "trait", "why"), SIMPLE_REPLIES,
                         ids=[c[0] for c in SIMPLE_REPLIES])  # fmt: skip
def test_simple_reads_replies_leniently_where_the_meaning_is_clear(
    case: str, reply: str, outcome: str, trait, why: str
) -> None:
    decision = SIMPLE.parse(reply)
    assert decision.outcome == outcome, decision
    assert decision.stay == {"yes": True, "no": False, "invalid": None}[outcome]
    assert why in decision.parse_reason
    assert decision.score_pct is None
    if outcome != "invalid":
        assert decision.fields["decision"] == outcome
        assert decision.fields["trait_num"] == trait


def _isq(va=8, cs=7, ee=6, ve=9, pa=1, ad=1) -> str:
    return (f'{{"visual_appeal": {va}, "curiosity_stimulation": {cs}, "emotional_engagement": '
            f'{ee}, "value_expectation": {ve}, "preference_alignment": {pa}, '
            f'"action_decision": {ad}}}')  # fmt: skip


HIGH = (8 + 7 + 6 + 9 + 10 + 10) / 60 * 100  # S% of _isq()
# (case, reply, outcome, S% or None, reason contains)
ISQ_REPLIES = [
    ("all high", _isq(), "yes", HIGH, "json"),
    ("all low", _isq(1, 1, 1, 1, 0, 0), "no", 4 / 60 * 100, "json"),
    ("exactly 60 is no stay", _isq(4, 4, 4, 4, 1, 1), "no", 60.0, "json"),
    ("just above 60", _isq(5, 4, 4, 4, 1, 1), "yes", 37 / 60 * 100, "json"),
    ("high ratings, no alignment", _isq(10, 10, 10, 10, 0, 0), "yes", 40 / 60 * 100, "json"),
    ("strings", _isq('"8"', '"7"', '"6"', '"9"', '"1"', '"1"'), "yes", HIGH, "json"),
    ("out of ten", _isq('"8/10"', '"7 out of 10"', 6, 9, 1, 1), "yes", HIGH, "json"),
    ("yes/no binaries", _isq(8, 7, 6, 9, '"Yes"', '"no"'), "yes", 40 / 60 * 100,
     "given as 'yes'"),
    ("bool binaries", _isq(8, 7, 6, 9, "true", "false"), "yes", 40 / 60 * 100,
     "given as true"),
    ("zero clamped", _isq(0, 7, 6, 9, 1, 1), "yes", (1 + 7 + 6 + 9 + 20) / 60 * 100,
     "clamped visual_appeal 0->1"),
    ("floats", _isq(7.5, 7, 6, 9.5, 1, 1), "yes", HIGH, "json"),
    ("fenced", f"```json\n{_isq()}\n```", "yes", HIGH, "fenced json"),
    ("trailing prose", _isq() + "\nThis video fits me well.", "yes", HIGH,
     "json with prose"),
    ("single quotes", _isq().replace('"', "'"), "yes", HIGH, "single quotes"),
    ("aliases", '{"v_a": 8, "c_s": 7, "e_e": 6, "v_e": 9, "p_a": 1, "a_d": 1}', "yes",
     HIGH, "json"),
    ("spaced keys", '{"Visual Appeal": 8, "Curiosity Stimulation": 7, "Emotional Engagement": 6,'
     ' "Value Expectation": 9, "Preference Alignment": 1, "Action Decision": 1}', "yes",
     HIGH, "json"),
    ("questionnaire lines", "visual_appeal: 8\ncuriosity_stimulation: 7\nemotional_engagement: 6"
     "\nvalue_expectation: 9\npreference_alignment: 1\naction_decision: 0", "yes",
     40 / 60 * 100, "key-value text"),
    ("cut short", _isq()[:-25], "invalid", None, "without"),
    ("missing field", '{"visual_appeal": 8, "curiosity_stimulation": 7}', "invalid", None,
     "without emotional_engagement"),
    ("rating too high", _isq(15), "invalid", None, "visual_appeal 15"),
    ("negative rating", _isq(-2), "invalid", None, "is not a rating 1-10"),
    ("binary 5", _isq(pa=5), "invalid", None, "preference_alignment 5 is not 0 or 1"),
    ("word rating", _isq('"high"'), "invalid", None, "visual_appeal 'high'"),
    ("echoed form", "visual_appeal: how visually appealing the picture is to you, 1-10",
     "invalid", None, "without"),
    ("refusal", "I'm sorry, I can't rate images.", "invalid", None, "no JSON object"),
    ("empty", "   ", "invalid", None, "empty reply"),
]


@pytest.mark.parametrize(("case", "reply", "outcome", "score", "why"), ISQ_REPLIES,
                         ids=[c[0] for c in ISQ_REPLIES])  # fmt: skip
def test_isq_scores_replies_and_stays_above_the_threshold(
    case: str, reply: str, outcome: str, score: float | None, why: str
) -> None:
    decision = ISQ.parse(reply)
    assert decision.outcome == outcome, decision
    assert why in decision.parse_reason, decision.parse_reason
    if score is None:
        assert decision.stay is None and decision.score_pct is None
    else:
        assert decision.score_pct == pytest.approx(score)
        assert decision.stay == (decision.score_pct > 60)


def test_isq_score_is_the_papers_formula() -> None:
    assert isq_score(10, 10, 10, 10, 1, 1) == 100
    assert isq_score(1, 1, 1, 1, 0, 0) == pytest.approx(100 * 4 / 60)
    assert isq_score(6, 6, 6, 6, 1, 0) == pytest.approx(100 * 34 / 60)


def test_the_threshold_decides_isq_stays_not_the_reply() -> None:
    reply = _isq(6, 6, 6, 6, 1, 0)  # S% = 56.7
    assert _strategy("strategy=isq", "threshold='50'").parse(reply).stay is True
    assert ISQ.parse(reply).stay is False  # paper: 60
    assert _strategy("strategy=isq", "threshold='40'").parse(_isq(1, 1, 1, 1, 1, 1)).stay is False


def test_clamped_ratings_are_recorded() -> None:
    decision = ISQ.parse(_isq(0, 0, 6, 9, 1, 1))
    assert decision.fields["clamped"] == ["visual_appeal", "curiosity_stimulation"]
    assert decision.fields["visual_appeal"] == 1
    assert ISQ.parse(_isq()).fields["clamped"] == []


def test_simple_prompt_numbers_the_traits_in_the_papers_words() -> None:
    (user,) = SIMPLE.messages(FISHER, IMAGE)
    intro, image, reply = user.content
    assert intro.startswith("You are a person who contains certain traits")
    assert "1. i own a boat.\n2. i like to go fishing on the lake." in intro
    assert "interested in the content of the given picture" in intro
    assert image is IMAGE
    assert '"decision"' in reply and '"trait_num"' in reply
    assert "tradition" not in intro + reply  # the favours are never shown


def test_isq_prompt_asks_the_six_items_and_hides_the_threshold() -> None:
    (user,) = ISQ.messages(FISHER, IMAGE)
    text = " ".join(p for p in user.content if isinstance(p, str))
    for name in ("visual_appeal", "curiosity_stimulation", "emotional_engagement",
                 "value_expectation", "preference_alignment", "action_decision"):  # fmt: skip
        assert name in text
    assert "60" not in text and "threshold" not in text
    assert "1. i own a boat." in text


@pytest.mark.parametrize("strategy", [SIMPLE, ISQ], ids=["simple", "isq"])
def test_without_a_persona_the_prompt_mentions_no_traits(strategy) -> None:
    (user,) = strategy.messages(NOBODY, IMAGE)
    text = " ".join(p for p in user.content if isinstance(p, str)).lower()
    assert "trait" not in text and "statements" not in text and "1." not in text
    assert IMAGE in user.content


def test_a_reworded_prompt_gets_its_own_version_and_a_system_turn_when_given() -> None:
    assert SIMPLE.version == "simple-v1" and ISQ.version == "isq-v1"
    reworded = _strategy("strategy.intro='Imagine you are: {traits}'")
    assert reworded.version.startswith("simple-v1+custom-")
    assert reworded.messages(FISHER, IMAGE)[0].content[0].startswith("Imagine you are: 1. i own")
    with_system = _strategy("strategy.system='You role-play.'")
    turns = with_system.messages(FISHER, IMAGE)
    assert [t.role for t in turns] == ["system", "user"]
    assert with_system.version != SIMPLE.version
