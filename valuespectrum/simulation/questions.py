"""How the SIMULATED respondent reads the question it is asked, and its known answering effects.

A model tells a reverse-keyed question ("Would you scroll past this?") from a forward one by
reading it; so does the respondent, from the text of the question turn alone (never from a
config flag or a backend name): the question is reverse-keyed when it asks about passing the
content by (``REVERSE_CUES``: "scroll past", "skip", "swipe away", ...; every shipped preset's
``reverse`` uses one, its ``decision`` none, as a test checks), and the option named first is
the first of its "yes or no" pair. Its effects, all in points of p(yes) and 0 by default, are
then known exactly, so each robustness axis has a known truth:

* ``wording_sensitivity``: the sd of a shift of p(like), one draw per wording, seeded by the
  question's hash with its option pair left out (so both answer orders share the wording's
  shift);
* a reverse question is answered yes with p = 1 - p(like);
* ``order_bias``: added when the question names "yes" first, subtracted when it names "no"
  first;
* ``acquiescence``: added to p(yes) of any question, forward or reverse;

in that order, clipped to [0, 1] after the shift and at the end. An image the respondent does
not know (the blank control's grey picture) is perceived as no value (uniform), so its p(like)
is the profile's mean.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from statistics import NormalDist

from valuespectrum.probe.options import option_pair

REVERSE_CUES: tuple[str, ...] = ("scroll past", "swipe past", "swipe away", "skip", "pass on",
                                 "dislike")  # fmt: skip
_PAIR = re.compile(r"\(?\b(yes|no)\s+or\s+(yes|no)\b\)?", re.IGNORECASE)


@dataclass(frozen=True)
class Question:
    """What the respondent reads off a decision question."""

    reverse: bool
    first: str | None  # yes_first | no_first | None (no option pair)
    wording: str  # the question without its option pair, normalised: what a shift is keyed by


def read_question(text: str) -> Question:
    lowered = " ".join(text.lower().split())
    wording = " ".join(_PAIR.sub(" ", lowered).split())
    return Question(any(cue in lowered for cue in REVERSE_CUES), option_pair(text), wording)


def _clip(p: float) -> float:
    return min(1.0, max(0.0, p))


@dataclass(frozen=True)
class AnswerEffects:
    """The respondent's known effects, in points (see the module docstring)."""

    acquiescence: float = 0.0
    order_bias: float = 0.0
    wording_sensitivity: float = 0.0

    def __bool__(self) -> bool:
        return any((self.acquiescence, self.order_bias, self.wording_sensitivity))

    def shift(self, question: Question) -> float:
        """This wording's shift of p(like), as a probability."""
        if not self.wording_sensitivity:
            return 0.0
        digest = hashlib.sha256(question.wording.encode("utf-8")).hexdigest()
        u = (int(digest[:13], 16) + 0.5) / 16**13
        return self.wording_sensitivity / 100 * NormalDist().inv_cdf(u)

    def p_yes(self, p_like: float, question: Question) -> float:
        """p(yes) to ``question`` of a respondent who likes the image with ``p_like``."""
        liked = _clip(p_like + self.shift(question))
        p = 1.0 - liked if question.reverse else liked
        if question.first is not None:
            p += (1 if question.first == "yes_first" else -1) * self.order_bias / 100
        return _clip(p + self.acquiescence / 100)
