"""How a persona decides to stay on a video or swipe: the paper's Simple and ISQ strategies.

Each strategy builds the conversation for one screenshot from its wording (conf/strategy/, a
version id that enters every cache key) and reads the reply into a ``Decision``:

- ``simple``: the numbered traits and the reply ``{"decision": "yes|no", "reason": ...,
  "trait_num": ...}``; stay on "yes".
- ``isq``: the Inductive Scoring Questionnaire, four ratings 1-10 (visual_appeal,
  curiosity_stimulation, emotional_engagement, value_expectation) and two 0/1 items
  (preference_alignment, action_decision); S% = (v_a + c_s + e_e + v_e + 10 p_a + 10 a_d)
  / 60 x 100 (``isq_score``); stay when S% > the threshold (never shown to the model).

Replies are read leniently where their meaning is clear (induce/replies.py: fences, prose, single
quotes, a cut-off object; here: "Yes"/"YES"/true for yes, numbers as strings, "7/10", a 0 on the
1-10 scale clamped to 1 and recorded), otherwise the decision is ``invalid`` with the reason. The
agent treats an invalid decision as a skip and counts it.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Any, Protocol

from valuespectrum.config.roleplay import StrategyConfig, ThresholdConfig
from valuespectrum.induce.personas import Persona
from valuespectrum.induce.replies import read_object
from valuespectrum.models.base import ImagePart, Message
from valuespectrum.probe.parsing import parse_decision

RATINGS: tuple[str, ...] = (
    "visual_appeal", "curiosity_stimulation", "emotional_engagement", "value_expectation",
)
BINARY: tuple[str, ...] = ("preference_alignment", "action_decision")
ISQ_FIELDS: tuple[str, ...] = RATINGS + BINARY
ISQ_ALIASES: dict[str, str] = {
    "v_a": "visual_appeal", "c_s": "curiosity_stimulation", "e_e": "emotional_engagement",
    "v_e": "value_expectation", "p_a": "preference_alignment", "a_d": "action_decision",
}
SIMPLE_FIELDS: tuple[str, ...] = ("decision", "reason", "trait_num")

_YES = frozenset({"yes", "y", "true", "1", "stay", "interested", "like"})
_NO = frozenset({"no", "n", "false", "0", "swipe", "skip", "not interested", "dislike"})
_NA = frozenset({"", "na", "n/a", "n.a.", "none", "null", "nil", "-", "nothing"})
_NUMBER = re.compile(r"^\s*(-?\d+(?:\.\d+)?)\s*(?:/\s*10|out of 10|points?)?\s*\.?\s*$", re.I)


@dataclass(frozen=True)
class Decision:
    """One read reply. ``stay`` None = invalid (a skip for the agent, counted apart)."""

    stay: bool | None
    outcome: str  # yes | no | invalid
    score_pct: float | None  # ISQ S%; None for simple (and for invalid replies)
    fields: dict[str, Any] = field(default_factory=dict)
    parse_reason: str = ""


class Strategy(Protocol):
    name: str
    version: str

    def messages(self, persona: Persona, image: ImagePart) -> tuple[Message, ...]: ...

    def parse(self, text: str | None) -> Decision: ...


def isq_score(v_a: float, c_s: float, e_e: float, v_e: float, p_a: float, a_d: float) -> float:
    """S% = (v_a + c_s + e_e + v_e + 10 p_a + 10 a_d) / 60 x 100 (paper.md section 6)."""
    return (v_a + c_s + e_e + v_e + 10 * p_a + 10 * a_d) / 60 * 100


def numbered_traits(traits: tuple[str, ...]) -> str:
    return "\n".join(f"{i}. {t}" for i, t in enumerate(traits, start=1))


def invalid(reason: str, fields: dict[str, Any] | None = None) -> Decision:
    return Decision(None, "invalid", None, dict(fields or {}), reason)


class _Worded:
    """The conversation shared by both strategies: [system], then intro, image, reply format."""

    def __init__(self, cfg: StrategyConfig) -> None:
        self.name = cfg.name
        self.version = cfg.version
        self.cfg = cfg

    def messages(self, persona: Persona, image: ImagePart) -> tuple[Message, ...]:
        if persona.is_none:
            intro, reply = self.cfg.intro_no_persona, self.cfg.reply_no_persona
        else:
            intro = self.cfg.intro.replace("{traits}", numbered_traits(persona.traits))
            reply = self.cfg.reply
        user = Message(role="user", content=(intro, image, reply))
        if self.cfg.system.strip():
            return (Message.text("system", self.cfg.system), user)
        return (user,)


class SimpleStrategy(_Worded):
    """Stay when the reply's decision is yes."""

    def parse(self, text: str | None) -> Decision:
        read = read_object(text, SIMPLE_FIELDS)
        if read.fields is None or (read.how == "key-value text" and "decision" not in read.fields):
            plain = parse_decision(text)
            if plain.outcome in ("yes", "no"):
                fields = {"decision": plain.outcome, "reason": "", "trait_num": None}
                how = f"plain answer ({plain.reason})"
                return Decision(plain.outcome == "yes", plain.outcome, None, fields, how)
            return invalid(f"{read.how}, and no plain yes or no ({plain.reason})", read.fields)
        got = read.fields
        if "decision" not in got:
            return invalid(f"{read.how} without a decision", got)
        decision, note = _yes_no(got["decision"])
        if decision is None:
            return invalid(f"decision {got['decision']!r} is not yes or no", got)
        fields = {
            "decision": decision,
            "reason": "" if got.get("reason") is None else str(got.get("reason")),
            "trait_num": _trait_num(got.get("trait_num")),
        }
        reason = read.how + (f"; {note}" if note else "")
        return Decision(decision == "yes", decision, None, fields, reason)


