"""The simulated respondent's replies vary as real models' do, and each parses as it meant."""

from __future__ import annotations

import random
import re
from collections import Counter

import pytest

from valuespectrum.probe.parsing import parse_decision
from valuespectrum.simulation.wording import reply_text

OUTCOMES = ("yes", "no", "refusal", "invalid", "no_image")


@pytest.mark.parametrize("outcome", OUTCOMES)
def test_every_wording_parses_as_intended(outcome: str) -> None:
    rng = random.Random(f"wording-{outcome}")
    misread = Counter()
    for _ in range(3000):
        text = reply_text(outcome, rng)
        parsed = parse_decision(text)
        if parsed.outcome != outcome:
            misread[(text, parsed.outcome)] += 1
    assert not misread, misread.most_common(5)


def test_answers_are_perturbed_in_wording_language_and_markup() -> None:
    rng = random.Random(0)
    texts = [reply_text(rng.choice(("yes", "no")), rng) for _ in range(3000)]
    assert len(set(texts)) > 1000
    has = {
        "chinese": any(re.search(r"[\u4e00-\u9fff]", t) for t in texts),
        "japanese": any("はい" in t or "いいえ" in t for t in texts),
        "spanish/french/german": all(any(w in t for t in texts) for w in ("Sí", "Oui", "Ja")),
        "markdown": any(t.startswith(("**", "# ", "> ", "- ")) for t in texts),
        "json": any(t.startswith('{"answer"') for t in texts),
        "upper case": any(t.isupper() for t in texts if re.search("[A-Z]{3}", t)),
        "lower case": any(t[:1].islower() for t in texts),
        "hedges": any(t.startswith(("Honestly", "Hmm", "Well")) for t in texts),
        "prompt echo": any(t.startswith("(Yes or No):") for t in texts),
    }
    assert all(has.values()), has


def test_unknown_outcome_is_refused() -> None:
    with pytest.raises(ValueError, match="maybe"):
        reply_text("maybe", random.Random(0))
