"""How the SIMULATED respondent "sees" an image: through the corpus, not through pixels.

The probe registers which screenshot each encoded image came from; the perceiver then compares
that screenshot's caption embedding (MiniLM) and/or CLIP image embedding with embeddings of the
ten value *definitions* (``values.DEFINITIONS``, not the retrieval keywords, so the check is not
circular) and turns the similarities into a probability over values with a softmax. The
``oracle`` perceiver instead knows each demo screenshot's theme (``screenshots.theme``): all its
probability on that value, so what it recovers tests the probe alone, not the perception.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from valuespectrum.models.base import ImagePart
from valuespectrum.values import DEFINITIONS, VALUES

log = logging.getLogger(__name__)


class CorpusPerceiver:
    """Maps an image to p(value | image); unknown images get the uniform distribution."""

    def __init__(
        self,
        names: Sequence[str],
        load_views: Callable[[], Mapping[str, tuple[Mapping[int, np.ndarray], np.ndarray]]],
        *,
        sharpness: float = 80.0,
    ) -> None:
        # load_views() -> name -> (screenshot id -> unit vector, definition matrix (10, dim)).
        # Loaded on first use: a fully cached re-run never needs the encoders.
        self.names = tuple(sorted(names))
        self._load_views = load_views
        self._views: Mapping[str, tuple[Mapping[int, np.ndarray], np.ndarray]] | None = None
        self.sharpness = sharpness
        self._by_sha: dict[str, int] = {}
        self.read: Callable[[str], Mapping[str, float]] | None = None  # text_reader

    def describe(self) -> dict[str, object]:
        """What decides the perception; part of the respondent's cache identity."""
        return {"views": list(self.names), "sharpness": self.sharpness, "definitions": "v1"}

    def register(self, image_sha256: str, screenshot_id: int) -> None:
        self._by_sha[image_sha256] = screenshot_id

    def __call__(self, image: ImagePart) -> dict[str, float]:
        sid = self._by_sha.get(image.sha256)
        if self._views is None:
            self._views = self._load_views()
        dists = []
        for vectors, definitions in self._views.values():
            if sid is None or sid not in vectors:
                continue
            sims = definitions @ vectors[sid]
            z = np.exp(self.sharpness * (sims - sims.max()))
            dists.append(z / z.sum())
        if not dists:
            return dict.fromkeys(VALUES, 1.0 / len(VALUES))
        mean = np.mean(dists, axis=0)
        return {v: float(p) for v, p in zip(VALUES, mean, strict=True)}


class ThemePerceiver:
    """Maps a screenshot to certainty on its known theme (the demo corpus's ground truth)."""

    def __init__(self, themes: Mapping[int, str]) -> None:
        self.themes = dict(themes)
        self._by_sha: dict[str, int] = {}
        self.read: Callable[[str], Mapping[str, float]] | None = None  # text_reader

    def describe(self) -> dict[str, object]:
        return {"views": ["oracle"], "source": "screenshots.theme"}

    def register(self, image_sha256: str, screenshot_id: int) -> None:
        self._by_sha[image_sha256] = screenshot_id

    def __call__(self, image: ImagePart) -> dict[str, float]:
        theme = self.themes.get(self._by_sha.get(image.sha256, -1))
        if theme is None:
            return dict.fromkeys(VALUES, 1.0 / len(VALUES))
        return {v: float(v == theme) for v in VALUES}


class TextReader:
    """Maps a text (a question about a description of an image) to p(value | text), as
    ``CorpusPerceiver`` maps a caption: each sentence's caption-encoder embedding against the
    value definitions', a softmax; the text is read by its sentence that says most about a
    value (the description's, rather than the question's framing around it).

    It is how the SIMULATED respondent reads when it is asked about a description alone (the
    modality ablation); the encoder is loaded on the first text.
    """

    def __init__(self, embed: Callable[[list[str]], np.ndarray],
                 load_definitions: Callable[[], np.ndarray], *, sharpness: float = 80.0) -> None:
        self._embed, self._load_definitions = embed, load_definitions
        self._definitions: np.ndarray | None = None
        self.sharpness = sharpness
        self._read: dict[str, dict[str, float]] = {}  # sentence -> p(value | sentence)

    def describe(self) -> dict[str, object]:
        """What decides the reading; part of the respondent's cache identity."""
        return {"reader": "caption-sentences-v1", "sharpness": self.sharpness,
                "definitions": "v1"}

    def __call__(self, text: str) -> dict[str, float]:
        self.prime([text])
        return max((self._read[s] for s in _sentences(text)), key=lambda p: max(p.values()))

    def prime(self, texts: Sequence[str]) -> None:
        """Read ``texts`` now, in one batch (each sentence is embedded once per process)."""
        new = list(dict.fromkeys(s for t in texts for s in _sentences(t) if s not in self._read))
        if not new:
            return
        if self._definitions is None:
            self._definitions = np.asarray(self._load_definitions(), dtype=np.float32)
        vectors = np.asarray(self._embed(new), dtype=np.float32)
        for sentence, vector in zip(new, vectors, strict=True):
            if not vector.any():  # an empty text says nothing
                self._read[sentence] = dict.fromkeys(VALUES, 1.0 / len(VALUES))
                continue
            sims = self._definitions @ vector
            z = np.exp(self.sharpness * (sims - sims.max()))
            self._read[sentence] = {v: float(p) for v, p in zip(VALUES, z / z.sum(), strict=True)}


