"""Schemas of the probe: how it calls the model, its wording (the ``prompts`` group), scoring.

The wording is data: conf/prompts/<name>.yaml holds one preset (its version id and the four
pieces of text), so a wording sweep is ``python run.py -m prompts=paper,prototype``. A preset's
version id enters every cache key; a piece reworded on top of a preset
(``prompts.decision="..."``) gets a derived version ``<preset version>+custom-<hash>`` so it can
never be served from the preset's cache.
"""

from __future__ import annotations

from dataclasses import dataclass

from omegaconf import MISSING

from valuespectrum.config.errors import ConfigError
from valuespectrum.config.errors import one_of as _one_of
from valuespectrum.config.errors import require as _require
from valuespectrum.config.presets import load_preset, versioned_preset

# The pieces whose rewording gets a ``+custom-<hash>`` version. Not ``reverse``: its text is in
# its own calls' keys and in the probe run's id, so rewording it keeps the forward cache.
WORDING: tuple[str, ...] = ("system", "decision", "why", "describe")
# The probe's robustness axes (README "Robustness axes"): the order the options are named in,
# which way the question is keyed, the system turn, and the blank-image control.
ANSWER_ORDERS: tuple[str, ...] = ("yes_first", "no_first", "counterbalanced")
KEYINGS: tuple[str, ...] = ("forward", "reverse", "both")
IMAGES: tuple[str, ...] = ("screenshot", "blank")


@dataclass
class PromptsConfig:
    """The probe's wording. An empty ``system`` sends no system turn."""

    name: str = "paper"  # the preset file conf/prompts/<name>.yaml
    version: str = MISSING  # enters every cache key: change it whenever the wording changes
    system: str = MISSING
    decision: str = MISSING  # question 1, asked with the image
    why: str = MISSING  # question 2, same conversation, after the model's decision
    describe: str = MISSING  # question 3, a separate conversation (probe.describe=true)
    # Question 1 asked as text about a description (modality=description), where
    # {description} stands for it. Not in WORDING: it never shapes an image-modality call, and
    # the text calls' cache keys hold its wording.
    text_decision: str = MISSING
    # The reverse-keyed decision (probe.keying=reverse|both): a "yes" means the viewer would
    # scroll past. Not part of ProbePrompts' fingerprint: forward cache keys stay as they were.
    reverse: str = MISSING  # may be '' (then probe.keying=reverse|both is refused)

    def check(self) -> None:
        _require(bool(self.version.strip()), "prompts.version is empty; give the wording an id")
        for piece in ("decision", "why", "describe"):
            _require(bool(getattr(self, piece).strip()), f"prompts.{piece} is empty; reword it")


def prompt_preset(name: str) -> PromptsConfig:
    """The shipped preset conf/prompts/<name>.yaml, validated."""
    return load_preset("prompts", name, PromptsConfig)


def versioned(prompts: PromptsConfig) -> PromptsConfig:
    """``prompts`` with a version that tells its wording apart from the preset it started from
    (``<preset version>+custom-<hash>`` when reworded; see config/presets.py)."""
    return versioned_preset(prompts, "prompts", WORDING)


@dataclass
class ProbeConfig:
    """How the preference probe calls the model (paper.md section 4)."""

    ask_why: bool = True
    describe: bool = False
    samples: int = 1
    concurrency: int = 16
    # Worker processes making the calls (models/spread.py): "auto" (several from 32 calls in
    # flight and 256 calls to make, for an API model), or a number; "0" = all in this process.
    client_processes: str = "auto"
    timeout_s: float = 60.0
    max_retries: int = 4
    backoff_base_s: float = 0.5
    max_error_rate: float = 0.2  # of the whole job (cached answers and earlier failures count)
    retry_failed: bool = False  # ask again calls that failed permanently in an earlier run
    max_failed_runs: int = 3  # never ask a call again after it failed in this many runs
    image_max_side: int | None = 768
    image_size: list[int] | None = None  # [width, height]; [144, 256] = the prototype's resize
    n_boot: int = 2000
    plan: bool = False  # print calls, tokens, dollars and time per call kind; call nothing
    max_cost_usd: float | None = None  # refuse, or stop, a probe that would cost more
    # Robustness axes: yes_first = as worded | no_first | counterbalanced (half of each
    # keyword's images each way); forward | reverse | both; the system turn; screenshot | blank.
    answer_order: str = "yes_first"
    keying: str = "forward"
    system_prompt: bool = True
    image: str = "screenshot"

    def check(self) -> None:
        _one_of("probe.answer_order", self.answer_order, ANSWER_ORDERS)
        _one_of("probe.keying", self.keying, KEYINGS)
        _one_of("probe.image", self.image, IMAGES)
        _require(self.samples >= 1, "probe.samples must be >= 1")
        _require(self.max_cost_usd is None or self.max_cost_usd > 0,
                 "probe.max_cost_usd must be > 0 (or null for no budget)")
        _require(self.concurrency >= 1, "probe.concurrency must be >= 1")
        _require(self.client_processes == "auto" or self.client_processes.isdigit(),
                 f"probe.client_processes={self.client_processes} must be auto or a number of"
                 " processes >= 0 (0: every call in this process)")
        _require(self.timeout_s > 0, "probe.timeout_s must be > 0")
        _require(self.max_retries >= 0, "probe.max_retries must be >= 0")
        _require(0 <= self.max_error_rate <= 1, "probe.max_error_rate must be in [0, 1]")
        _require(self.max_failed_runs >= 1, "probe.max_failed_runs must be >= 1")
        if self.image_size is not None:
            _require(
                len(self.image_size) == 2 and min(self.image_size) > 0,
                "probe.image_size must be [width, height], e.g. [144, 256]",
            )


