"""Classify a model's reply to the decision question as yes / no / refusal / no_image / invalid.

The authors' prototype counted a reply as "yes" when the substring "yes" occurred anywhere in it, so
"yesterday", "eyes" and "I can't say yes" were all likes. ``mode="prototype"`` keeps that rule, so
a score can be set beside the paper's; the default ``mode="rules"`` is strict and explainable:
each reply gets an outcome and the name of the rule that decided it, so a report can show how
many answers each rule produced, and an auditor can re-read the doubtful ones. The words and
patterns are listed in :mod:`valuespectrum.probe.lexicon`.

Rules, first match wins:

1. ``empty``: ``None``, empty, whitespace-only or markup-only text is ``invalid``.
2. ``no-image``: a reply saying the image did not arrive or cannot be seen ("Unable to view
   image. Yes.", "I can't see any image", "图片无法加载") is ``no_image``: a delivery failure,
   not an opinion, so it never enters a score, whatever else the reply says.
3. JSON: a JSON object (bare, embedded or in a fenced ```json block) decides by its first key among
   ``answer``, ``decision``, ``choice``, ``verdict``, ``response``, ``result``, ``like``,
   ``interested``, ``preference``, ``label``, ``output``. A boolean maps to yes/no, a string is
   parsed by the text rules below (``json-field``); an object without such a key is ``invalid``
   (``json-no-answer``), as is a value that is no clear yes/no (``json-bad-value``).
4. The text is normalised (Unicode NFKC, lower case, markdown, quotes, brackets and list markers
   removed; an echo of the prompt's "(Yes or No):" dropped) and cut into segments at sentence
   ends, line breaks, colons, semicolons, dashes and "but"/"however"/"但是". Leading fillers
   ("well", "honestly", "I'd say", "我觉得"), labels ("Answer:", "Decision -"), intensifiers
   before the answer word ("Definitely yes", "Hell no") and apologies ("Sorry, no") are dropped
   from each segment.
5. ``ambiguous``: "yes and no", "yes/no", a bare echo "Yes or No", or a first segment that opens
   with "both", "neither", "maybe", "it depends", "not sure", "meh", "还行", "一般" ... is
   ``invalid``.
6. Explicit answers are collected from every segment: a segment that *opens* with an answer word
   or idiom (``answer-word``: "yes", "nope", "not my cup of tea", "I don't think so", "是的",
   "不太喜欢", "我挺喜欢的"), with "I like it" / "I don't like it" / "I can't say no to this" /
   "I do" and close variants (``answer-phrase``), or that contains "my answer is yes", "I'd say
   no", "it's a no from me" (``answer-statement``). An answer word counts only as a whole word
   followed by punctuation, the end of the segment or a short list of words ("I", "it", "this",
   "because", "me" ...): "yesterday", "nobody", "know", "No one would ...", "No dogs are ..."
   and "Sure enough" are not answers. "Sure"/"Certainly"/"Of course" followed by "here is",
   "I can", "let me" is compliance, not assent.
7. ``conflict``: segments that assert both yes and no make the reply ``invalid``, and so does
   one sentence that does ("Yes, I don't like it.", "No, I love it", "是的, 我不喜欢").
8. Disclaimers: an explicit answer counts even when the reply also disclaims ("As an AI I don't
   have preferences, but yes, it looks fun" is yes), reported as ``answer-with-disclaimer``. The
   exception is a "no" whose own sentence is the refusal ("No, I can't help with that").
9. ``refusal``: no explicit answer, and a refusal pattern ("as an AI", "I don't have personal
   preferences/feelings", "I can't help/determine", "I'm unable to", "作为人工智能" ...).
10. ``no-explicit-answer``: anything else is ``invalid``. An answer that is only implied ("The
    vibrant colours make this a joy to watch", "This content is interesting") is not guessed;
    nor are single letters ("Y"), emoji or stutters ("yes yes yes"). Hedged answers are answers
    ("Probably not", "I think so"): the score is binary and says nothing of conviction.

Answer words beyond English (document of record; extend the lexicon with care): Spanish and
Italian sí/si/no, French oui/non, German ja/nein, Dutch ja/nee, Portuguese sim/não, Russian да/нет,
Chinese 是/是的/对/喜欢 (with degree adverbs 很/挺/非常/比较/有点 ...) and 否/不/不是/不喜欢
(不太/不怎么/不是很/没那么 ...), Japanese はい/いいえ/好きです/好きではありません, Korean 네/예 and
아니요/아니오, and "me gusta", "j'aime", "gefällt mir", "mi piace" with their negations.
"""

