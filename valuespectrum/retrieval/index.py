"""Embedding vectors keyed by the integer ids of DuckDB rows, stored in a USearch file.

The key of a vector *is* the ``screenshots.id`` it embeds, so a search hit joins straight back to
the store and the index needs no side table. The file is written atomically, and can be opened
memory-mapped (``view=True``) by readers such as the retrieve stage.

Search policy, from ``benchmarks/index_bench.py`` (2 cores, 512-d clustered vectors, a keyword
set of 100 text-like queries, top-5; one run, numbers in that script's docstring). Exact numpy
search has recall 1.0 and costs 0.16 s per keyword set at 50k vectors, 0.35 s at 200k (plus a
one-off 0.9 s / 3.4 s copy of the vectors out of USearch). HNSW is faster only at 200k (0.05 s)
and there loses recall: 0.73 at USearch's default ``expansion_search`` 64, 0.994 at 512
(0.19 s). Exact therefore wins at the paper's scale (~50k screenshots); it grows linearly, so it
stays under ~1 s per keyword set (+ ~9 s copy, 1 GB RAM) up to ``DEFAULT_EXACT_THRESHOLD``
= 500k, an extrapolation; above that HNSW with ``expansion_search`` 512. Exact search is also
deterministic, which an HNSW graph built by several threads is not.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import secrets
from collections.abc import Collection, Iterator
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
from usearch.index import Index, Matches, MetricKind, ScalarKind

from valuespectrum.store.integrity import WorkspaceDamaged

logger = logging.getLogger(__name__)

DEFAULT_EXACT_THRESHOLD = 500_000
DEFAULT_EXPANSION_SEARCH = 512
DEFAULT_EXPANSION_ADD = 64  # USearch's 128 doubles build time; graph unused below the threshold
_MAX_KEY = 2**63 - 1  # DuckDB BIGINT
_CHUNK = 8192  # rows per bulk copy out of USearch: bounds the extra memory of a gather


class Hit(NamedTuple):
    """One search result: the row id and its cosine similarity to the query (higher is closer)."""

    key: int
    similarity: float


class ReadOnlyIndexError(RuntimeError):
    """Raised on writes to an index opened with ``view=True``."""


def _as_keys(keys: Any) -> np.ndarray:
    array = np.asarray(keys)
    if array.ndim != 1 or (array.size and not np.issubdtype(array.dtype, np.integer)):
        raise ValueError(f"keys must be a 1-D integer array, got {array.dtype} {array.shape}")
    if array.size and (array.min() < 0 or array.max() > _MAX_KEY):
        raise ValueError("keys must be non-negative and fit a signed 64-bit int (DuckDB BIGINT)")
    return array.astype(np.uint64)


def _new_temp(path: Path) -> Path:
    """An empty, new temp file beside ``path`` with mode 0666 minus the umask.

    ``tempfile.mkstemp`` makes 0600 files, so index files came out private while the DuckDB file
    beside them follows the umask; on a shared cluster filesystem the group could then read the
    database but not the indexes. ``os.open`` with 0666 lets the umask (and default ACLs) decide.
    """
    for _ in range(100):
        tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
        try:
            os.close(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))
            return tmp
        except FileExistsError:
            continue
    raise FileExistsError(f"cannot create a temp file beside {path}")


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class VectorIndex:
    """Cosine index over float32 vectors with DuckDB ids as keys.

    ``search`` is exact (numpy over all vectors: recall 1.0, deterministic ties by key) while the
    index holds fewer than ``exact_threshold`` vectors, and HNSW with ``expansion_search`` above
    (see the module docstring for the measurements). The graph is built on every ``add`` either
    way (35 s per 50k x 512 on 2 cores), so an index can cross the threshold without a rebuild.
    Use ``create`` or ``open`` rather than the constructor.
    """

    def __init__(self, index: Index, *, path: Path | None = None, view: bool = False,
                 exact_threshold: int = DEFAULT_EXACT_THRESHOLD, threads: int = 0) -> None:
        self._index = index
        self.path = path
        self.view = view
        self.exact_threshold = exact_threshold
        self.threads = threads  # USearch workers; 0 = all cores
        self._matrix_cache: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None
        self._fingerprint: str | None = None  # both caches are dropped by `add`

    @classmethod
    def create(cls, dim: int, *, connectivity: int | None = None,
               expansion_add: int = DEFAULT_EXPANSION_ADD,
               expansion_search: int = DEFAULT_EXPANSION_SEARCH,
               exact_threshold: int = DEFAULT_EXACT_THRESHOLD, threads: int = 0) -> VectorIndex:
        """An empty in-memory index (HNSW M=16 as in USearch, ``expansion_add`` 64 not 128)."""
        if dim < 1:
            raise ValueError(f"dim must be >= 1, got {dim}")
        index = Index(ndim=dim, metric=MetricKind.Cos, dtype=ScalarKind.F32,
                      connectivity=connectivity, expansion_add=expansion_add,
                      expansion_search=expansion_search)
        return cls(index, exact_threshold=exact_threshold, threads=threads)

    @classmethod
    def open(cls, path: str | os.PathLike[str], *, view: bool,
             expansion_search: int = DEFAULT_EXPANSION_SEARCH,
             exact_threshold: int = DEFAULT_EXACT_THRESHOLD, threads: int = 0) -> VectorIndex:
        """Load ``path`` into memory, or memory-map it read-only with ``view=True`` (~5 ms)."""
        path = Path(path)
        if not path.is_file():
            raise FileNotFoundError(f"no vector index at {path}; run the index stage first")
        fix = "delete it and re-run the index stage (stages=[index]), which re-embeds its vectors"
        try:
            meta = Index.metadata(path) or {}
        except ValueError as exc:  # cut inside the vectors, or not USearch at all
            raise WorkspaceDamaged(f"vector index {path} is damaged, not a USearch index "
                                   f"({exc}); {fix}") from exc
        if (meta.get("kind_metric"), meta.get("kind_scalar")) != (MetricKind.Cos, ScalarKind.F32):
            raise WorkspaceDamaged(f"vector index {path} is not a cosine float32 USearch index "
                                   f"({meta}); {fix}")
        try:
            index = Index.restore(path, view=view)
        except RuntimeError as exc:  # cut inside the graph: "File is corrupted ..."
            raise WorkspaceDamaged(f"vector index {path} is damaged ({exc}); {fix}") from exc
        if index is None:
            raise WorkspaceDamaged(f"vector index {path} is damaged (USearch read nothing); {fix}")
        index.expansion_search = expansion_search
        return cls(index, path=path, view=view, exact_threshold=exact_threshold, threads=threads)

    @property
    def dim(self) -> int:
        return int(self._index.ndim)

    @property
    def usearch(self) -> Index:
        """The wrapped USearch index, for benchmarks and diagnostics."""
        return self._index

    @property
    def uses_exact(self) -> bool:
        """Whether ``search`` is exact at the current size (see the module docstring)."""
        return len(self) < self.exact_threshold

    def __len__(self) -> int:
        return len(self._index)

    def __contains__(self, key: object) -> bool:
        if not isinstance(key, int | np.integer) or not 0 <= int(key) <= _MAX_KEY:
            return False
        return bool(self._index.contains(int(key)))

    def __iter__(self) -> Iterator[int]:
        return iter(self.keys().tolist())

    def keys(self) -> np.ndarray:
        """All keys, sorted, as int64 (the DuckDB id type)."""
        return np.sort(np.asarray(self._index.keys[:], dtype=np.uint64)).astype(np.int64)

    def get(self, keys: Any) -> np.ndarray:
        """Stored vectors for ``keys`` in the given order -> float32 (len(keys), dim)."""
        ukeys = _as_keys(keys)
        missing = ukeys[~self._index.contains(ukeys)] if ukeys.size else ukeys
        if missing.size:
            raise KeyError(f"{missing.size} keys not in the index, e.g. {missing[:5].tolist()}")
        out = np.empty((ukeys.size, self.dim), dtype=np.float32)
        for start in range(0, ukeys.size, _CHUNK):
            rows = self._index.get(ukeys[start : start + _CHUNK])
            out[start : start + len(rows)] = np.vstack(rows)
        return out

    def add(self, keys: Any, vectors: np.ndarray) -> int:
        """Add vectors; keys already present (or repeated in ``keys``) are skipped, not updated.

        Skipping makes re-running the index stage idempotent. Returns how many were added.
        """
        if self.view:
            raise ReadOnlyIndexError(f"index {self.path} was opened with view=True (memory-mapped, "
                                     "read-only); open it with view=False to add vectors")
        ukeys = _as_keys(keys)
        vectors = np.asarray(vectors, dtype=np.float32)
        if vectors.shape != (ukeys.size, self.dim):
            raise ValueError(f"vectors must be ({ukeys.size}, {self.dim}), got {vectors.shape}")
        if not np.isfinite(vectors).all():
            raise ValueError("vectors contain NaN or inf")
        _, first = np.unique(ukeys, return_index=True)
        first.sort()
        ukeys, vectors = ukeys[first], vectors[first]
        new = ~self._index.contains(ukeys) if ukeys.size else np.zeros(0, dtype=bool)
        if new.any():
            self._index.add(ukeys[new], np.ascontiguousarray(vectors[new]), threads=self.threads)
            self._matrix_cache = self._fingerprint = None
        return int(new.sum())

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write atomically: a temp file in the same folder, fsync, then ``os.replace``.

        A crash or error mid-write leaves the previous file intact and no temp file behind.
        """
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = _new_temp(path)
        try:
            self._index.save(os.fspath(tmp))
            with tmp.open("rb") as fh:
                os.fsync(fh.fileno())
            os.replace(tmp, path)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        _fsync_dir(path.parent)
        return path

    def fingerprint(self) -> str:
        """Short content hash (dim, metric, count, sorted keys, vector bytes), recorded with every
        retrieval: identical after save/reopen, different after any change of content. Cached
        until the next ``add`` (the first call reads every vector: ~0.3 s per 50k x 512)."""
        if self._fingerprint is not None:
            return self._fingerprint
        digest = hashlib.sha256(json.dumps(
            {"dim": self.dim, "metric": "cos", "dtype": "f32", "count": len(self)}).encode())
        keys = self.keys()
        digest.update(keys.astype("<i8").tobytes())
        for block in self._blocks(keys):
            digest.update(block.astype("<f4").tobytes())
        self._fingerprint = digest.hexdigest()[:16]
        return self._fingerprint

    def describe(self) -> dict[str, Any]:
        """Parameters worth logging next to a retrieval."""
        return {"count": len(self), "dim": self.dim, "connectivity": self._index.connectivity,
                "expansion_add": self._index.expansion_add,
                "expansion_search": self._index.expansion_search,
                "exact_threshold": self.exact_threshold,
                "search": "exact" if self.uses_exact else "hnsw"}

    def search(self, queries: np.ndarray, k: int, *, exclude: Collection[int] | None = None,
               exact: bool | None = None) -> list[list[Hit]]:
        """Top-``k`` keys per query row, best first, as ``Hit(key, cosine similarity)``.

        ``exclude`` keys are never returned (e.g. screenshots already used for another keyword of
        the same value); fewer than ``k`` hits come back only if the index runs out. ``exact``
        overrides the size policy. A 1-D query is treated as one row.
        """
        q = np.atleast_2d(np.asarray(queries, dtype=np.float32))
        if q.ndim != 2 or q.shape[1] != self.dim:
            raise ValueError(f"queries must be (n, {self.dim}), got {np.shape(queries)}")
        if k < 1:
            raise ValueError(f"k must be >= 1, got {k}")
        if len(self) == 0:
            return [[] for _ in q]
        excluded = {int(key) for key in exclude or ()}
        use_exact = self.uses_exact if exact is None else exact
        if use_exact:
            return self._search_exact(q, k, excluded)
        return self._search_hnsw(q, k, excluded)

    def _search_hnsw(self, q: np.ndarray, k: int, excluded: set[int]) -> list[list[Hit]]:
        present = sum(1 for key in excluded if key in self)
        fetch = min(len(self), k + present)  # over-fetch so filtering still leaves k
        matches = self._index.search(q, fetch, threads=self.threads)
        if isinstance(matches, Matches):  # USearch returns Matches for a single row
            rows = [(matches.keys, matches.distances)]
        else:
            rows = [(matches.keys[i, :n], matches.distances[i, :n])
                    for i, n in enumerate(matches.counts)]
        return [[Hit(int(key), 1.0 - float(dist)) for key, dist in zip(keys, dists, strict=True)
                 if int(key) not in excluded][:k] for keys, dists in rows]

    def _search_exact(self, q: np.ndarray, k: int, excluded: set[int]) -> list[list[Hit]]:
        keys, matrix, inv_norms = self._matrix()
        q_norms = np.linalg.norm(q, axis=1, keepdims=True)
        q = q / np.where(q_norms > 0, q_norms, 1.0)
        ex = np.array([key for key in excluded if 0 <= key <= _MAX_KEY], dtype=np.int64)
        pos = np.searchsorted(keys, ex)
        inside = pos < keys.size
        drop = pos[inside][keys[pos[inside]] == ex[inside]]
        take = min(k, keys.size - drop.size)
        results: list[list[Hit]] = []
        step = max(1, 2**25 // keys.size)  # query rows per block: bounds the (rows, N) scores
        for start in range(0, len(q), step):
            sims = (q[start : start + step] @ matrix.T) * inv_norms
            sims[:, drop] = -np.inf
            if take <= 0:
                results.extend([] for _ in sims)
                continue
            tops = np.argpartition(-sims, take - 1, axis=1)[:, :take]
            for row, top in zip(sims, tops, strict=True):
                top = top[np.lexsort((keys[top], -row[top]))]  # best first, ties by key
                results.append([Hit(int(keys[i]), float(row[i])) for i in top])
        return results

    def _blocks(self, sorted_keys: np.ndarray) -> Iterator[np.ndarray]:
        if self._matrix_cache is not None:
            yield self._matrix_cache[1]
            return
        for start in range(0, sorted_keys.size, _CHUNK):
            yield self.get(sorted_keys[start : start + _CHUNK])

    def _matrix(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Sorted keys, their vectors and inverse norms, copied out of USearch once per change."""
        if self._matrix_cache is None:
            keys = self.keys()
            matrix = self.get(keys)
            norms = np.linalg.norm(matrix, axis=1)
            inv_norms = np.divide(1.0, norms, out=np.zeros_like(norms), where=norms > 0)
            self._matrix_cache = (keys, matrix, inv_norms.astype(np.float32))
        return self._matrix_cache
