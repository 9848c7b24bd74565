"""How the SIMULATED respondent words its decisions: varied, as real models word theirs.

A respondent that always said "Yes." would check nothing of the parser. ``reply_text`` draws an
answer with a known outcome and then perturbs it: language (English mostly, also Chinese,
Spanish, French, German and Japanese), a hedge or filler in front, a reason after it, case,
punctuation, markdown, a label, the prompt's "(Yes or No):" echoed, or a JSON object. Now and
then the intended outcome is a refusal, an unclear reply or one saying the image did not arrive
(``no_image``). Every wording here must parse to its intended outcome; the tests draw thousands.
Changing any list changes ``WORDING_VERSION``, which is part of the respondent's cache identity.
"""

from __future__ import annotations

import json
import random

WORDING_VERSION = "wording-v1"

# language -> outcome -> core answers (no trailing punctuation)
_CORE: dict[str, dict[str, tuple[str, ...]]] = {
    "en": {
        "yes": (
            "Yes", "Yeah", "Yep", "Sure, I like it", "Yes, I like it", "I like it", "I love it",
            "Definitely yes", "Absolutely", "It's a yes from me", "I think so", "I'd say yes",
            "Of course", "Yes, I do", "Love it", "I can't say no to this", "Hell yes",
        ),
        "no": (
            "No", "Nope", "Nah", "Not really", "No, I don't like it", "I don't like it",
            "Not for me", "It's a no from me", "I don't think so", "Definitely not", "Sorry, no",
            "Not my cup of tea", "I'd say no", "Probably not", "No, not really my thing",
            "Absolutely not", "I can't say I like it",
        ),
    },
    "zh": {
        "yes": (
            "是的", "喜欢", "我很喜欢", "挺喜欢的", "是的\uff0c我喜欢", "非常喜欢", "还挺喜欢的",
        ),
        "no": ("不喜欢", "不太喜欢", "不是很喜欢", "不", "我不喜欢", "不怎么喜欢"),
    },
    "es": {"yes": ("Sí, me gusta", "Sí"), "no": ("No, no me gusta", "No me gusta")},
    "fr": {"yes": ("Oui, j'aime bien", "Oui"), "no": ("Non, je n'aime pas", "Non")},
    "de": {"yes": ("Ja, gefällt mir", "Ja"), "no": ("Nein, gefällt mir nicht", "Nein")},
    "ja": {"yes": ("はい、好きです", "はい"), "no": ("いいえ、好きではありません", "いいえ")},
}
_LANGUAGES = ("en", "zh", "es", "fr", "de", "ja")
_LANGUAGE_WEIGHTS = (0.70, 0.12, 0.045, 0.045, 0.045, 0.045)
_HEDGES = ("", "", "", "Honestly, ", "Hmm, ", "Well, ", "To be honest, ", "Overall, ", "Ok, ")
_REASONS = {
    "en": {
        "yes": ("", "", " The colours are lovely.", " It looks fun to watch.",
                " I'd keep watching."),
        "no": ("", "", " It seems boring.", " I'd scroll past it.", " It feels a bit dull."),
    },
    "zh": {"yes": ("", "画面很好看。"), "no": ("", "感觉有点无聊。")},
}
_FORMS = ("{}", "{}", "{}", "{}", "**{}**", "# {}", "> {}", "- {}", "Answer: {}",
          "(Yes or No): {}", "Final answer: {}", "JSON")  # fmt: skip
REFUSALS = (
    "As an AI, I don't have personal preferences.",
    "I'm sorry, but I can't share personal opinions about images.",
    "I don't have personal feelings, so I can't like or dislike images.",
    "As an AI language model, I don't have opinions. Many viewers would enjoy it, though.",
    "作为一个人工智能\uff0c我没有个人喜好。",
)
UNCLEAR = (
    "It depends on what you are looking for.", "Hmm, hard to say.", "", "Maybe.",
    "Yes and no.", "还行吧。", "The image shows a colourful scene.", "Both, really.",
    "Yes, I don't like it.",
)  # fmt: skip
NO_IMAGE = (
    "I'm unable to view the image.", "I can't see any image attached.",
    "Unable to view image. Yes.", "It seems the image didn't load. Could you upload it again?",
    "我无法查看这张图片。",
)  # fmt: skip


def reply_text(outcome: str, rng: random.Random) -> str:
    """A reply whose parsed outcome is ``outcome`` (yes, no, refusal, invalid or no_image)."""
    if outcome == "refusal":
        return rng.choice(REFUSALS)
    if outcome == "invalid":
        return rng.choice(UNCLEAR)
    if outcome == "no_image":
        return rng.choice(NO_IMAGE)
    if outcome not in ("yes", "no"):
        raise ValueError(f"no wording for outcome {outcome!r}")
    language = rng.choices(_LANGUAGES, weights=_LANGUAGE_WEIGHTS)[0]
    core = rng.choice(_CORE[language][outcome])
    cjk = language in ("zh", "ja")
    if language == "en":
        core = rng.choice(_HEDGES) + core
        core = rng.choice((core, core, core, core.lower(), core.upper()))
    end = rng.choice(("。", "\uff01", "") if cjk else (".", ".", "!", "", "!!", "..."))
    reason = rng.choice(_REASONS.get(language, {}).get(outcome, ("",)))
    if reason and not end:
        end = "。" if cjk else "."  # a reason runs on only after the answer's sentence ends
    form = rng.choice(_FORMS)
    if form == "JSON":
        return json.dumps({"answer": core, "reason": reason.strip() or None}, ensure_ascii=False)
    return form.format(core + end) + reason
