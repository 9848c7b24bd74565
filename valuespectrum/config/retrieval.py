"""Schemas of the collect -> index -> retrieve half: corpus, embedder, keywords, retrieval.

Defaults equal the default config's YAML (tests/config/test_defaults.py compares every
leaf); study data with no sensible default (the keyword lists) is MISSING and comes from YAML.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from omegaconf import MISSING

from valuespectrum.config.errors import one_of as _one_of
from valuespectrum.config.errors import require as _require
from valuespectrum.values import VALUES


@dataclass
class CorpusConfig:
    """The offline screenshot source for ``collect`` (browser platforms come via ``platform``)."""

    name: str = "demo"
    source: str = "demo"  # demo | folder
    path: str | None = None  # folder to ingest (source=folder)
    n: int = 600  # demo images
    seed: int = 0
    width: int = 288
    height: int = 512
    platform: str | None = None  # platform label for folder images without sidecar metadata
    max_pixels: int = 50_000_000  # larger images are rejected as decompression bombs
    recursive: bool = True
    max_file_mb: int = 200  # larger files (10^6 bytes per MB) are rejected unread as too_large
    follow_symlinks: str = "inside"  # inside | all | none

    def check(self) -> None:
        _one_of("corpus.source", self.source, ("demo", "folder"))
        if self.source == "folder":
            _require(
                bool(self.path),
                "corpus=folder needs corpus.path=DIR (a folder of images)",
            )
        _require(self.n > 0, f"corpus.n={self.n} must be > 0")
        _require(
            self.width >= 32 and self.height >= 32,
            "corpus.width/height must be >= 32 pixels",
        )
        _require(self.max_pixels > 0, "corpus.max_pixels must be > 0")
        _require(
            self.max_file_mb > 0,
            f"corpus.max_file_mb={self.max_file_mb} must be > 0 (the largest file to read, in MB)",
        )
        _one_of(
            "corpus.follow_symlinks",
            self.follow_symlinks,
            ("inside", "all", "none"),
            " (inside: only links whose target is inside corpus.path)",
        )


@dataclass
class EmbedderConfig:
    """The CLIP model that embeds screenshots and keyword queries (open_clip)."""

    name: str = "tiny_clip"
    arch: str = "tiny_clip"
    pretrained: str | None = None  # open_clip pretrained tag; None = random init from init_seed
    model_config: str | None = "tiny_clip"  # packaged or local JSON config of a custom arch
    init_seed: int = 0
    device: str = "cpu"
    batch_size: int = 32
    prefetch: int = 2
    caption_encoder: str | None = "minilm"  # None: captions are not embedded

    def check(self) -> None:
        _require(self.batch_size > 0, f"embedder.batch_size={self.batch_size} must be > 0")
        _require(self.prefetch >= 1, f"embedder.prefetch={self.prefetch} must be >= 1")
        if self.caption_encoder is not None:
            _one_of("embedder.caption_encoder", self.caption_encoder, ("minilm",), " or null")


@dataclass
class ValueEntry:
    rationale: str = ""
    keywords: list[str] = field(default_factory=list)


@dataclass
class ValueKeywordsConfig:
    """Keywords per Schwartz value: the retrieval queries (paper.md section 3)."""

    name: str = "schwartz"
    source: str = MISSING  # where the keywords come from, for the record
    values: dict[str, ValueEntry] = MISSING

    def check(self) -> None:
        unknown = sorted(set(self.values) - set(VALUES))
        _require(
            not unknown,
            f"value_keywords.values has unknown value(s) {unknown}; use ids from {list(VALUES)}",
        )
        _require(bool(self.values), "value_keywords.values is empty; pick value_keywords=schwartz")
        for value, entry in self.values.items():
            kws = [k.strip() for k in entry.keywords]
            _require(
                all(kws),
                f"value_keywords.values.{value}.keywords has an empty keyword; remove it",
            )
            _require(
                len(set(kws)) == len(kws),
                f"value_keywords.values.{value}.keywords repeats a keyword; remove the duplicate",
            )
            _require(bool(kws), f"value_keywords.values.{value}.keywords is empty; add keywords")


@dataclass
class RetrieveConfig:
    """How many screenshots per keyword, and how much caption similarity counts."""

    k: int = 5  # screenshots per keyword (the paper's 5)
    caption_weight: float = 0.8  # fuse caption similarity (the demo CLIP is random); 0 = paper

    def check(self) -> None:
        _require(1 <= self.k <= 100, f"retrieve.k={self.k} must be between 1 and 100")
        _require(
            0.0 <= self.caption_weight <= 1.0,
            f"retrieve.caption_weight={self.caption_weight} must be between 0 and 1",
        )