class IsqStrategy(_Worded):
    """Stay when S% > ``threshold`` (percent)."""

    def __init__(self, cfg: StrategyConfig, threshold: float) -> None:
        super().__init__(cfg)
        self.threshold = float(threshold)

    def parse(self, text: str | None) -> Decision:
        read = read_object(text, ISQ_FIELDS + tuple(ISQ_ALIASES))
        if read.fields is None:
            return invalid(read.how)
        got = {ISQ_ALIASES.get(k, k): v for k, v in read.fields.items()}
        missing = [f for f in ISQ_FIELDS if f not in got]
        if missing:
            return invalid(f"{read.how} without {', '.join(missing)}", got)
        fields: dict[str, Any] = {}
        notes: list[str] = []
        for name in RATINGS:
            value = _number(got[name])
            if value is None or not 0 <= value <= 10:
                return invalid(f"{name} {got[name]!r} is not a rating 1-10", got)
            if value < 1:  # a 0-10 scale where 1-10 was asked: the meaning is clear
                notes.append(f"clamped {name} {_fmt(value)}->1")
                value = 1.0
            fields[name] = value
        for name in BINARY:
            flag, note = _binary(got[name])
            if flag is None:
                return invalid(f"{name} {got[name]!r} is not 0 or 1", got)
            if note:
                notes.append(f"{name} {note}")
            fields[name] = flag
        if "reason" in got:
            fields["reason"] = str(got["reason"])
        fields["clamped"] = [n.split()[1] for n in notes if n.startswith("clamped")]
        score = isq_score(*(fields[f] for f in ISQ_FIELDS))
        stay = score > self.threshold
        reason = read.how + "".join(f"; {n}" for n in notes)
        return Decision(stay, "yes" if stay else "no", score, fields, reason)


def make_strategy(strategy_cfg: StrategyConfig, threshold_cfg: ThresholdConfig) -> Strategy:
    """The strategy ``strategy_cfg.kind`` names; ISQ reads its threshold from ``threshold_cfg``."""
    if strategy_cfg.kind == "isq":
        return IsqStrategy(strategy_cfg, threshold_cfg.isq_percent)
    if strategy_cfg.kind == "simple":
        return SimpleStrategy(strategy_cfg)
    raise ValueError(f"strategy.kind={strategy_cfg.kind!r} is not known; use simple or isq")


def _clean(value: Any) -> str:
    return str(value).strip().strip("*_`\"'.!").strip().lower()


def _yes_no(value: Any) -> tuple[str | None, str]:
    """("yes"|"no"|None, a note when it was given as something other than a yes/no word)."""
    if isinstance(value, bool):
        return ("yes" if value else "no"), f"decision given as {str(value).lower()}"
    if isinstance(value, int | float) and value in (0, 1):
        return ("yes" if value == 1 else "no"), f"decision given as {value}"
    text = _clean(value)
    if text in ("yes", "no"):
        return text, ""
    if text in _YES or text in _NO:
        return ("yes" if text in _YES else "no"), f"decision given as {text!r}"
    plain = parse_decision(str(value))
    if plain.outcome in ("yes", "no"):
        return plain.outcome, f"decision read from {str(value)[:40]!r}"
    return None, ""


def _binary(value: Any) -> tuple[int | None, str]:
    if isinstance(value, bool):
        return int(value), f"given as {str(value).lower()}"
    number = _number(value)
    if number is not None:
        return (int(number), "") if number in (0, 1) else (None, "")
    text = _clean(value)
    if text in _YES or text in _NO:
        return (1 if text in _YES else 0), f"given as {text!r}"
    return None, ""


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value) if math.isfinite(value) else None
    match = _NUMBER.match(str(value))
    return float(match.group(1)) if match else None


def _trait_num(value: Any) -> int | list[int] | str | None:
    """The trait that decided: a number, several numbers, None for NA, else the text given."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return int(value) if float(value).is_integer() else str(value)
    if isinstance(value, list):
        nums = [_trait_num(v) for v in value]
        return [n for n in nums if isinstance(n, int)] or None
    text = _clean(value)
    if text in _NA:
        return None
    digits = [int(d) for d in re.findall(r"\d+", text)]
    if len(digits) == 1:
        return digits[0]
    return digits if digits else str(value)


def _fmt(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else str(x)
