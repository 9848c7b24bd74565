"""Table-driven tests of the decision parser on replies of the kind real VLMs give."""

# Chinese replies are written as models write them, with fullwidth punctuation.
# ruff: noqa: RUF001

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
    ("no-image-unable", "I'm unable to view images.", "no_image", "no-image"),
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


# (reply, outcome): replies of the kinds real models give that the first parser misread or that
# sit next to such a case. One line each, grouped by what they exercise.
REPLIES: list[tuple[str | None, str]] = [
    # --- an intensifier or an apology before the answer word
    ("Definitely yes", "yes"),
    ("Definitely yes!", "yes"),
    ("Absolutely yes.", "yes"),
    ("Certainly yes", "yes"),
    ("Of course yes, it's lovely.", "yes"),
    ("Hell yes!", "yes"),
    ("Oh yes, absolutely.", "yes"),
    ("Totally yes", "yes"),
    ("Really, yes.", "yes"),
    ("Probably yes.", "yes"),
    ("Definitely no.", "no"),
    ("Absolutely not", "no"),
    ("Definitely not!", "no"),
    ("Hell no.", "no"),
    ("Probably not.", "no"),
    ("Sorry, no.", "no"),
    ("Sorry, no", "no"),
    ("I'm sorry, no.", "no"),
    ("Unfortunately, not really.", "no"),
    ("Sorry, not for me.", "no"),
    ("Nope, sorry.", "no"),
    ("Sadly no.", "no"),
    # --- "it's a yes / no from me" and other statements
    ("It's a no from me.", "no"),
    ("It's a yes from me!", "yes"),
    ("That's a hard no.", "no"),
    ("That's a big yes.", "yes"),
    ("It's a yes.", "yes"),
    ("this is a no for me", "no"),
    ("Mine is a yes.", "yes"),
    ("I'd give it a yes.", "yes"),
    ("I'll go with no.", "no"),
    ("I'm going to say yes.", "yes"),
    ("I have to say no.", "no"),
    ("My vote is yes.", "yes"),
    ("Leaning towards no.", "no"),
    ("It's a yes or no question, and the answer is unclear.", "invalid"),
    ("That is no surprise: I love it!", "yes"),
    # --- "I don't think so" and other idioms
    ("I don't think so.", "no"),
    ("I don't think so, it's too loud.", "no"),
    ("Don't think so.", "no"),
    ("I think not.", "no"),
    ("I'm afraid not.", "no"),
    ("I think so.", "yes"),
    ("I guess so.", "yes"),
    ("I do.", "yes"),
    ("I don't.", "no"),
    ("Not a fan.", "no"),
    ("Not my cup of tea.", "no"),
    ("Hard pass.", "no"),
    ("I'll pass.", "no"),
    ("I'm not a fan of it.", "no"),
    ("Love it!", "yes"),
    ("Loving this!", "yes"),
    ("Count me in!", "yes"),
    ("I'm a big fan.", "yes"),
    ("I'm hooked.", "yes"),
    ("Yes please!", "yes"),
    ("No thanks.", "no"),
    ("No thank you.", "no"),
    # --- "can't say no" is a yes, not a refusal
    ("I can't say no to this!", "yes"),
    ("I can't resist this one.", "yes"),
    ("I can't get enough of this!", "yes"),
    ("How could I say no? It's adorable.", "yes"),
    ("I can't say I like it.", "no"),
    ("I can't say I do.", "no"),
    ("I can't say yes to this.", "no"),
    ("I can't say.", "refusal"),
    # --- echoes of the prompt's "(Yes or No)"
    ("(Yes or No): Yes", "yes"),
    ("(Yes or No): No", "no"),
    ("(Yes/No): yes", "yes"),
    ("Yes or No: No.", "no"),
    ("Yes or no? Yes.", "yes"),
    ("Answer (Yes or No): Yes", "yes"),
    ("Do you like the content of this image? (Yes or No) No.", "no"),
    ("Do you like the content of this image? (Yes or No)\nYes, I do.", "yes"),
    ("(Yes or No)", "invalid"),
    ("Yes or no?", "invalid"),
    # --- in-sentence contradictions
    ("Yes, I don't like it.", "invalid"),
    ("Yes, I dislike it.", "invalid"),
    ("No, I love it!", "invalid"),
    ("No, I really like this.", "invalid"),
    ("Yes, but I don't like it.", "invalid"),
    ("No. I'd say yes.", "invalid"),
    ("Yes, I like it, it is not boring at all.", "yes"),
    ("No, I don't like it.", "no"),
    ("No, I don't enjoy this.", "no"),
    ("Yes, I love it.", "yes"),
    ("Yes. I don't like the music, but the video is fun.", "yes"),
    ("No, I'm not interested.", "no"),
    # --- the image did not arrive or cannot be seen: never a score
    ("Unable to view image. Yes.", "no_image"),
    ("I can't see any image.", "no_image"),
    ("I can't see any image attached.", "no_image"),
    ("I don't see an image in your message.", "no_image"),
    ("I'm unable to view the image you provided.", "no_image"),
    ("I cannot access the image. Could you describe it?", "no_image"),
    ("It seems the image didn't load. Please upload it again.", "no_image"),
    ("The image failed to load.", "no_image"),
    ("No image was provided.", "no_image"),
    ("There is no image attached to your message.", "no_image"),
    ("Could you please upload the image?", "no_image"),
    ("Without seeing the image, I can't say.", "no_image"),
    ("Image not received.", "no_image"),
    ("I didn't receive a picture.", "no_image"),
    ("The picture is not visible to me. No.", "no_image"),
    ("I'm not able to see images, but yes!", "no_image"),
    ("我无法查看这张图片。", "no_image"),
    ("我看不到图片。", "no_image"),
    ("图片加载失败", "no_image"),
    ("没有收到图片。", "no_image"),
    ("I can't see the image clearly, but yes.", "yes"),
    ("I don't see the appeal of this image.", "invalid"),
    ("I can't see myself watching this. No.", "no"),
    ("I don't find this picture appealing.", "invalid"),
    # --- Chinese answers and degree adverbs
    ("是", "yes"),
    ("是的", "yes"),
    ("是的。", "yes"),
    ("是的，很有意思。", "yes"),
    ("喜欢", "yes"),
    ("喜欢！", "yes"),
    ("我喜欢。", "yes"),
    ("很喜欢", "yes"),
    ("非常喜欢这个视频。", "yes"),
    ("我挺喜欢的。", "yes"),
    ("还挺喜欢的", "yes"),
    ("比较喜欢", "yes"),
    ("有点喜欢", "yes"),
    ("当然喜欢！", "yes"),
    ("嗯，我很喜欢。", "yes"),
    ("我觉得喜欢", "yes"),
    ("不", "no"),
    ("不。", "no"),
    ("不是", "no"),
    ("否。", "no"),
    ("不喜欢", "no"),
    ("我不喜欢。", "no"),
    ("不太喜欢", "no"),
    ("不太喜欢。", "no"),
    ("我不太喜欢这个。", "no"),
    ("不怎么喜欢", "no"),
    ("不是很喜欢", "no"),
    ("没那么喜欢", "no"),
    ("一点也不喜欢", "no"),
    ("说实话，不太喜欢。", "no"),
    ("还行", "invalid"),
    ("还行吧", "invalid"),
    ("一般般", "invalid"),
    ("还可以。", "invalid"),
    ("不好说", "invalid"),
    ("是的，我不喜欢。", "invalid"),
    ("喜欢，但是不太喜欢音乐。", "yes"),
    ("不喜欢，但是画面很好看。", "no"),
    ("作为一个人工智能，我没有个人喜好。", "refusal"),
    ("不错", "invalid"),
    # --- other languages
    ("Sí.", "yes"),
    ("No, no me gusta.", "no"),
    ("Me gusta mucho.", "yes"),
    ("Oui, j'aime bien.", "yes"),
    ("Non, je n'aime pas.", "no"),
    ("Ja, gefällt mir.", "yes"),
    ("Gefällt mir nicht.", "no"),
    ("Nein, eher nicht.", "no"),
    ("Mi piace!", "yes"),
    ("好きです。", "yes"),
    ("あまり好きではありません。", "no"),
    ("いいえ、好きではありません。", "no"),
    # --- case, punctuation and markdown around the new forms
    ("DEFINITELY YES!!!", "yes"),
    ("**Definitely not.**", "no"),
    ("> Sorry, no.", "no"),
    ("- It's a no from me", "no"),
    ("## Answer: I don't think so", "no"),
    ("`no_image`", "invalid"),
    ('{"answer": "Definitely yes"}', "yes"),
    ('{"answer": "不太喜欢"}', "no"),
    ('{"answer": "yes", "note": "I cannot see the image"}', "no_image"),
    # --- still not answers
    ("Yes yes yes", "invalid"),
    ("It's okay.", "invalid"),
    ("Meh.", "invalid"),
    ("No doubt about it.", "invalid"),
    ("No regrets!", "invalid"),
    ("Eyes on the prize!", "invalid"),
    ("The word 'yes' appears on the sign.", "invalid"),
    # --- refusals stay refusals
    ("I'm sorry, but I can't share personal opinions.", "refusal"),
    ("As an AI, I can't like or dislike images.", "refusal"),
    ("I won't answer that.", "refusal"),
]


