"""Reading the object a role-play reply holds, leniently where its meaning is clear.

Models asked for a JSON object answer with the object alone, in a ```json fence, between prose
("Here is my answer: {...} I hope this helps"), with single quotes or Python literals
(``{'decision': 'Yes', 'trait_num': None}``), with trailing commas, or cut short by the token
limit (``{"decision": "yes", "reason": "the boat looks``). ``read_object`` returns the fields it
can read with the name of the rule that read them, or None with the reason it could not, so every
parsed reply can say how it was read. What each field must hold is the strategy's business
(induce/strategies.py).
"""

from __future__ import annotations

import ast
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

_FENCE = re.compile(r"```[ \t]*(?:json|javascript|js|python)?[ \t]*\n?(.*?)```", re.I | re.S)
_TRAILING_COMMA = re.compile(r",\s*([}\]])")
_PY_LITERALS = re.compile(r"\b(true|false|null)\b")


@dataclass(frozen=True)
class ReadObject:
    fields: dict[str, Any] | None  # normalised keys (lower case, "_" for spaces and dashes)
    how: str  # the rule that read it, or why nothing could be read


def normalise_key(key: object) -> str:
    return re.sub(r"[\s\-]+", "_", str(key).strip().strip("\"'*`").strip().lower())


def read_object(text: str | None, known_keys: Iterable[str]) -> ReadObject:
    """The first JSON-like object of ``text``, else ``known_keys`` found as ``key: value``."""
    if text is None or not text.strip():
        return ReadObject(None, "empty reply")
    known = tuple(known_keys)
    body, how = text, "json"
    fence = _FENCE.search(text)
    if fence:
        body, how = fence.group(1), "fenced json"
    span = _object_span(body)
    if span is not None:
        start, end = span
        parsed, style = _load(body[start:end])
        if isinstance(parsed, dict):
            outside = (text.replace(fence.group(0), "") if fence else body[:start] + body[end:])
            if outside.strip():
                how += " with prose"
            if style:
                how = f"{how} ({style})"
            return ReadObject({normalise_key(k): v for k, v in parsed.items()}, how)
    found = _key_values(text, known)
    if found:
        return ReadObject(found, "key-value text")
    if "{" in text:
        return ReadObject(None, "JSON object that cannot be read")
    return ReadObject(None, "no JSON object")


def _object_span(text: str) -> tuple[int, int] | None:
    """Start and end of the first balanced ``{...}``, quotes honoured; None if none closes."""
    start = text.find("{")
    while start != -1:
        depth, quote, escaped = 0, "", False
        for i in range(start, len(text)):
            ch = text[i]
            if quote:
                if escaped:
                    escaped = False
                elif ch == "\\":
                    escaped = True
                elif ch == quote:
                    quote = ""
            elif ch in "\"'" and (ch == '"' or _opens_single_quote(text, i)):
                quote = ch
            elif ch == "{":
                depth += 1
            elif ch == "}":
                depth -= 1
                if depth == 0:
                    return start, i + 1
        start = text.find("{", start + 1)
    return None


def _opens_single_quote(text: str, i: int) -> bool:
    """A ``'`` opens a string after ``{``, ``,``, ``:`` or ``[`` (not an apostrophe in "it's")."""
    before = text[:i].rstrip()
    return bool(before) and before[-1] in "{,:["


def _load(raw: str) -> tuple[Any, str]:
    """The object and the repair it needed ('' when it was plain JSON)."""
    try:
        return json.loads(raw), ""
    except ValueError:
        pass
    try:
        return json.loads(_TRAILING_COMMA.sub(r"\1", raw)), "trailing comma"
    except ValueError:
        pass
    pythonic = _PY_LITERALS.sub(lambda m: {"true": "True", "false": "False"}.get(
        m.group(1), "None"), raw)  # fmt: skip
    for candidate in (raw, pythonic, _TRAILING_COMMA.sub(r"\1", pythonic)):
        try:
            return ast.literal_eval(candidate), "single quotes"
        except (ValueError, SyntaxError, MemoryError, RecursionError, TypeError):
            continue
    return None, ""


def _key_values(text: str, known: tuple[str, ...]) -> dict[str, Any]:
    """``key: value`` / ``"key": value`` pairs of the known keys, anywhere in the text (lines of
    a plain-text questionnaire, or a JSON object the token limit cut short)."""
    if not known:
        return {}
    longest_first = sorted(known, key=len, reverse=True)
    names = "|".join(re.escape(k).replace("_", "[_ ]") for k in longest_first)
    pattern = re.compile(
        rf"[\"'*]*\b({names})\b[\"'*]*\s*[:=]\s*(?:\"([^\"\n]*)\"?|'([^'\n]*)'?|([^,}}\n]*))",
        re.IGNORECASE,
    )
    found: dict[str, Any] = {}
    for match in pattern.finditer(text):
        key = normalise_key(match.group(1))
        value = next((g for g in match.groups()[1:] if g is not None), "").strip()
        if key not in found and value:
            found[key] = value.strip("*` ")
    return found
