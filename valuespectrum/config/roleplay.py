"""Schemas of the role-play half (the induce stage): feed platform, recommender, persona,
strategy, ISQ threshold, the induction protocol (``induce:``) and the agent (``agent:``).

Defaults equal the default options (localfeed, embedding, default, simple, paper); descriptions,
wording and the persona profiles are study data, so they are MISSING here and come from YAML.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from omegaconf import MISSING

from valuespectrum.config.errors import one_of as _one_of
from valuespectrum.config.errors import require as _require
from valuespectrum.config.presets import versioned_preset
from valuespectrum.values import VALUES


@dataclass
class PlatformConfig:
    """A short-video feed the agent scrolls (browser collection and induction)."""

    name: str = "localfeed"
    kind: str = "local"  # web | local
    feed_url: str = ""  # web platforms; the local feed's URL is set when its server starts
    notes: str = MISSING

    def check(self) -> None:
        _one_of("platform.kind", self.kind, ("web", "local"))


PERSONA_KINDS: tuple[str, ...] = ("profiles", "none", "file")


@dataclass
class PersonaProfile:
    """One persona: 3-5 first-person traits shown to the model, and the values it is written to
    favour (ours, for measuring amplification; never shown to the model)."""

    id: str = MISSING
    traits: list[str] = MISSING
    favours: list[str] = field(default_factory=list)


@dataclass
class PersonaConfig:
    """Who the model plays (paper.md section 6): ``profiles`` from YAML, ``none`` (the model
    decides as itself) or ``file`` (a Persona-Chat text file at ``path``; no favours)."""

    name: str = "default"
    kind: str = "profiles"  # profiles | none | file
    path: str | None = None  # a Persona-Chat file; when set it is read instead of profiles
    profiles: list[PersonaProfile] = MISSING

    def check(self) -> None:
        _one_of("persona.kind", self.kind, PERSONA_KINDS)
        if self.kind == "none":
            _require(self.path is None, "persona=none plays no persona; drop persona.path")
            return
        if self.kind == "file" or self.path is not None:
            _require(
                bool(self.path and str(self.path).strip()),
                "persona=file needs persona.path=FILE (a Persona-Chat text file)",
            )
            return
        _require(bool(self.profiles), "persona has no profiles; add some or use persona=none")
        seen: set[str] = set()
        for i, profile in enumerate(self.profiles):
            where = f"persona.profiles[{i}]"
            _require(bool(profile.id.strip()), f"{where}.id is empty; give the persona an id")
            _require(profile.id not in seen, f"{where}.id={profile.id!r} is used twice")
            seen.add(profile.id)
            _require(
                1 <= len(profile.traits) <= 10 and all(t.strip() for t in profile.traits),
                f"{where} ({profile.id}) must have 1..10 non-empty traits",
            )
            bad = [v for v in profile.favours if v not in VALUES]
            _require(
                not bad,
                f"{where}.favours ({profile.id}) has unknown value(s) {bad}; use ids from "
                f"{list(VALUES)}",
            )


STRATEGY_WORDING: tuple[str, ...] = (
    "system", "intro", "intro_no_persona", "reply", "reply_no_persona",
)


@dataclass
class StrategyConfig:
    """How a persona decides to stay or swipe: the paper's Simple or ISQ strategy.

    The wording is data (conf/strategy/<name>.yaml): ``intro`` introduces the persona (its
    numbered traits replace ``{traits}``), ``reply`` asks for the reply format; the
    ``*_no_persona`` pieces are used with persona=none and mention no traits. ``version`` enters
    every cache key; a reworded piece gets ``<version>+custom-<hash>`` (config/presets.py).
    """

    name: str = "simple"
    kind: str = "simple"  # simple | isq
    version: str = MISSING
    system: str = MISSING  # empty: no system turn
    intro: str = MISSING
    intro_no_persona: str = MISSING
    reply: str = MISSING
    reply_no_persona: str = MISSING

    def check(self) -> None:
        _one_of("strategy.kind", self.kind, ("simple", "isq"))
        _require(bool(self.version.strip()), "strategy.version is empty; give the wording an id")
        for piece in ("intro", "intro_no_persona", "reply", "reply_no_persona"):
            _require(bool(getattr(self, piece).strip()), f"strategy.{piece} is empty; reword it")
        _require(
            "{traits}" in self.intro,
            "strategy.intro must hold {traits} (where the numbered persona traits go)",
        )
        for piece in ("intro_no_persona", "reply_no_persona"):
            _require(
                "{traits}" not in getattr(self, piece),
                f"strategy.{piece} is used without a persona; remove {{traits}} from it",
            )


def versioned_strategy(strategy: StrategyConfig) -> StrategyConfig:
    """``strategy`` with a version that tells a reworded prompt apart from its preset."""
    return versioned_preset(strategy, "strategy", STRATEGY_WORDING)


@dataclass
class ThresholdConfig:
    """The ISQ stay threshold."""

    name: str = "paper"
    isq_percent: float = 60.0  # stay when S% > this (paper: 60)

    def check(self) -> None:
        _require(0 <= self.isq_percent <= 100, "threshold.isq_percent must be in [0, 100]")




@dataclass
class InduceConfig:
    """The induction protocol: sessions per persona, their length, the control, the statistics,
    and how the model is called (as ``probe:`` does for the probe)."""

    videos: int = 100  # videos per session (the paper's 100)
    window: int = 50  # I = yes-rate of the last window minus the first
    sessions_per_persona: int = 1
    control: bool = True  # also run every persona on recommender kind random (no adaptation)
    concurrency: int = 8  # sessions (and model calls) in flight at once
    n_boot: int = 2000
    timeout_s: float = 60.0
    max_retries: int = 4
    backoff_base_s: float = 0.5
    max_error_rate: float = 0.2  # of the whole job's calls (replayed steps count)
    image_max_side: int | None = 768

    def check(self) -> None:
        _require(self.videos > 0, "induce.videos must be > 0")
        _require(
            0 < self.window <= self.videos,
            "induce.window must be between 1 and induce.videos",
        )
        _require(self.sessions_per_persona >= 1, "induce.sessions_per_persona must be >= 1")
        _require(self.concurrency >= 1, "induce.concurrency must be >= 1")
        _require(self.n_boot >= 1, "induce.n_boot must be >= 1")
        _require(self.timeout_s > 0, "induce.timeout_s must be > 0")
        _require(self.max_retries >= 0, "induce.max_retries must be >= 0")
        _require(0 <= self.max_error_rate <= 1, "induce.max_error_rate must be in [0, 1]")


@dataclass
class AgentConfig:
    """The agent that scrolls a feed: which driver, and the dwell the feed sees."""

    driver: str = "direct"  # direct: the feed in-process | browser: Chromium on the real page
    stay_s: float = 5.0  # dwell on a video the persona stays on (paper: 5 s)
    skip_s: float = 0.5  # dwell before swiping away
    headless: bool = True
    chromium: str = "/usr/bin/chromium"
    chromedriver: str = "/usr/bin/chromedriver"  # copied before undetected-chromedriver patches it
    page_timeout_s: float = 20.0

    def check(self) -> None:
        _one_of("agent.driver", self.driver, ("direct", "browser"))
        _require(
            self.stay_s > self.skip_s >= 0,
            "agent.stay_s must be > agent.skip_s >= 0 (a stay must look longer than a swipe)",
        )
        _require(self.page_timeout_s > 0, "agent.page_timeout_s must be > 0")


# Keys that moved to induce/agent; an old command is refused naming the new key.
MOVED_KEYS: dict[str, str] = {
    "strategy.videos": "induce.videos",
    "strategy.window": "induce.window",
    "platform.stay_s": "agent.stay_s",
    "platform.swipe_pause_s": "agent.skip_s",
}


def moved_role_play_key(key: str) -> str | None:
    """The one-line fix for a role-play key that moved, or None."""
    new = MOVED_KEYS.get(key)
    return f"{key} moved to {new}; use {new}=..." if new else None


@dataclass
class RecommenderConfig:
    """The local feed's recommender (valuespectrum/feed/recommender.py); every knob is here.

    ``embedding``: a per-session interest vector over the items' fused image + caption
    embeddings, moved toward items watched at least ``long_watch_ms`` and away from items
    skipped in under ``skip_ms``; the next item is the unseen one most similar to it, except for
    an ``explore`` share of random unseen picks and the first ``cold_start`` items (random).
    ``random``: the same pool, no adaptation (the control). Never an item twice per session.
    """

    name: str = "embedding"
    kind: str = "embedding"  # embedding | random
    explore: float = 0.1  # share of picks drawn at random from the unseen items
    cold_start: int = 3  # the first items of a session are random picks
    toward: float = 0.3  # interest <- (1 - toward) * interest + toward * item, on a long watch
    away: float = 0.15  # interest <- interest - away * item, on a quick skip
    long_watch_ms: int = 3000  # dwell >= this is a long watch (the impression's "stayed")
    skip_ms: int = 1500  # dwell < this is a quick skip; in between changes nothing
    candidates: int = 0  # unseen items scored per pick, sampled at random; 0 = all of them
    caption_weight: float = 0.8  # cosine = (1 - w) * image + w * caption (demo CLIP is random)

    def check(self) -> None:
        _one_of("recommender.kind", self.kind, ("embedding", "random"))
        _require(
            0.0 <= self.explore <= 1.0,
            f"recommender.explore={self.explore} must be between 0 and 1",
        )
        _require(self.cold_start >= 0, f"recommender.cold_start={self.cold_start} must be >= 0")
        _require(
            0.0 < self.toward <= 1.0 and 0.0 <= self.away <= 1.0,
            "recommender.toward must be in (0, 1] and recommender.away in [0, 1]",
        )
        _require(
            0 <= self.skip_ms <= self.long_watch_ms,
            f"recommender.skip_ms={self.skip_ms} must be between 0 and "
            f"recommender.long_watch_ms={self.long_watch_ms}",
        )
        _require(
            self.candidates >= 0,
            f"recommender.candidates={self.candidates} must be >= 0 (0 = score every item)",
        )
        _require(
            0.0 <= self.caption_weight <= 1.0,
            f"recommender.caption_weight={self.caption_weight} must be between 0 and 1",
        )