# The paper's prototype rule, reproduced by parsing.mode=prototype: "yes" anywhere is a yes.
PROTOTYPE: list[tuple[str | None, str]] = [
    ("Yes", "yes"),
    ("No.", "no"),
    ("Yesterday I saw this.", "yes"),
    ("The eyes are green.", "yes"),
    ("I can't say yes.", "yes"),
    ("Unable to view image. Yes.", "yes"),
    ("Definitely!", "no"),
    ("As an AI, I have no preferences.", "no"),
    ("", "no"),
    (None, "no"),
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


@pytest.mark.parametrize(("reply", "outcome"), REPLIES, ids=[str(r) for r, _ in REPLIES])
def test_parse_reply(reply: str | None, outcome: str) -> None:
    parsed = parse_decision(reply)
    assert parsed.outcome == outcome, parsed
    assert parsed.reason in REASONS


@pytest.mark.parametrize(("reply", "outcome"), PROTOTYPE, ids=[str(r) for r, _ in PROTOTYPE])
def test_prototype_mode_is_the_papers_substring_rule(reply: str | None, outcome: str) -> None:
    assert parse_decision(reply, mode="prototype") == ParsedAnswer(outcome, "prototype")


def test_no_image_wins_over_any_answer_in_the_reply() -> None:
    # A delivery failure, not an opinion: whatever the reply goes on to say, it is never scored.
    for reply in ("Unable to view image. Yes.", "I can't see any image. No.", "图片加载失败。是的"):
        assert parse_decision(reply) == ParsedAnswer("no_image", "no-image")


def test_unknown_mode_is_refused() -> None:
    with pytest.raises(ValueError, match="rules"):
        parse_decision("Yes", mode="strict")


def test_case_ids_are_unique_and_tables_are_large() -> None:
    ids = [case[0] for case in CASES]
    assert len(ids) == len(set(ids))
    assert len(ids) >= 60
    replies = [reply for reply, _ in REPLIES]
    assert len(replies) == len(set(replies)) and len(replies) >= 150
    assert {o for _, o in REPLIES} == {"yes", "no", "refusal", "no_image", "invalid"}


def test_parser_never_returns_error() -> None:
    # "error" belongs to failed calls, recorded by the caller; a reply is never an error.
    replies = [reply for _, reply, _, _ in CASES] + [reply for reply, _ in REPLIES]
    outcomes = {parse_decision(reply).outcome for reply in replies}
    assert "error" not in outcomes


def test_parsed_answer_is_frozen() -> None:
    parsed = parse_decision("Yes")
    assert parsed == ParsedAnswer("yes", "answer-word")
    with pytest.raises(AttributeError):
        parsed.outcome = "no"  # type: ignore[misc]
