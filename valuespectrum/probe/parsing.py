"""Classify a model's reply to the decision question as yes / no / refusal / invalid.

The authors' prototype counted a reply as "yes" when the substring "yes" occurred anywhere in it, so
"yesterday", "eyes" and "I can't say yes" were all likes. This parser is strict and explainable:
each reply gets an outcome and the name of the rule that decided it, so a report can show how many
answers each rule produced, and an auditor can re-read the doubtful ones.

Rules, first match wins:

1. ``empty``: ``None``, empty, whitespace-only or markup-only text is ``invalid``.
2. JSON: a JSON object (bare, embedded or in a fenced ```json block) decides by its first key among
   ``answer``, ``decision``, ``choice``, ``verdict``, ``response``, ``result``, ``like``,
   ``interested``, ``preference``, ``label``, ``output``. A boolean maps to yes/no, a string is
   parsed by the text rules below (``json-field``); an object without such a key is ``invalid``
   (``json-no-answer``), as is a value that is no clear yes/no (``json-bad-value``).
3. The text is normalised (Unicode NFKC, lower case, markdown, quotes, brackets and list markers
   removed) and cut into segments at sentence ends, line breaks, colons, semicolons, dashes and
   "but"/"however". Leading fillers ("well", "honestly", "I'd say", "my answer is") and labels
   ("Answer:", "Decision -") are dropped from each segment.
4. ``ambiguous``: "yes and no", "yes/no", or a first segment that opens with "both", "neither",
   "maybe", "it depends", "hard to say", "not sure" ... is ``invalid``.
5. Explicit answers are collected from every segment: a segment that *opens* with an answer word
   (``answer-word``), with "I like it" / "I don't like it" and close variants (``answer-phrase``),
   or that contains "my answer is yes", "I'd say no" (``answer-statement``). An answer word counts
   only as a whole word followed by punctuation, the end of the segment or a short list of words
   ("I", "it", "this", "because", "me" ...): "yesterday", "nobody", "know", "noon", "No one would
   ...", "No dogs are ..." and "Sure enough" are not answers. "Sure"/"Certainly"/"Of course"
   followed by "here is", "I can", "let me" is compliance, not assent.
6. ``conflict``: segments that assert both yes and no make the reply ``invalid``.
7. Disclaimers: an explicit answer counts even when the reply also disclaims ("As an AI I don't
   have preferences, but yes, it looks fun" is yes), reported as ``answer-with-disclaimer``. The
   exception is a "no" whose own sentence is the refusal ("No, I can't help with that").
8. ``refusal``: no explicit answer, and a refusal pattern ("as an AI", "I don't have personal
   preferences/feelings", "I can't help/determine", "I'm unable to" ...).
9. ``no-explicit-answer``: anything else is ``invalid``. An answer that is only implied ("The
   vibrant colours make this a joy to watch", "I think so", "This content is interesting") is not
   guessed; nor are single letters ("Y"), emoji or stutters ("yes yes yes").

Answer words beyond English (document of record; extend ``_YES``/``_NO`` with care): Spanish and
Italian sí/si/no, French oui/non, German ja/nein, Dutch ja/nee, Portuguese sim/não, Russian да/нет,
Chinese 是/是的/对/喜欢 and 否/不/不是/不喜欢, Japanese はい/いいえ, Korean 네/예 and 아니요/아니오.
"""

from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import dataclass
from typing import Any, Literal

Outcome = Literal["yes", "no", "refusal", "invalid", "error"]
"""``error`` is set by the caller for calls that produced no reply; the parser never returns it."""


@dataclass(frozen=True)
class ParsedAnswer:
    """An outcome and the rule that produced it (one of ``REASONS``)."""

    outcome: Outcome
    reason: str


REASONS = (
    "empty", "json-field", "json-no-answer", "json-bad-value", "ambiguous", "conflict",
    "answer-word", "answer-phrase", "answer-statement", "answer-with-disclaimer", "refusal",
    "no-explicit-answer",
)  # fmt: skip