from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import dataclass
from typing import Any, Literal

from valuespectrum.probe import lexicon as lx

Outcome = Literal["yes", "no", "refusal", "no_image", "invalid", "error"]
"""``error`` is set by the caller for calls that produced no reply; the parser never returns it."""

PARSING_MODES: tuple[str, ...] = ("rules", "prototype")


@dataclass(frozen=True)
class ParsedAnswer:
    """An outcome and the rule that produced it (one of ``REASONS``)."""

    outcome: Outcome
    reason: str


REASONS = (
    "empty", "no-image", "json-field", "json-no-answer", "json-bad-value", "ambiguous",
    "conflict", "answer-word", "answer-phrase", "answer-statement", "answer-with-disclaimer",
    "refusal", "no-explicit-answer", "prototype",
)  # fmt: skip

_FENCE = re.compile(r"```[a-z]*\s*(.*?)```", re.S | re.I)
_ANSWER_KEYS = (
    "answer", "decision", "choice", "verdict", "response", "result", "like", "interested",
    "preference", "label", "output",
)  # fmt: skip
_CONFLICT = ("invalid", "conflict")


def parse_decision(text: str | None, mode: str = "rules") -> ParsedAnswer:
    """Classify a reply to "Do you like the content of this image? (Yes or No)".

    ``mode="prototype"`` is the paper's code: "yes" anywhere in the lower-cased reply is a yes,
    anything else a no (``prototype``).
    """
    if mode == "prototype":
        return ParsedAnswer("yes" if "yes" in (text or "").lower() else "no", "prototype")
    if mode != "rules":
        raise ValueError(f"parsing mode {mode!r} is not one of {PARSING_MODES}")
    if text is None or not text.strip():
        return ParsedAnswer("invalid", "empty")
    if lx.NO_IMAGE.search(_normalise(text)):
        return ParsedAnswer("no_image", "no-image")
    from_json = _parse_json(text)
    if from_json is not None:
        return from_json
    return _parse_text(text)


def _parse_text(text: str) -> ParsedAnswer:
    norm = _normalise(text)
    segments = [s for s in (_strip_prefix(seg) for seg in lx.SEGMENT_SPLIT.split(norm)) if s]
    if not segments:  # only fillers ("Honestly,") or only markup ("**")
        return ParsedAnswer("invalid", "no-explicit-answer" if re.search(r"\w", norm) else "empty")
    if lx.AMBIGUOUS_ANYWHERE.search(norm) or lx.AMBIGUOUS_HEAD.match(segments[0]):
        return ParsedAnswer("invalid", "ambiguous")
    following = [*segments[1:], ""]
    found = [hit for hit in map(_segment_answer, segments, following) if hit is not None]
    outcomes = {outcome for outcome, _ in found}
    if len(outcomes) > 1 or _CONFLICT in found:
        return ParsedAnswer("invalid", "conflict")
    if found:
        outcome, reason = found[0]
        disclaimed = lx.REFUSAL.search(norm)
        return ParsedAnswer(outcome, "answer-with-disclaimer" if disclaimed else reason)
    if lx.REFUSAL.search(norm):
        return ParsedAnswer("refusal", "refusal")
    return ParsedAnswer("invalid", "no-explicit-answer")


def _segment_answer(segment: str, following: str) -> tuple[Any, str] | None:
    """The answer a segment asserts, and how, or ``None``; ``following`` is the next segment.

    A segment that opens with one answer and asserts the other later ("Yes, I don't like it")
    gives ``("invalid", "conflict")``.
    """
    if lx.INTL_NO.match(segment):  # "No me gusta": the "no" negates the verb
        return "no", "answer-word"
    word = _answer_word(segment, following)
    if word is not None:
        outcome, rest = word
        if outcome == "no" and lx.REFUSAL.search(segment):
            return None  # "No, I can't help with that": the "no" is the refusal itself
        opposite = _asserted(rest)
        return _CONFLICT if opposite not in (None, outcome) else (outcome, "answer-word")
    if lx.NO_PHRASE.match(segment) or lx.DO_NO.fullmatch(segment):
        return "no", "answer-phrase"
    if lx.YES_PHRASE.match(segment) or lx.INTL_YES.match(segment) or lx.DO_YES.fullmatch(segment):
        return "yes", "answer-phrase"
    statement = lx.STATEMENT.search(segment)
    if statement:
        said = statement["w"] or statement["w2"]
        return ("yes" if said == "yes" else "no"), "answer-statement"
    return None


