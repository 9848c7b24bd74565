"""The modality ablation's pure part: the text-only question and how descriptions are read."""

from __future__ import annotations

import pandas as pd
import pytest

from valuespectrum.config import prompt_preset
from valuespectrum.models.base import ImagePart
from valuespectrum.probe.modality import (
    description_counts,
    missing_rows,
    read_description,
    text_decision_messages,
    text_prompts,
    text_why_messages,
)
from valuespectrum.probe.plan import ANSWER_COLUMNS

PAPER = text_prompts(prompt_preset("paper"))
SCENE = "The image shows a surfer riding a huge wave at sunrise."


def test_the_text_question_carries_the_description_and_no_image() -> None:
    messages = text_decision_messages(PAPER, f"  {SCENE}\n")
    assert [m.role for m in messages] == ["system", "user"]
    assert not any(isinstance(p, ImagePart) for m in messages for p in m.content)
    (question,) = messages[-1].content
    assert SCENE in question and "{description}" not in question
    assert question.endswith("Do you like the content of this picture? (Yes or No)")
    why = text_why_messages(PAPER, SCENE, "Yes.")
    assert [m.role for m in why] == ["system", "user", "assistant", "user"]
    assert why[:2] == messages and why[-1].content == (PAPER.why,)


def test_the_wording_and_the_description_shape_the_fingerprint() -> None:
    other = text_prompts(prompt_preset("prototype"))
    assert PAPER.fingerprint() != other.fingerprint()
    assert text_prompts(prompt_preset("paper")).fingerprint() == PAPER.fingerprint()


@pytest.mark.parametrize(
    ("reply", "status"),
    [
        (SCENE, "ok"),
        ("A man says no to a second slice of cake.", "ok"),  # a "no" in a scene is no refusal
        ("I'm sorry, I can't describe this image.", "refused"),
        ("As an AI, I am unable to help with this request.", "refused"),
        ("I can't see any image attached.", "no_image"),
        ("It seems the image didn't load.", "no_image"),
        ("  \n ", "empty"),
        ("**", "empty"),
    ],
)
def test_descriptions_are_read_as_usable_or_not(reply, status) -> None:
    read = read_description(reply)
    assert read.status == status
    assert (read.text == reply.strip()) if status == "ok" else read.text is None


def test_a_failed_describe_call_is_an_error_with_its_cause() -> None:
    read = read_description(None, "HTTP 400: bad image")
    assert (read.status, read.usable) == ("error", False)
    assert read.reason == "describe call failed: HTTP 400: bad image"


def test_screenshots_without_a_description_are_error_or_no_image_never_no() -> None:
    table = pd.DataFrame({"value": ["power", "power", "security"], "keyword": ["car"] * 3,
                          "rank": [0, 1, 0], "screenshot_id": [1, 2, 3]})
    descriptions = {1: read_description(SCENE), 2: read_description(None, "timeout"),
                    3: read_description("I'm sorry, I can't describe this image.")}
    rows = missing_rows(table, descriptions, {1: "f1", 2: "f2", 3: "f3"}, "run", samples=2)
    frame = pd.DataFrame(rows, columns=list(ANSWER_COLUMNS))
    assert sorted(set(frame["screenshot_id"])) == [2, 3] and len(frame) == 4  # 2 samples each
    by_id = frame.groupby("screenshot_id").first()
    assert by_id.loc[2, "outcome"] == "error" and by_id.loc[3, "outcome"] == "no_image"
    assert set(frame["decided_by"]) == {"describer"}
    assert by_id.loc[2, "fingerprint"] == "f2"
    assert by_id.loc[3, "parse_reason"].startswith("describer refused: I'm sorry")
    counts = description_counts(descriptions)
    assert counts["usage/described"] == 1 and counts["usage/undescribed_error"] == 1
    assert counts["usage/undescribed_refused"] == 1 and counts["usage/undescribed_empty"] == 0


def test_a_description_that_declines_a_detail_is_still_a_description() -> None:
    from valuespectrum.probe.modality import read_description

    long = ("This image appears to show a protest in a city square. I'm not able to identify "
            "the people in it, but the signs read 'climate justice now' and the crowd is "
            "peaceful.")
    assert read_description(long).status == "ok"
    assert read_description("The picture shows a beach at dusk. There is no image of "
                            "violence or harm; a family builds a sandcastle near the water."
                            ).status == "ok"
    assert read_description("I'm sorry, I can't describe this image.").status == "refused"
    assert read_description("I can't see any image attached.").status == "no_image"
