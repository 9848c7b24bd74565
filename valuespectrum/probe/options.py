"""The option pair of a yes/no question ("(Yes or No)") and its swap ("(No or Yes)").

The answer-order axis (``probe.answer_order``) asks the same question with the options named
the other way round. Only an explicit pair "yes or no" is swapped (any case, each word keeping
the case of the word it replaces), so a wording without one is refused rather than silently
asked as worded. Pure text: the config checks wordings with it before any work.
"""

from __future__ import annotations

import re

ORDERS: tuple[str, ...] = ("yes_first", "no_first")
_PAIR = re.compile(r"\b(yes|no)(\s+or\s+)(yes|no)\b", re.IGNORECASE)


def option_pair(text: str) -> str | None:
    """The order the first option pair of ``text`` names its options in, or None."""
    match = _PAIR.search(text)
    if match is None or match.group(1).lower() == match.group(3).lower():
        return None
    return "yes_first" if match.group(1).lower() == "yes" else "no_first"


def _cased_like(word: str, model: str) -> str:
    if model.isupper() and len(model) > 1:
        return word.upper()
    if model[:1].isupper():
        return word.capitalize()
    return word.lower()


def with_order(text: str, order: str) -> str:
    """``text`` with its option pair naming the options in ``order`` ("Yes or No" ->
    "No or Yes" for ``no_first``); every pair in the text is swapped alike."""
    if order not in ORDERS:
        raise ValueError(f"answer order {order!r} is not one of {ORDERS}")
    if option_pair(text) is None:
        raise ValueError(f"no (Yes or No) option pair to order in {text[:60]!r}")

    def swap(match: re.Match[str]) -> str:
        first, middle, second = match.groups()
        if (first.lower() == "yes") == (order == "yes_first"):
            return match.group(0)
        return _cased_like(second.lower(), first) + middle + _cased_like(first.lower(), second)

    return _PAIR.sub(swap, text)
