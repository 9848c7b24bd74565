"""Personas the model plays (paper.md section 6): our profiles, none, or a Persona-Chat file.

A ``Persona`` is what a session needs: an id, the first-person traits shown to the model and the
values it is written to favour (``favours``, ours and for measurement only: the amplification
curve counts how much of the feed matches them; no prompt ever shows them). Personas read from a
Persona-Chat file have no favours, so their sessions measure induction I but not amplification.

Persona-Chat text formats read by ``read_persona_chat``:

- ConvAI2 dialogue files (``train_self_original.txt`` ...): ``1 your persona: i like to ski.``
  (the leading line number is optional). The consecutive ``your persona:`` lines of a dialogue
  form one profile; ``partner's persona:`` lines and dialogue lines end it and are skipped. The
  same profile appears in many dialogues and is kept once, in order of first appearance.
- One trait per line, a blank line between profiles (``your persona:`` prefixes allowed).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from valuespectrum.config.errors import ConfigError
from valuespectrum.config.roleplay import PersonaConfig

NO_PERSONA_ID = "none"
_PERSONA_LINE = re.compile(r"^\s*(?:\d+\s+)?your persona\s*:\s*(.*)$", re.IGNORECASE)
_ANY_PERSONA_LINE = re.compile(r"^\s*(?:\d+\s+)?(?:your|partner's) persona\s*:", re.IGNORECASE)
_FORMATS = "'your persona: ...' lines, or one trait per line with blank lines between profiles"


@dataclass(frozen=True)
class Persona:
    """One persona. ``traits`` empty = no persona (the model decides as itself)."""

    persona_id: str
    traits: tuple[str, ...]
    favours: tuple[str, ...] = ()  # value ids; never shown to the model

    @property
    def is_none(self) -> bool:
        return not self.traits


def load_personas(cfg: PersonaConfig) -> list[Persona]:
    """The personas of ``cfg``: its profiles, the single no-persona, or ``cfg.path``'s profiles.

    Raises a one-line ``ConfigError`` for a missing, unreadable or empty Persona-Chat file.
    """
    if cfg.kind == "none":
        return [Persona(NO_PERSONA_ID, ())]
    if cfg.path is not None:
        return read_persona_chat(cfg.path)
    return [Persona(p.id, tuple(p.traits), tuple(p.favours)) for p in cfg.profiles]


def read_persona_chat(path: str | Path) -> list[Persona]:
    """Profiles of a Persona-Chat text file (either format, see the module docstring).

    Ids are ``pc-0001``, ``pc-0002`` ... in order of first appearance; favours are empty.
    """
    file = Path(path).expanduser()
    if not file.exists():
        raise ConfigError(f"persona.path={path} does not exist; give a Persona-Chat text file")
    if not file.is_file():
        raise ConfigError(f"persona.path={path} is not a file; give a Persona-Chat text file")
    try:
        text = file.read_text(encoding="utf-8", errors="replace")
    except OSError as exc:
        why = exc.strerror or type(exc).__name__
        raise ConfigError(f"persona.path={path} cannot be read ({why}); check it") from None
    lines = text.splitlines()
    if any(_ANY_PERSONA_LINE.match(line) for line in lines):
        groups = _dialogue_profiles(lines)
    else:
        groups = _block_profiles(lines)
    unique = list(dict.fromkeys(tuple(g) for g in groups if g))
    if not unique:
        raise ConfigError(f"persona.path={path} holds no persona; expected {_FORMATS}")
    return [Persona(f"pc-{i:04d}", traits) for i, traits in enumerate(unique, start=1)]


def _dialogue_profiles(lines: list[str]) -> list[list[str]]:
    groups: list[list[str]] = [[]]
    for line in lines:
        match = _PERSONA_LINE.match(line)
        if match:
            if match.group(1).strip():
                groups[-1].append(_trait(match.group(1)))
        elif groups[-1]:
            groups.append([])
    return groups


def _block_profiles(lines: list[str]) -> list[list[str]]:
    groups: list[list[str]] = [[]]
    for line in lines:
        if line.strip():
            groups[-1].append(_trait(line))
        elif groups[-1]:
            groups.append([])
    return groups


def _trait(text: str) -> str:
    return " ".join(text.split())