def _sentences(text: str) -> list[str]:
    return [s for s in re.split(r"(?<=[.?!:])\s+", text.strip()) if s] or [text]


def text_reader(ctx) -> TextReader | None:
    """The respondent's reading of text through the configured caption encoder (None without
    one); the definitions' vectors are kept in the workspace as the perceivers' are."""
    from valuespectrum.retrieval.steps import make_embedder

    encoder = make_embedder(ctx.cfg.embedder).caption_encoder
    if encoder is None:
        return None
    definitions = [f"{v.replace('_', ' ')}: {DEFINITIONS[v]}" for v in VALUES]
    return TextReader(encoder.embed_texts, lambda: _text_vectors(
        ctx.workspace, encoder.tag, definitions, encoder.embed_texts))


def oracle_perceiver(
    ctx, images: dict[int, ImagePart], ids: Sequence[int] = ()
) -> ThemePerceiver:
    """The respondent that sees each image's theme; refused for images without one."""
    wanted = sorted(set(images) | {int(i) for i in ids})
    with ctx.store.connect() as con:
        rows = ctx.store.screenshots(con, wanted)
    themes = {r.id: r.theme for r in rows if r.theme in VALUES}
    if len(themes) < len(wanted):
        raise ValueError(
            f"model.perceive=oracle needs screenshots with a known theme (the demo corpus); "
            f"{len(wanted) - len(themes)} of {len(wanted)} have none: use corpus=demo, or "
            "model.perceive=caption"
        )
    perceiver = ThemePerceiver(themes)
    for sid, image in images.items():
        perceiver.register(image.sha256, sid)
    return perceiver


def corpus_perceiver(
    ctx, images: dict[int, ImagePart], ids: Sequence[int] = (), perceive: str | None = None
) -> CorpusPerceiver | ThemePerceiver:
    """The simulated respondent's view of the corpus (captions and/or CLIP vectors, or the
    demo's known themes).

    It knows the screenshots of ``images`` and of ``ids``; an image sent later (a feed item, a
    browser screenshot of one) is told to it with ``register(sha256, screenshot id)``.
    ``perceive`` is the respondent's ``perceive`` setting (default: ``model.perceive``; a
    simulated describer has its own). Its ``read`` reads text (``text_reader``).
    """
    from valuespectrum.retrieval.index import VectorIndex
    from valuespectrum.retrieval.steps import index_files, make_embedder

    mode = perceive or ctx.cfg.model.perceive
    if mode == "oracle":
        oracle = oracle_perceiver(ctx, images, ids)
        oracle.read = text_reader(ctx)
        return oracle
    embedder = make_embedder(ctx.cfg.embedder)
    files = index_files(ctx.workspace, embedder)
    definitions = [f"{v.replace('_', ' ')}: {DEFINITIONS[v]}" for v in VALUES]
    ids = np.array(sorted(set(images) | {int(i) for i in ids}), dtype=np.uint64)
    names = {"caption": ["caption"], "clip": ["clip"], "both": ["caption", "clip"]}[mode]
    if "caption" in names and (files.caption is None or not files.caption.exists()):
        raise FileNotFoundError(
            "the simulated respondent perceives captions: set embedder.caption_encoder=minilm"
            " and run the index stage, or model.perceive=clip"
        )

    def load_views() -> dict[str, Any]:
        views: dict[str, Any] = {}
        if "caption" in names:
            views["caption"] = _view(
                VectorIndex.open(files.caption, view=True),
                ids,
                _text_vectors(ctx.workspace, embedder.caption_encoder.tag, definitions,
                              embedder.caption_encoder.embed_texts),
            )
        if "clip" in names:
            views["clip"] = _view(
                VectorIndex.open(files.image, view=True), ids,
                _text_vectors(ctx.workspace, embedder.tag, definitions, embedder.embed_texts),
            )
        return views

    perceiver = CorpusPerceiver(names, load_views)
    perceiver.read = text_reader(ctx)
    for sid, image in images.items():
        perceiver.register(image.sha256, sid)
    return perceiver


def _text_vectors(workspace, tag: str, texts: list[str], embed) -> np.ndarray:
    """``embed(texts)``, kept in the workspace by encoder tag and text hash: a re-run whose
    images are all embedded already then loads no text encoder to perceive them."""
    import hashlib
    import os
    import re

    digest = hashlib.sha256("\n".join([tag, *texts]).encode()).hexdigest()[:16]
    path = workspace / "index" / f"texts-{re.sub(r'[^A-Za-z0-9._-]+', '_', tag)}-{digest}.npy"
    if path.exists():
        try:
            return np.load(path)
        except (OSError, ValueError):  # a torn file from a killed run: embed again
            pass
    vectors = np.asarray(embed(texts), dtype=np.float32)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f"{path.stem}.{os.getpid()}.tmp.npy")
    np.save(tmp, vectors)
    os.replace(tmp, path)
    return vectors


def _view(index, ids, definitions):
    present = np.array([int(i) in index for i in ids], dtype=bool)
    vectors = index.get(ids[present]) if present.any() else []
    return (
        {int(i): v for i, v in zip(ids[present], vectors, strict=True)},
        np.asarray(definitions, dtype=np.float32),
    )
