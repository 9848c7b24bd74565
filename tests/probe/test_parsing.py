"""Table-driven tests of the decision parser on replies of the kind real VLMs give."""

from __future__ import annotations

import pytest

from valuespectrum.probe.parsing import REASONS, ParsedAnswer, parse_decision

# (id, reply, outcome, reason or None when any reason is fine)
CASES: list[tuple[str, str | None, str, str | None]] = [
    # --- plain answers, case and punctuation
    ("yes-bare", "Yes", "yes", "answer-word"),
    ("yes-period", "Yes.", "yes", "answer-word"),
    ("yes-bang-lower", "yes!", "yes", "answer-word"),
    ("yes-caps", "YES", "yes", "answer-word"),
    ("no-bare", "No", "no", "answer-word"),
    ("no-period", "No.", "no", "answer-word"),
    ("no-caps-bang", "NO!", "no", "answer-word"),
    ("yes-padded", "  \n Yes \n", "yes", "answer-word"),
    ("yes-quoted", '"Yes"', "yes", "answer-word"),
    ("yes-single-quoted", "'Yes.'", "yes", "answer-word"),
    ("yes-curly-quoted", "\u201cYes\u201d", "yes", "answer-word"),
    ("yes-paren", "(Yes)", "yes", "answer-word"),
    # --- markdown and labels
    ("md-bold-yes", "**Yes**", "yes", "answer-word"),
    ("md-heading-no", "# No", "no", "answer-word"),
    ("md-bold-label", "**Answer:** No", "no", "answer-word"),
    ("md-quote", "> Yes, I like it.", "yes", "answer-word"),
    ("md-bullet", "- No", "no", "answer-word"),
    ("md-code", "`yes`", "yes", "answer-word"),
    ("md-italic", "_No_", "no", "answer-word"),
    ("label-answer", "Answer: Yes", "yes", "answer-word"),
    ("label-final", "Final answer: no.", "no", "answer-word"),
    ("label-decision", "Decision - Yes", "yes", "answer-word"),
    ("my-answer-is", "My answer is yes.", "yes", "answer-word"),
    ("id-say", "I'd say no.", "no", "answer-word"),
    ("well-yes", "Well, yes. It looks like a lot of fun.", "yes", "answer-word"),
    ("honestly-no", "Honestly? No.", "no", "answer-word"),
    # --- JSON
    ("json-answer", '{"answer": "yes"}', "yes", "json-field"),
    ("json-decision", '{"decision":"no"}', "no", "json-field"),
    (
        "json-fenced",
        '```json\n{"decision": "Yes", "reason": "Looks fun", "trait_num": "2"}\n```',
        "yes",
        "json-field",
    ),
    ("json-embedded", 'Here is my answer: {"Answer": "No."}', "no", "json-field"),
    ("json-bool", '{"like": true}', "yes", "json-field"),
    ("json-no-key", '{"reason": "yes, it is fun"}', "invalid", "json-no-answer"),
    ("json-template-echo", '{"decision": "yes|no"}', "invalid", "json-bad-value"),
    ("json-broken", '{"answer": "yes"', "yes", None),
    ("json-python-dict", "{'answer': 'no'}", "no", None),
    # --- colloquial
    ("nope", "Nope.", "no", "answer-word"),
    ("nah", "Nah, not for me.", "no", "answer-word"),
    ("yeah", "Yeah", "yes", "answer-word"),
    ("yeah-long", "Yeah, I'd keep watching this one.", "yes", "answer-word"),
    ("yep", "Yep!", "yes", "answer-word"),
    ("sure-like", "Sure, I like it", "yes", "answer-word"),
    ("absolutely", "Absolutely", "yes", "answer-word"),
    ("absolutely-not", "Absolutely not.", "no", "answer-word"),
    ("definitely", "Definitely! The sunset is gorgeous.", "yes", "answer-word"),
    ("of-course-not", "Of course not.", "no", "answer-word"),
    ("not-really", "Not really", "no", "answer-word"),
    ("not-at-all", "Not at all, it seems boring.", "no", "answer-word"),
    ("no-i-dont", "No, I don't", "no", "answer-word"),
    ("no-i-dont-nocomma", "No I don't like it", "no", "answer-word"),
    ("yes-dash", "Yes - it looks interesting.", "yes", "answer-word"),
    ("no-not-my-thing", "No, not really my thing.", "no", "answer-word"),
    ("yes-because", "Yes because the dog is cute", "yes", "answer-word"),
    # --- preference phrases and statements
    ("phrase-like", "I like it.", "yes", "answer-phrase"),
    ("phrase-love", "I really love this video!", "yes", "answer-phrase"),
    ("phrase-dont-like", "I don't like this content.", "no", "answer-phrase"),
    ("phrase-dislike", "I dislike it because it is too noisy.", "no", "answer-phrase"),
    ("phrase-not-interested", "I'm not interested.", "no", "answer-phrase"),
    ("statement-choose", "If I had to choose, I would say yes.", "yes", "answer-statement"),
    ("later-sentence", "The image shows a sunny beach. Yes, I like it.", "yes", "answer-word"),
    # --- other languages
    ("es-si", "Sí, me gusta.", "yes", "answer-word"),
    ("es-no", "No me gusta.", "no", "answer-word"),
    ("fr-oui", "Oui", "yes", "answer-word"),
    ("fr-non", "Non, je n'aime pas.", "no", "answer-word"),
    ("de-ja", "Ja!", "yes", "answer-word"),
    ("de-nein", "Nein.", "no", "answer-word"),
    ("pt-nao", "Não.", "no", "answer-word"),
    ("ru-da", "Да", "yes", "answer-word"),
    ("ru-net", "Нет.", "no", "answer-word"),
    ("zh-shi", "是的\uff0c我喜欢\u3002", "yes", "answer-word"),
    ("zh-fou", "否", "no", "answer-word"),
    ("zh-bu-xihuan", "不喜欢", "no", "answer-word"),
    ("ja-hai", "はい、好きです。", "yes", "answer-word"),
    ("ja-iie", "いいえ", "no", "answer-word"),
    ("ko-ne", "네", "yes", "answer-word"),
    # --- ambiguity and conflict
    ("yes-and-no", "Yes and no.", "invalid", "ambiguous"),
    ("both", "Both, really.", "invalid", "ambiguous"),
    ("maybe", "Maybe", "invalid", "ambiguous"),
    ("it-depends", "It depends on my mood.", "invalid", "ambiguous"),
    ("yes-slash-no", "Yes/No", "invalid", "ambiguous"),
    ("conflict", "Yes. Actually, no.", "invalid", "conflict"),
    ("conflict-phrase", "No. I like it though.", "invalid", "conflict"),
    # --- refusals
    ("refuse-as-ai", "As an AI, I don't have personal preferences.", "refusal", "refusal"),
    ("refuse-cant-help", "I'm sorry, but I can't help with that.", "refusal", "refusal"),
    ("refuse-unable", "I'm unable to view images.", "refusal", "refusal"),
    ("refuse-determine", "I cannot determine whether I like this image.", "refusal", "refusal"),
    ("refuse-feelings", "I do not have feelings, so I can't like or dislike it.", "refusal", None),
    (
        "refuse-then-describe",
        "As an AI language model, I don't have personal opinions. However, many viewers would "
        "find this colourful street-food video appealing.",
        "refusal",
        "refusal",
    ),
    ("no-is-refusal", "No, I can't help with that.", "refusal", "refusal"),
    (
        "disclaimer-then-yes",
        "As an AI I don't have preferences, but yes, it looks fun",
        "yes",
        "answer-with-disclaimer",
    ),
    (
        "disclaimer-then-no",
        "I don't have personal feelings. That said, no - this looks dull.",
        "no",
        "answer-with-disclaimer",
    ),
    # --- nothing explicit: do not guess
    ("empty", "", "invalid", "empty"),
    ("whitespace", "   \n\t ", "invalid", "empty"),
    ("none", None, "invalid", "empty"),
    ("only-markdown", "**", "invalid", "empty"),
    (
        "implied-long",
        "The vibrant colours and the joyful expressions of the dancers make this a delight "
        "to watch, and the music seems upbeat and energetic.",
        "invalid",
        "no-explicit-answer",
    ),
    ("implied-interesting", "This content is interesting.", "invalid", "no-explicit-answer"),
    ("yesterday", "Yesterday I saw a similar video.", "invalid", "no-explicit-answer"),
    ("nobody", "Nobody would scroll past this.", "invalid", "no-explicit-answer"),
    ("know", "I know this place, it's Paris.", "invalid", "no-explicit-answer"),
    ("noon", "Noon at the beach, lovely light.", "invalid", "no-explicit-answer"),
    ("no-one", "No one could resist this puppy.", "invalid", "no-explicit-answer"),
    ("no-determiner", "No people are visible in the picture.", "invalid", "no-explicit-answer"),
    ("sure-enough", "Sure enough, the cat jumps.", "invalid", "no-explicit-answer"),
    ("eyes", "The eyes of the cat are green.", "invalid", "no-explicit-answer"),
    ("sure-compliance", "Sure! Here is a description of the image.", "invalid", None),
    ("question-echo", "Yes or No", "invalid", "ambiguous"),
    ("non-hyphen", "Non-stop action all the way.", "invalid", "no-explicit-answer"),
]


@pytest.mark.parametrize(
    ("reply", "outcome", "reason"),
    [pytest.param(reply, outcome, reason, id=case_id) for case_id, reply, outcome, reason in CASES],
)
def test_parse_decision(reply: str | None, outcome: str, reason: str | None) -> None:
    parsed = parse_decision(reply)
    assert parsed.outcome == outcome, parsed
    if reason is not None:
        assert parsed.reason == reason, parsed
    assert parsed.reason in REASONS


def test_case_ids_are_unique_and_table_is_large() -> None:
    ids = [case[0] for case in CASES]
    assert len(ids) == len(set(ids))
    assert len(ids) >= 60


def test_parser_never_returns_error() -> None:
    # "error" belongs to failed calls, recorded by the caller; a reply is never an error.
    outcomes = {parse_decision(reply).outcome for _, reply, _, _ in CASES}
    assert "error" not in outcomes


def test_parsed_answer_is_frozen() -> None:
    parsed = parse_decision("Yes")
    assert parsed == ParsedAnswer("yes", "answer-word")
    with pytest.raises(AttributeError):
        parsed.outcome = "no"  # type: ignore[misc]
