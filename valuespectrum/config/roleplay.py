"""Schemas of the role-play half (induce, not built yet): feed platform, persona, strategy.

Defaults equal the default options (localfeed, default, simple, paper); descriptions and the
persona profiles are study data, so they are MISSING here and come from YAML.
"""

from __future__ import annotations

from dataclasses import dataclass

from omegaconf import MISSING

from valuespectrum.config.errors import one_of as _one_of
from valuespectrum.config.errors import require as _require


@dataclass
class PlatformConfig:
    """A short-video feed the agent scrolls (browser collection and induction)."""

    name: str = "localfeed"
    kind: str = "local"  # web | local
    feed_url: str = ""
    stay_s: float = 0.0  # dwell on a liked video (paper: 5 s in examples, 30 s in the prototype)
    swipe_pause_s: float = 0.0
    notes: str = MISSING

    def check(self) -> None:
        _one_of("platform.kind", self.kind, ("web", "local"))
        _require(self.stay_s >= 0 and self.swipe_pause_s >= 0, "platform waits must be >= 0")


@dataclass
class PersonaConfig:
    """Persona-Chat style profiles for role-play (paper.md section 6)."""

    name: str = "default"
    path: str | None = None  # a Persona-Chat file (one trait per line); overrides profiles
    profiles: list[list[str]] = MISSING

    def check(self) -> None:
        _require(
            bool(self.profiles) or bool(self.path),
            "persona needs profiles or persona.path=FILE",
        )
        for i, traits in enumerate(self.profiles):
            _require(
                1 <= len(traits) <= 10,
                f"persona.profiles[{i}] must have 1..10 traits",
            )


@dataclass
class StrategyConfig:
    """How a persona decides to stay or swipe: the paper's Simple or ISQ strategy."""

    name: str = "simple"
    kind: str = "simple"  # simple | isq
    videos: int = 50  # videos per session
    window: int = 10  # videos per window for I_avg (first vs last window)

    def check(self) -> None:
        _one_of("strategy.kind", self.kind, ("simple", "isq"))
        _require(self.videos > 0, "strategy.videos must be > 0")
        _require(
            0 < self.window <= self.videos,
            "strategy.window must be between 1 and strategy.videos",
        )


@dataclass
class ThresholdConfig:
    """The ISQ stay threshold."""

    name: str = "paper"
    isq_percent: float = 60.0  # stay when S% > this (paper: 60)

    def check(self) -> None:
        _require(0 <= self.isq_percent <= 100, "threshold.isq_percent must be in [0, 100]")


