"""How the SIMULATED respondent "sees" an image: through the corpus, not through pixels.

The probe registers which screenshot each encoded image came from; the perceiver then compares
that screenshot's caption embedding (MiniLM) and/or CLIP image embedding with embeddings of the
ten value *definitions* (``values.DEFINITIONS``, not the retrieval keywords, so the check is not
circular) and turns the similarities into a probability over values with a softmax.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence

import numpy as np

from valuespectrum.models.base import ImagePart
from valuespectrum.values import VALUES

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