def check_axes(probe: ProbeConfig, prompts: PromptsConfig) -> None:
    """The wording must carry what the axes ask of it: a reverse-keyed question for
    ``probe.keying=reverse|both``, and an explicit "(Yes or No)" pair for another order."""
    from valuespectrum.probe.options import option_pair

    asked = {"forward": ("decision",), "reverse": ("reverse",), "both": ("decision", "reverse")}
    pieces = asked[probe.keying]
    if "reverse" in pieces:
        _require(bool(prompts.reverse.strip()),
                 f"probe.keying={probe.keying} needs a reverse-keyed question, but prompts="
                 f"{prompts.name} has none; set prompts.reverse=\"... Would you scroll past"
                 f" this? (Yes or No)\" or probe.keying=forward")  # fmt: skip
    if probe.answer_order != "yes_first":
        for piece in pieces:
            _require(option_pair(getattr(prompts, piece)) is not None,
                     f"probe.answer_order={probe.answer_order} swaps the option pair, but"
                     f" prompts.{piece} of prompts={prompts.name} names none; word it with"
                     " \"(Yes or No)\" or use probe.answer_order=yes_first")  # fmt: skip


def moved_key(key: str, value: object = "...") -> str | None:
    """The one-line fix for a key that moved (to the ``prompts`` group, or to ``induce:`` /
    ``agent:``), or None."""
    from valuespectrum.config.roleplay import moved_role_play_key

    if moved := moved_role_play_key(key):
        return moved
    if key == "probe.prompts":
        return f"probe.prompts={value} was replaced by the prompts group; use prompts={value}"
    if key == "probe.text" or key.startswith("probe.text."):
        piece = key.split(".")[2] if key.count(".") >= 2 else "decision"
        return f'probe.text.{piece} was replaced by prompts.{piece}; use prompts.{piece}="..."'
    return None


def refuse_moved_keys(data: dict) -> None:
    """The wording moved from ``probe.prompts`` / ``probe.text.*`` to the ``prompts`` group: an
    old command is refused naming the new key, so it never runs a probe it did not ask for."""
    for section in ("strategy", "platform"):
        node = data.get(section)
        for key in node if isinstance(node, dict) else ():
            if moved := moved_key(f"{section}.{key}"):
                raise ConfigError(moved)
    probe = data.get("probe")
    if not isinstance(probe, dict):
        return
    if "prompts" in probe:
        raise ConfigError(moved_key("probe.prompts", probe["prompts"]) or "")
    if "text" in probe:
        text = probe["text"]
        piece = next(iter(text), "decision") if isinstance(text, dict) else "decision"
        raise ConfigError(moved_key(f"probe.text.{piece}") or "")


# Interval methods of ``stats.bootstrap`` (kept equal to its METHODS by a test; the config
# imports no numpy).
INTERVALS: tuple[str, ...] = ("two_stage", "images")


@dataclass
class ScoringConfig:
    """How answers become scores (probe/scoring.py, stats/).

    ``interval``: ``two_stage`` (keywords, then images within keywords: the value's score over
    its keyword population; for papers) or ``images`` (keywords fixed). ``circumplex`` names the
    values' angles for the circumplex fit (``schwartz``: ten equal steps; ``shared_wedge``:
    Conformity and Tradition in one wedge); ``circumplex_angles`` (degrees per value) replaces
    them. ``n_perm``: shufflings behind the permutation p-values. A keyword whose removal moves
    its value by more than ``keyword_flag_points`` (and whose interval excludes the rest) is
    flagged as driving it.
    """

    hedonism_in: str = "openness_to_change"
    interval: str = "two_stage"
    circumplex: str = "schwartz"
    circumplex_angles: dict[str, float] | None = None
    n_perm: int = 9999
    keyword_flag_points: float = 5.0

    def check(self) -> None:
        from valuespectrum.values import CIRCUMPLEX_LAYOUTS, VALUES

        _one_of(
            "scoring.hedonism_in",
            self.hedonism_in,
            ("openness_to_change", "self_enhancement"),
        )
        _one_of("scoring.interval", self.interval, INTERVALS)
        _one_of("scoring.circumplex", self.circumplex, tuple(CIRCUMPLEX_LAYOUTS))
        if self.circumplex_angles is not None:
            bad = sorted(set(self.circumplex_angles) - set(VALUES))
            _require(not bad, f"scoring.circumplex_angles names unknown values {bad}; use some"
                              f" of {', '.join(VALUES)}")  # fmt: skip
            _require(len(self.circumplex_angles) >= 4,
                     "scoring.circumplex_angles needs at least four values (degrees each)")
        _require(self.n_perm >= 99, "scoring.n_perm must be >= 99, e.g. 9999")
        _require(self.keyword_flag_points >= 0, "scoring.keyword_flag_points must be >= 0")

    def angles(self) -> dict[str, float]:
        """Degrees per value for the circumplex fit."""
        from valuespectrum.values import CIRCUMPLEX_LAYOUTS

        if self.circumplex_angles is not None:
            return {k: float(v) for k, v in self.circumplex_angles.items()}
        return dict(CIRCUMPLEX_LAYOUTS[self.circumplex])