def _answer_word(segment: str, following: str) -> tuple[Outcome, str] | None:
    """(yes/no, the rest of the segment) when the segment opens with an answer that stands as
    a whole answer."""
    cjk = lx.CJK_NO.match(segment) or lx.CJK_YES.match(segment)
    if cjk:
        said: Outcome = "no" if lx.CJK_NO.match(segment) else "yes"
        return said, segment[cjk.end() :]
    match = lx.WORD.match(segment)
    if match is None:
        return None
    word, rest = match["w"], match["rest"]
    if word in ("sure", "certainly", "of course") and lx.COMPLIANCE.match(f"{rest} {following}"):
        return None  # "Sure! Here is a description": compliance, not assent
    if not _stands_alone(rest):
        return None
    return ("yes" if word in lx.YES else "no"), rest


def _asserted(rest: str) -> Outcome | None:
    """The preference the rest of an answer's sentence states on its own, if any."""
    if lx.NO_PHRASE.search(rest) or lx.INTL_NO.search(rest) or lx.CJK_NO.search(rest):
        return "no"
    if lx.NEGATION.search(rest):
        return None  # "Yes, I like it, not boring": the negation is about something else
    if lx.YES_PHRASE.search(rest) or lx.INTL_YES.search(rest) or re.search("喜欢", rest):
        return "yes"
    return None


def _stands_alone(rest: str) -> bool:
    """True when what follows an answer word shows it is the answer, not a determiner."""
    if not rest.strip() or re.match(r"\s*[,!?)\]}\u2026\uff0c\u3001'\"]", rest):
        return True
    next_word = rest.split(maxsplit=1)[0].strip(",")
    return rest[0].isspace() and next_word in lx.NEXT_OK


def _normalise(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).replace("\u2019", "'").replace("\u2018", "'").lower()
    lines = []
    for line in text.splitlines():
        # Headings, quotes, bullets and numbered lists: "# No", "> yes", "- Yes", "1. No".
        lines.append(re.sub(r"^\s*(?:#+|>+|[-+*•]\s|\d+[.)]\s)\s*", "", line))
    text = "\n".join(lines)
    echo_free = lx.ECHO.sub(" ", text)
    if re.search(r"\w", echo_free):
        text = echo_free  # "(Yes or No): Yes" is an answer; a bare "Yes or No" stays ambiguous
    text = re.sub(r"[*`~\"“”„«»()\[\]{}<>]", " ", text)
    text = re.sub(r"(?<!\w)_+|_+(?!\w)", " ", text)
    return re.sub(r"[ \t]+", " ", text)


def _strip_prefix(segment: str) -> str:
    segment = segment.strip(" ,'\t")
    match = lx.PREFIX.match(segment)
    if match:
        segment = segment[match.end() :]
    return segment.strip(" ,'\t")


def _parse_json(text: str) -> ParsedAnswer | None:
    """Answer from a JSON object in the reply; ``None`` when the reply holds no valid object."""
    fenced = _FENCE.search(text)
    body = fenced.group(1) if fenced else text
    start, end = body.find("{"), body.rfind("}")
    if start < 0 or end <= start:
        return None
    try:
        data: Any = json.loads(body[start : end + 1])
    except json.JSONDecodeError:
        return None  # broken JSON falls through to the text rules ("answer: yes" still parses)
    if not isinstance(data, dict):
        return None
    keys = {str(k).strip().lower(): v for k, v in data.items()}
    key = next((k for k in _ANSWER_KEYS if k in keys), None)
    if key is None:
        return ParsedAnswer("invalid", "json-no-answer")
    value = keys[key]
    if isinstance(value, bool):
        return ParsedAnswer("yes" if value else "no", "json-field")
    if isinstance(value, str):
        inner = _parse_text(value) if value.strip() else ParsedAnswer("invalid", "empty")
        if inner.outcome in ("yes", "no"):
            return ParsedAnswer(inner.outcome, "json-field")
    return ParsedAnswer("invalid", "json-bad-value")