_YES = (
    "yes", "yeah", "yep", "yup", "yea", "sure", "absolutely", "definitely", "certainly",
    "of course", "indeed", "sí", "si", "oui", "ja", "sim", "да", "是", "对", "네", "예",
)  # fmt: skip
_NO = (
    "no", "nope", "nah", "no way", "not really", "not at all", "not particularly", "not much",
    "not for me", "not my thing", "not interested", "absolutely not", "definitely not",
    "certainly not", "of course not", "non", "nein", "nee", "não", "nao", "нет", "否", "不",
    "不是", "아니요", "아니오",
)  # fmt: skip
# CJK words that need no boundary after them ("是的我喜欢" has no space or comma).
_LOOSE = {
    "是的": "yes", "我很喜欢": "yes", "我喜欢": "yes", "喜欢": "yes", "はい": "yes",
    "我不喜欢": "no", "不喜欢": "no", "いいえ": "no",
}  # fmt: skip
_NEXT_OK = frozenset(
    (
        "i", "i'm", "im", "i'd", "i'll", "i've", "it", "it's", "its", "this", "that", "that's",
        "definitely", "absolutely", "really", "indeed", "thanks", "thank", "because", "since",
        "as", "so", "and", "a", "very", "too", "quite", "much", "overall", "though", "although",
        "me", "my",
    )
)  # fmt: skip
_COMPLIANCE = re.compile(r"\W*(?:here|i can|i could|i'd be happy|i would be happy|let me)\b")


def _alternation(words: tuple[str, ...] | list[str]) -> str:
    # Longest first, so "absolutely not" wins over "absolutely" and "nope" over "no".
    return "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))


_WORD = re.compile(rf"(?P<w>{_alternation(_YES + _NO)})(?!\w)(?P<rest>.*)", re.S)
_LOOSE_RE = re.compile(_alternation(list(_LOOSE)))
_OBJECT = r"(?:it|this|that|this one|(?:the|this) (?:content|image|picture|photo|video|post))"
_YES_PHRASE = re.compile(
    r"i (?:really |do |definitely |absolutely |genuinely |quite |truly |kind of )?"
    rf"(?:like|love|enjoy|am interested in|'m interested in|am into|'m into) {_OBJECT}(?!['\w])"
)
_NO_PHRASE = re.compile(
    r"(?:i (?:really |just |personally )?(?:don't|do not|dont|didn't|did not|wouldn't|would not) "
    rf"(?:really |particularly |especially |much |necessarily )?(?:like|love|enjoy|care for) "
    rf"{_OBJECT}|i dislike {_OBJECT}|i(?:'m| am) not (?:really |particularly |very )?"
    r"(?:interested|into (?:it|this)|a fan))(?!['\w])"
)
_STATEMENT = re.compile(
    r"\b(?:(?:answer|decision|verdict|choice) (?:is|would be|=)"
    r"|i(?:'d| would)(?: have to| probably| definitely)? (?:say|answer|go with|choose|pick))"
    r" (?:a )?(?:clear |definite |firm )?(?P<w>yes|no)(?!\w)"
)
_PREFIX = re.compile(
    r"(?:(?:oh|ah|well|hmm+|um+|uh|ok|okay|so|honestly|frankly|personally|actually|overall"
    r"|in short|in summary|in conclusion|to be honest|that said|still|anyway|even so"
    r"|without a doubt"
    r"|i think|i guess|i believe"
    r"|i(?:'d| would)(?: have to| probably)? say|(?:my |the )(?:final )?answer (?:is|would be)"
    r"|(?:final |my |short )?(?:answer|decision|verdict|choice|response|reply|output)"
    r"(?:\s*(?:=|-))?)(?!\w)[\s,]*)+"
)
_AMBIGUOUS_ANYWHERE = re.compile(r"\b(?:yes\s*(?:and|&|/|\|)\s*no|no\s*(?:and|&|/|\|)\s*yes)\b")
_AMBIGUOUS_HEAD = re.compile(
    r"(?:both|neither|maybe|perhaps|possibly|it depends|depends|hard to say|difficult to say"
    r"|not sure|i'm not sure|i am not sure|unsure|mixed feelings|kind of|sort of|somewhat"
    r"|yes or no|no or yes)(?!\w)"
)
_REFUSAL = re.compile(
    r"\bas an? (?:ai|artificial intelligence|(?:large )?language model|llm|assistant"
    r"|ai (?:language model|assistant|model)|virtual assistant|machine)\b"
    r"|\bi(?:'m| am) (?:just |only )?an? (?:ai|language model|artificial intelligence)\b"
    r"|\bi (?:don't|do not|dont) (?:have|possess|experience) (?:any )?(?:personal |human )?"
    r"(?:preferences|feelings|opinions|emotions|likes|tastes|the ability|subjective)"
    r"|\bi have no (?:personal )?(?:preferences|feelings|opinions|emotions)"
    r"|\bi(?:'m| am) (?:unable|not able|not capable|incapable)\b"
    r"|\bi (?:can't|cannot|can not|won't|will not) (?:help|assist|determine|say|tell|decide"
    r"|provide|express|form|have|answer|comply|view|see|access|open|like|make|give|judge"
    r"|evaluate|share|fulfill)\b"
    r"|\bunable to (?:view|see|access|open|process|determine)\b"
)
# Sentence ends (ASCII and fullwidth CJK), colons, semicolons, spaced dashes, em dash, but/however.
_SEGMENT_SPLIT = re.compile(
    r"[.!?;:\u3002\uff01\uff1f\uff1b\uff1a\n]+|,?\s+but\s+|,?\s*\bhowever\b,?\s*"
    r"|\s+[-\u2013\u2014]+\s+|\u2014"
)
_FENCE = re.compile(r"```[a-z]*\s*(.*?)```", re.S | re.I)
_ANSWER_KEYS = (
    "answer", "decision", "choice", "verdict", "response", "result", "like", "interested",
    "preference", "label", "output",
)  # fmt: skip


