"""The local feed's recommenders: one object per session, seeded, readable in a page.

``embedding`` keeps a per-session interest vector ``u`` in the catalog's embedding space (fused
image + caption, unit rows). A dwell of at least ``long_watch_ms`` moves it toward the item,
``u <- normalise((1 - toward) * u + toward * e)``; a dwell under ``skip_ms`` moves it away,
``u <- normalise(u - away * e)``; a dwell in between changes nothing. The next item is the
unseen one with the highest cosine to ``u`` (among ``candidates`` sampled unseen items, or all),
except that each pick is, with probability ``explore``, a uniformly random unseen item; the first
``cold_start`` picks, and any pick before ``u`` exists, are random too. ``random`` is the
control: the same pool in a seeded random order, no adaptation. Neither repeats an item within a
session, and both draw every random number from one ``numpy`` generator seeded by the session,
so the same seed and the same dwell sequence replay the same session exactly.

No web framework here: the direct driver calls these in-process, thousands of times a second.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from valuespectrum.config.roleplay import RecommenderConfig
from valuespectrum.feed.catalog import Catalog

TOP_FOR_STATE = 10  # items nearest the interest vector whose values the debug panel counts


@dataclass(frozen=True)
class Served:
    """Why an item was served at a position (``score``: cosine to the interest vector)."""

    position: int
    item_id: int
    score: float | None
    explored: bool
    reason: str


class CatalogExhausted(LookupError):
    """Every catalog item has been served in this session (no repeats)."""


class Recommender(Protocol):
    kind: str

    def next(self) -> Served: ...

    def observe(self, item_id: int, dwell_ms: int) -> None: ...

    def state(self) -> dict[str, Any]: ...


class _Pool:
    """The unseen rows of a catalog: O(1) uniform draw and removal, a boolean ``seen`` mask."""

    def __init__(self, n: int) -> None:
        self._rows = np.arange(n, dtype=np.int64)
        self._where = np.arange(n, dtype=np.int64)
        self.size = n
        self.seen = np.zeros(n, dtype=bool)

    def draw(self, rng: np.random.Generator) -> int:
        return int(self._rows[rng.integers(self.size)])

    def sample(self, rng: np.random.Generator, k: int) -> np.ndarray:
        return self._rows[rng.choice(self.size, size=k, replace=False)]

    def remove(self, row: int) -> None:
        at, last = int(self._where[row]), int(self._rows[self.size - 1])
        self._rows[at], self._where[last] = last, at
        self._rows[self.size - 1], self._where[row] = row, self.size - 1
        self.size -= 1
        self.seen[row] = True


class _Base:
    """What both kinds share: the pool, the generator, served/observed bookkeeping, counts."""

    kind = "base"

    def __init__(self, cfg: RecommenderConfig, catalog: Catalog, seed: int) -> None:
        self.cfg = cfg
        self.catalog = catalog
        self._rng = np.random.default_rng(seed)
        self._pool = _Pool(len(catalog))
        self._pending: set[int] = set()  # rows served and not yet observed
        self._position = 0
        self._counts = {"long": 0, "skip": 0, "neutral": 0}
        self._explored = 0

    def _serve(self, row: int, score: float | None, explored: bool, reason: str) -> Served:
        self._pool.remove(row)
        self._pending.add(row)
        served = Served(self._position, self.catalog.items[row].item_id, score, explored, reason)
        self._position += 1
        self._explored += explored
        return served

    def _check_left(self) -> None:
        if self._pool.size == 0:
            raise CatalogExhausted(f"all {len(self.catalog)} items were served in this session")

    def _take(self, item_id: int, dwell_ms: int) -> int:
        """The row of an item served and not yet observed, counted as long / skip / neutral."""
        row = self.catalog.index_of(item_id)
        if row not in self._pending:
            raise ValueError(f"item {item_id} was not served, or was observed already")
        if dwell_ms < 0:
            raise ValueError(f"dwell_ms must be >= 0, got {dwell_ms}")
        self._pending.discard(row)
        self._counts[self._kind_of(dwell_ms)] += 1
        return row

    def _kind_of(self, dwell_ms: int) -> str:
        if dwell_ms >= self.cfg.long_watch_ms:
            return "long"
        return "skip" if dwell_ms < self.cfg.skip_ms else "neutral"

    def state(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "next_position": self._position,
            "unseen": self._pool.size,
            "long_watches": self._counts["long"],
            "skips": self._counts["skip"],
            "neutral": self._counts["neutral"],
            "explored": self._explored,
            "long_watch_ms": self.cfg.long_watch_ms,
            "skip_ms": self.cfg.skip_ms,
        }


class RandomRecommender(_Base):
    """The control: a seeded random order over the same pool; dwell changes nothing."""

    kind = "random"

    def next(self) -> Served:
        self._check_left()
        return self._serve(self._pool.draw(self._rng), None, False, "random order (control)")

    def observe(self, item_id: int, dwell_ms: int) -> None:
        self._take(item_id, dwell_ms)


class EmbeddingRecommender(_Base):
    """Interest vector over item embeddings; see the module docstring for the exact rule."""

    kind = "embedding"

    def __init__(self, cfg: RecommenderConfig, catalog: Catalog, seed: int) -> None:
        super().__init__(cfg, catalog, seed)
        self._emb = catalog.embeddings
        self._interest = np.zeros(self._emb.shape[1], dtype=np.float32)
        self._has_interest = False
        self._last_update = "none yet"

    def next(self) -> Served:
        self._check_left()
        coin = self._rng.random()  # drawn every time, so the stream never depends on the branch
        if self._position < self.cfg.cold_start or not self._has_interest:
            why = "cold start" if self._position < self.cfg.cold_start else "no interest yet"
            return self._serve(self._pool.draw(self._rng), None, True, f"{why}: random item")
        if coin < self.cfg.explore:
            row = self._pool.draw(self._rng)
            score = float(self._emb[row] @ self._interest)
            return self._serve(
                row, score, True, f"exploration (share {self.cfg.explore:g}): random unseen item"
            )
        row, score, scored = self._best()
        return self._serve(
            row, score, False, f"closest unseen item to the interest vector (of {scored} scored)"
        )

    def _best(self) -> tuple[int, float, int]:
        k = self.cfg.candidates
        if 0 < k < self._pool.size:
            rows = self._pool.sample(self._rng, k)
            sims = self._emb[rows] @ self._interest
            at = int(np.argmax(sims))
            return int(rows[at]), float(sims[at]), k
        sims = self._emb @ self._interest
        sims[self._pool.seen] = -np.inf
        row = int(np.argmax(sims))  # ties: the lowest row, deterministically
        return row, float(sims[row]), self._pool.size

    def observe(self, item_id: int, dwell_ms: int) -> None:
        row = self._take(item_id, dwell_ms)
        kind = self._kind_of(dwell_ms)
        if kind == "neutral":
            self._last_update = f"none (item {item_id}, dwell {dwell_ms} ms)"
            return
        e = self._emb[row]
        if kind == "long":
            u = (1.0 - self.cfg.toward) * self._interest + self.cfg.toward * e
            self._last_update = f"toward item {item_id} (dwell {dwell_ms} ms)"
        else:
            u = self._interest - self.cfg.away * e
            self._last_update = f"away from item {item_id} (dwell {dwell_ms} ms)"
        norm = float(np.linalg.norm(u))
        self._has_interest = norm > 1e-12
        self._interest = (u / norm if self._has_interest else np.zeros_like(u)).astype(np.float32)

    def state(self) -> dict[str, Any]:
        out = super().state()
        out.update(explore=self.cfg.explore, cold_start=self.cfg.cold_start,
                   toward=self.cfg.toward, away=self.cfg.away,
                   has_interest=self._has_interest, last_update=self._last_update)
        if self._has_interest:
            near = np.argsort(-(self._emb @ self._interest), kind="stable")[:TOP_FOR_STATE]
            values = Counter(v for r in near for v in self.catalog.items[int(r)].values)
            out["interest_near_values"] = dict(values.most_common())
        return out


KINDS: dict[str, type[_Base]] = {
    "embedding": EmbeddingRecommender,
    "random": RandomRecommender,
}


def make_recommender(cfg: RecommenderConfig, catalog: Catalog, seed: int) -> Recommender:
    """A fresh recommender of ``cfg.kind`` for one session, seeded by ``seed``."""
    try:
        kind = KINDS[cfg.kind]
    except KeyError:
        raise ValueError(
            f"recommender.kind={cfg.kind!r} is not known; use one of {', '.join(KINDS)}"
        ) from None
    return kind(cfg, catalog, seed)
