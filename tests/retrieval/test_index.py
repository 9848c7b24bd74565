"""VectorIndex on hand-built vectors whose cosine similarities are known in advance."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from valuespectrum.retrieval.index import Hit, ReadOnlyIndexError, VectorIndex
from valuespectrum.store.integrity import WorkspaceDamaged

ROOT = Path(__file__).resolve().parents[2]
QUERY = np.array([1.0, 0.0, 0.0, 0.0], dtype=np.float32)
# key -> vector; cosine to QUERY is the first number over the norm. Key 60 is not unit-length
# (cos 0.9) to check that similarities are cosines, not dot products.
PLANTED = {
    10: [1.0, 0.0, 0.0, 0.0],  # 1.0
    20: [0.8, 0.6, 0.0, 0.0],  # 0.8
    30: [0.6, 0.0, 0.8, 0.0],  # 0.6
    40: [0.0, 1.0, 0.0, 0.0],  # 0.0
    50: [-1.0, 0.0, 0.0, 0.0],  # -1.0
    60: [1.8, 0.0, 0.0, 2 * np.sqrt(0.19)],  # 0.9
}
EXPECTED = [(10, 1.0), (60, 0.9), (20, 0.8), (30, 0.6), (40, 0.0), (50, -1.0)]


def build(**kwargs) -> VectorIndex:
    index = VectorIndex.create(4, **kwargs)
    index.add(np.array(list(PLANTED), dtype=np.uint64), np.array(list(PLANTED.values())))
    return index


def as_pairs(hits: list[Hit]) -> list[tuple[int, float]]:
    return [(key, round(sim, 5)) for key, sim in hits]


@pytest.mark.parametrize("exact", [True, False])
def test_planted_neighbours_in_order_with_cosines(exact: bool) -> None:
    index = build()
    [hits] = index.search(QUERY, k=4, exact=exact)
    assert as_pairs(hits) == EXPECTED[:4]
    assert all(isinstance(h.key, int) and isinstance(h.similarity, float) for h in hits)
    [everything] = index.search(QUERY[None] * 3.0, k=10, exact=exact)  # query norm is irrelevant
    assert as_pairs(everything) == EXPECTED


@pytest.mark.parametrize("exact", [True, False])
def test_exclude_skips_keys_and_still_fills_k(exact: bool) -> None:
    index = build()
    [hits] = index.search(QUERY, k=3, exclude={10, 60, 999}, exact=exact)
    assert [h.key for h in hits] == [20, 30, 40]
    [rest] = index.search(QUERY, k=5, exclude=[10, 20, 30, 40], exact=exact)
    assert [h.key for h in rest] == [60, 50]  # fewer than k only when the index runs out


def test_batch_queries_and_exact_hnsw_agree() -> None:
    rng = np.random.default_rng(0)
    centres = rng.standard_normal((20, 32)).astype(np.float32)
    vectors = centres[rng.integers(0, 20, 2000)] + 0.3 * rng.standard_normal((2000, 32))
    keys = np.arange(5, 2005, dtype=np.int64)
    index = VectorIndex.create(32)
    assert index.add(keys, vectors) == 2000
    queries = centres[:8] + 0.1 * rng.standard_normal((8, 32))
    unit = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
    truth = np.argsort(-(queries / np.linalg.norm(queries, axis=1, keepdims=True)) @ unit.T)[:, :5]
    exact = index.search(queries, 5, exact=True)
    assert [[h.key for h in hs] for hs in exact] == (keys[truth]).tolist()
    approx = index.search(queries, 5, exact=False)
    pairs = zip(approx, exact, strict=True)
    hits = sum(len({h.key for h in a} & {h.key for h in e}) for a, e in pairs)
    assert hits / 40 >= 0.95


def test_policy_follows_exact_threshold() -> None:
    assert build(exact_threshold=7).uses_exact
    small = build(exact_threshold=6)
    assert not small.uses_exact
    assert small.describe()["search"] == "hnsw"
    assert small.describe()["count"] == 6


def test_add_skips_present_and_repeated_keys() -> None:
    index = build()
    before = index.fingerprint()
    assert index.add(np.array([10, 70, 70]), np.ones((3, 4))) == 1
    assert len(index) == 7
    np.testing.assert_array_equal(index.get([10])[0], PLANTED[10])  # not overwritten
    assert index.fingerprint() != before


def test_keys_get_contains() -> None:
    index = build()
    assert index.keys().tolist() == sorted(PLANTED)
    assert index.keys().dtype == np.int64
    assert list(index) == sorted(PLANTED)
    assert 30 in index and 31 not in index and -1 not in index and "30" not in index
    np.testing.assert_allclose(index.get([60, 20]), [PLANTED[60], PLANTED[20]], rtol=1e-6)
    with pytest.raises(KeyError, match="1 keys not in the index"):
        index.get([10, 11])


@pytest.mark.parametrize(
    ("keys", "vectors", "message"),
    [
        (np.array([-1]), np.ones((1, 4)), "non-negative"),
        (np.array([1.5]), np.ones((1, 4)), "integer"),
        (np.array([1, 2]), np.ones((2, 3)), r"\(2, 4\)"),
        (np.array([1]), np.full((1, 4), np.nan), "NaN"),
    ],
)
def test_add_rejects_bad_input(keys: np.ndarray, vectors: np.ndarray, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        VectorIndex.create(4).add(keys, vectors)


def test_empty_index_and_bad_queries() -> None:
    index = VectorIndex.create(4)
    assert index.search(np.ones((2, 4)), 3) == [[], []]
    with pytest.raises(ValueError, match=r"\(n, 4\)"):
        build().search(np.ones(5), 3)
    with pytest.raises(ValueError, match="k must be"):
        build().search(QUERY, 0)


@pytest.mark.parametrize("view", [True, False])
def test_save_open_round_trip(tmp_path: Path, view: bool) -> None:
    index = build()
    path = index.save(tmp_path / "sub" / "screens.usearch")
    reopened = VectorIndex.open(path, view=view)
    assert len(reopened) == 6 and reopened.dim == 4 and reopened.view is view
    assert reopened.fingerprint() == index.fingerprint()
    for exact in (True, False):
        assert reopened.search(QUERY, 6, exact=exact) == index.search(QUERY, 6, exact=exact)
    assert [p.name for p in path.parent.iterdir()] == ["screens.usearch"]  # no temp files left
    if not view:  # a loaded (not viewed) index grows and saves over its own file
        assert reopened.add(np.array([10, 70]), np.ones((2, 4))) == 1
        reopened.save(path)
        assert len(VectorIndex.open(path, view=True)) == 7


def test_adding_to_a_view_raises_clear_error(tmp_path: Path) -> None:
    path = build().save(tmp_path / "i.usearch")
    view = VectorIndex.open(path, view=True)
    with pytest.raises(ReadOnlyIndexError, match="view=True"):
        view.add(np.array([99]), np.ones((1, 4)))


def test_fingerprint_is_content_based() -> None:
    index = build()
    assert index.fingerprint() == index.fingerprint()
    assert len(index.fingerprint()) == 16
    reordered = VectorIndex.create(4)
    for key in reversed(list(PLANTED)):
        reordered.add(np.array([key]), np.array([PLANTED[key]]))
    assert reordered.fingerprint() == index.fingerprint()  # insertion order does not matter
    changed = VectorIndex.create(4)
    changed.add(np.array(list(PLANTED)), np.array(list(PLANTED.values())) * 1.0001)
    assert changed.fingerprint() != index.fingerprint()


def test_failed_save_keeps_previous_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = build().save(tmp_path / "i.usearch")
    good = path.read_bytes()
    bigger = build()
    bigger.add(np.array([70]), np.ones((1, 4)))

    def crash_mid_write(target: str, *args: object) -> None:
        Path(target).write_bytes(b"partial")
        raise OSError("disk full")

    monkeypatch.setattr(bigger.usearch, "save", crash_mid_write)
    with pytest.raises(OSError, match="disk full"):
        bigger.save(path)
    assert path.read_bytes() == good
    assert [p.name for p in tmp_path.iterdir()] == ["i.usearch"]
    assert len(VectorIndex.open(path, view=True)) == 6


def test_open_errors(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="run the index stage"):
        VectorIndex.open(tmp_path / "missing.usearch", view=True)
    garbage = tmp_path / "garbage.usearch"
    garbage.write_bytes(b"hello" * 100)
    with pytest.raises(ValueError, match="not a USearch index"):
        VectorIndex.open(garbage, view=False)


def test_benchmark_quick_smoke() -> None:
    result = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "index_bench.py"), "--quick"],
        capture_output=True, text=True, timeout=120, check=True,
    )
    assert "recall@5" in result.stdout
    assert "policy: N=1000 -> exact" in result.stdout
    assert "policy: N=3000 -> HNSW" in result.stdout


@pytest.mark.parametrize("view", [True, False])
@pytest.mark.parametrize("keep", [0.5, 0.99])  # cut in the vectors, cut in the graph
def test_a_truncated_index_file_is_one_line_naming_the_fix(tmp_path: Path, view: bool,
                                                           keep: float) -> None:
    path = build().save(tmp_path / "image-x.usearch")
    os.truncate(path, int(path.stat().st_size * keep))
    with pytest.raises(WorkspaceDamaged) as info:
        VectorIndex.open(path, view=view)
    message = str(info.value)
    assert "\n" not in message and str(path) in message
    assert "delete it and re-run the index stage" in message


@pytest.mark.parametrize("umask", [0o022, 0o002, 0o077])
def test_saved_index_follows_the_umask_like_the_database(tmp_path: Path, umask: int) -> None:
    import duckdb

    old = os.umask(umask)
    try:
        path = build().save(tmp_path / "i.usearch")
        duckdb.connect(str(tmp_path / "db.duckdb")).close()
    finally:
        os.umask(old)
    mode = stat.S_IMODE(path.stat().st_mode)
    assert mode == 0o666 & ~umask
    assert mode == stat.S_IMODE((tmp_path / "db.duckdb").stat().st_mode)