def parse_decision(text: str | None) -> ParsedAnswer:
    """Classify a reply to "Do you like the content of this image? (Yes or No)"."""
    if text is None or not text.strip():
        return ParsedAnswer("invalid", "empty")
    from_json = _parse_json(text)
    if from_json is not None:
        return from_json
    return _parse_text(text)


def _parse_text(text: str) -> ParsedAnswer:
    norm = _normalise(text)
    segments = [s for s in (_strip_prefix(seg) for seg in _SEGMENT_SPLIT.split(norm)) if s]
    if not segments:  # only fillers ("I think so") or only markup ("**")
        return ParsedAnswer("invalid", "no-explicit-answer" if re.search(r"\w", norm) else "empty")
    if _AMBIGUOUS_ANYWHERE.search(norm) or _AMBIGUOUS_HEAD.match(segments[0]):
        return ParsedAnswer("invalid", "ambiguous")
    following = [*segments[1:], ""]
    found = [hit for hit in map(_segment_answer, segments, following) if hit is not None]
    outcomes = {outcome for outcome, _ in found}
    if len(outcomes) > 1:
        return ParsedAnswer("invalid", "conflict")
    if found:
        outcome, reason = found[0]
        return ParsedAnswer(outcome, "answer-with-disclaimer" if _REFUSAL.search(norm) else reason)
    if _REFUSAL.search(norm):
        return ParsedAnswer("refusal", "refusal")
    return ParsedAnswer("invalid", "no-explicit-answer")


def _segment_answer(segment: str, following: str) -> tuple[Outcome, str] | None:
    """The answer a segment asserts, and how, or ``None``; ``following`` is the next segment."""
    outcome = _answer_word(segment, following)
    if outcome is not None:
        if outcome == "no" and _REFUSAL.search(segment):
            return None  # "No, I can't help with that": the "no" is the refusal itself
        return outcome, "answer-word"
    if _YES_PHRASE.match(segment):
        return "yes", "answer-phrase"
    if _NO_PHRASE.match(segment):
        return "no", "answer-phrase"
    statement = _STATEMENT.search(segment)
    if statement:
        return ("yes" if statement["w"] == "yes" else "no"), "answer-statement"
    return None


def _answer_word(segment: str, following: str) -> Outcome | None:
    """Yes/no when the segment opens with an answer word that stands as a whole answer."""
    loose = _LOOSE_RE.match(segment)
    if loose:
        return "yes" if _LOOSE[loose.group()] == "yes" else "no"
    match = _WORD.match(segment)
    if match is None:
        return None
    word, rest = match["w"], match["rest"]
    if word in ("sure", "certainly", "of course") and _COMPLIANCE.match(f"{rest} {following}"):
        return None  # "Sure! Here is a description": compliance, not assent
    if not _stands_alone(rest):
        return None
    return "yes" if word in _YES else "no"


def _stands_alone(rest: str) -> bool:
    """True when what follows an answer word shows it is the answer, not a determiner."""
    if not rest.strip() or re.match(r"\s*[,!?)\]}\u2026\uff0c\u3001'\"]", rest):
        return True
    next_word = rest.split(maxsplit=1)[0].strip(",")
    return rest[0].isspace() and next_word in _NEXT_OK


def _normalise(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).replace("\u2019", "'").replace("\u2018", "'").lower()
    lines = []
    for line in text.splitlines():
        # Headings, quotes, bullets and numbered lists: "# No", "> yes", "- Yes", "1. No".
        lines.append(re.sub(r"^\s*(?:#+|>+|[-+*•]\s|\d+[.)]\s)\s*", "", line))
    text = "\n".join(lines)
    text = re.sub(r"[*`~\"“”„«»()\[\]{}<>]", " ", text)
    text = re.sub(r"(?<!\w)_+|_+(?!\w)", " ", text)
    return re.sub(r"[ \t]+", " ", text)


def _strip_prefix(segment: str) -> str:
    segment = segment.strip(" ,'\t")
    match = _PREFIX.match(segment)
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
