"""The judge's prompt, the labels read from its replies, which replies it is asked about, and
how its verdicts are compared with the rules'."""

from __future__ import annotations

import math

import pytest

from valuespectrum.probe.judge import (
    LABELS,
    agreement,
    judge_messages,
    needs_judge,
    parse_verdict,
    sampled,
)

VERDICTS: list[tuple[str | None, str]] = [
    ("yes", "yes"),
    ("Yes.", "yes"),
    ("no", "no"),
    ("No", "no"),
    ("refusal", "refusal"),
    ("no_image", "no_image"),
    ("no image", "no_image"),
    ("No-image", "no_image"),
    ("invalid", "invalid"),
    ("**yes**", "yes"),
    ("Label: no", "no"),
    ("label: no_image", "no_image"),
    ("maybe", "invalid"),
    ("", "invalid"),
    (None, "invalid"),
]


@pytest.mark.parametrize(("reply", "label"), VERDICTS)
def test_parse_verdict(reply: str | None, label: str) -> None:
    assert parse_verdict(reply) == label


def test_judge_reads_text_only_with_the_reply_quoted() -> None:
    messages = judge_messages("Do you like it? (Yes or No)", "  Meh, kinda?  ")
    assert [m.role for m in messages] == ["system", "user"]
    user = messages[1].content
    assert all(isinstance(p, str) for m in messages for p in m.content)  # never the image
    assert "<reply>Meh, kinda?</reply>" in user[0] and "Do you like it?" in user[0]
    assert all(label in user[0] for label in LABELS)


def test_every_invalid_reply_is_judged_and_a_fixed_share_of_the_others() -> None:
    fingerprints = [f"{i:064x}" for i in range(4000)]
    assert all(needs_judge("invalid", fp, 0.0) for fp in fingerprints[:50])
    assert not any(needs_judge("yes", fp, 0.0) for fp in fingerprints)
    share = sum(sampled(fp, 0.25) for fp in fingerprints) / len(fingerprints)
    assert share == pytest.approx(0.25, abs=0.03)
    assert [sampled(fp, 0.25) for fp in fingerprints[:200]] == [
        sampled(fp, 0.25) for fp in fingerprints[:200]
    ]  # the same replies on every run, so re-runs hit the cache
    assert all(sampled(fp, 1.0) for fp in fingerprints[:200])


def test_agreement_counts() -> None:
    pairs = [
        ("invalid", "yes"), ("invalid", "invalid"), ("invalid", "error"),  # left invalid
        ("yes", "yes"), ("no", "no"), ("no", "yes"), ("refusal", "refusal"),  # sampled
        ("yes", None), ("error", None), ("no", float("nan")),  # not judged
    ]
    out = agreement(pairs)
    assert (out["judged"], out["decided"], out["failed"], out["sampled"]) == (6, 1, 1, 4)
    assert out["agreement"] == pytest.approx(3 / 4)
    assert math.isnan(agreement([("invalid", "no")])["agreement"])
