"""USearch HNSW vs exact top-k on clustered CLIP-like vectors, side by side from one run.

Decides ``VectorIndex``'s ``exact_threshold``: below it ``search`` is exact (numpy over all
vectors), above it HNSW. Data: N float32 vectors around 1000 unevenly populated gaussian
clusters (intra-cluster cosine ~0.6, like CLIP image embeddings of similar content); queries: a
keyword set of 100 "text-like" vectors near cluster centres but shifted along one shared
direction (the CLIP modality gap): best cosines ~0.4, near real text-to-image ones (~0.3).

Query timings: "batch" = the whole keyword set in one call; "calls" = one call per keyword
with a growing ``exclude`` set (how a value's keywords avoid reusing screenshots). Ratios are
batch times over the numpy batch time measured in the same run.

    python benchmarks/index_bench.py            # 50k and 200k x 512-d, about 3.5 min on 2 cores
    python benchmarks/index_bench.py --quick    # smoke run, a few seconds

Measured 2026-11-27 on the 2-core dev machine (AVX2; usearch 2.26.6, numpy 2.4.6), one run:

      N method                                      build s  batch s  calls s recall@5 batch/numpy
  50000 numpy exact (in RAM)                              -    0.143    1.538    1.000        1.00
  50000 usearch HNSW M=16 ef_add=64 ef=64              35.2    0.073    0.308    0.970        0.51
  50000 usearch HNSW M=16 ef_add=64 ef=512             35.2    0.573    0.514    1.000        4.00
  50000 usearch exact=True                             35.2    1.723        -    1.000       12.02
  50000 VectorIndex exact (numpy; 1st call 0.93s)      35.2    0.157    1.488    1.000        1.09
  50000 VectorIndex policy -> exact                    35.2    0.157    1.488    1.000        1.09
 200000 numpy exact (in RAM)                              -    0.457    4.554    1.000        1.00
 200000 usearch HNSW M=16 ef_add=64 ef=64             134.1    0.047    0.245    0.726        0.10
 200000 usearch HNSW M=16 ef_add=64 ef=512            134.1    0.193    0.421    0.994        0.42
 200000 usearch exact=True                            134.1    3.758        -    1.000        8.22
 200000 VectorIndex exact (numpy; 1st call 3.39s)     134.1    0.353    2.734    1.000        0.77
 200000 VectorIndex policy -> exact                   134.1    0.353    2.734    1.000        0.77

With USearch's default ``expansion_add=128`` (``--expansion-add 128``, an earlier run on a busier
machine) the build took 73 s / 315 s and recall was 0.980 / 0.850 at ef=64, 1.000 / 0.996 at
ef=512: twice the build time for little recall, hence VectorIndex's 64.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from valuespectrum.retrieval.index import (
    DEFAULT_EXACT_THRESHOLD,
    DEFAULT_EXPANSION_ADD,
    DEFAULT_EXPANSION_SEARCH,
    VectorIndex,
)

USEARCH_DEFAULT_EF_SEARCH = 64


@dataclass(frozen=True)
class Row:
    size: int
    method: str
    build_s: float | None
    batch_s: float
    calls_s: float | None
    recall: float


def unit(x: np.ndarray) -> np.ndarray:
    return x / np.linalg.norm(x, axis=-1, keepdims=True)


def make_data(n: int, dim: int, clusters: int, queries: int, seed: int):
    """Clustered corpus and text-like queries (both unit-norm float32)."""
    rng = np.random.default_rng(seed)
    centres = unit(rng.standard_normal((clusters, dim), dtype=np.float32))
    weights = 1.0 / np.sqrt(np.arange(1, clusters + 1))  # uneven topics, as in a real feed
    assign = rng.choice(clusters, size=n, p=weights / weights.sum())
    corpus = np.empty((n, dim), dtype=np.float32)
    for start in range(0, n, 50_000):  # chunks keep the temporary noise small
        part = assign[start : start + 50_000]
        noise = rng.standard_normal((part.size, dim), dtype=np.float32) * (0.8 / np.sqrt(dim))
        corpus[start : start + part.size] = unit(centres[part] + noise)
    gap = 2.0 * unit(rng.standard_normal(dim, dtype=np.float32))
    picked = rng.choice(clusters, size=queries, p=weights / weights.sum())
    noise = rng.standard_normal((queries, dim), dtype=np.float32) * (0.5 / np.sqrt(dim))
    return corpus, unit(centres[picked] + gap + noise).astype(np.float32)


def numpy_topk(corpus: np.ndarray, q: np.ndarray, k: int, drop: list[int] | None = None):
    sims = q @ corpus.T
    if drop:
        sims[:, drop] = -np.inf
    top = np.argpartition(-sims, k - 1, axis=1)[:, :k]
    order = np.argsort(-np.take_along_axis(sims, top, axis=1), axis=1)
    return np.take_along_axis(top, order, axis=1)


def timed(fn: Callable[[], object], repeats: int = 3) -> tuple[float, object]:
    """Best wall time of up to ``repeats`` calls (one if a call takes over 1 s), and the result."""
    best, result = float("inf"), None
    for _ in range(repeats):
        start = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - start)
        if best > 1.0:
            break
    return best, result


def per_keyword(search: Callable[[np.ndarray, set[int]], list[int]], q: np.ndarray) -> float:
    """One call per query row, excluding everything earlier rows returned."""
    used: set[int] = set()
    start = time.perf_counter()
    for row in q:
        used.update(search(row, used))
    return time.perf_counter() - start


def recall(found: list[list[int]], truth: np.ndarray) -> float:
    k = truth.shape[1]
    pairs = zip(found, truth, strict=True)
    return float(np.mean([len(set(f) & set(t.tolist())) / k for f, t in pairs]))


def bench_size(n: int, args: argparse.Namespace) -> list[Row]:
    corpus, q = make_data(n, args.dim, args.clusters, args.queries, args.seed)
    keys = np.arange(1, n + 1, dtype=np.int64)  # DuckDB-style ids: key = row + 1
    k = args.k

    np_batch, top = timed(lambda: numpy_topk(corpus, q, k))
    truth = np.asarray(top) + 1
    np_calls = per_keyword(
        lambda row, used: (numpy_topk(corpus, row[None], k, [u - 1 for u in used])[0] + 1).tolist(),
        q,
    )
    rows = [Row(n, "numpy exact (in RAM)", None, np_batch, np_calls, 1.0)]

    index = VectorIndex.create(args.dim, threads=args.threads, exact_threshold=args.exact_threshold,
                               expansion_add=args.expansion_add)
    start = time.perf_counter()
    index.add(keys, corpus)
    build = time.perf_counter() - start
    raw = index.usearch

    def raw_call(row: np.ndarray, used: set[int]) -> list[int]:
        found = raw.search(row, k + len(used), threads=args.threads).keys.tolist()
        return [key for key in found if key not in used][:k]

    for ef in (USEARCH_DEFAULT_EF_SEARCH, DEFAULT_EXPANSION_SEARCH):
        raw.expansion_search = ef
        batch, res = timed(lambda: raw.search(q, k, threads=args.threads))
        found = [m.keys.tolist() for m in res]
        label = f"usearch HNSW M=16 ef_add={args.expansion_add} ef={ef}"
        rows.append(Row(n, label, build, batch,
                        per_keyword(raw_call, q), recall(found, truth)))
    hnsw_row = rows[-1]  # what VectorIndex uses above the threshold

    batch, res = timed(lambda: raw.search(q, k, exact=True, threads=args.threads))
    found = [m.keys.tolist() for m in res]
    rows.append(Row(n, "usearch exact=True", build, batch, None, recall(found, truth)))

    start = time.perf_counter()
    index.search(q, k, exact=True)  # the first call copies the vectors out of USearch
    cold = time.perf_counter() - start
    warm, hits = timed(lambda: index.search(q, k, exact=True))
    calls = per_keyword(
        lambda row, used: [h.key for h in index.search(row, k, exclude=used, exact=True)[0]], q
    )
    found = [[h.key for h in hs] for hs in hits]
    exact_row = Row(n, f"VectorIndex exact (numpy; 1st call {cold:.2f}s)", build, warm, calls,
                    recall(found, truth))
    rows.append(exact_row)
    chosen = exact_row if index.uses_exact else hnsw_row
    rows.append(Row(n, f"VectorIndex policy -> {'exact' if index.uses_exact else 'hnsw'}", build,
                    chosen.batch_s, chosen.calls_s, chosen.recall))
    return rows


def print_table(rows: list[Row]) -> None:
    numpy_batch = {r.size: r.batch_s for r in rows if r.method.startswith("numpy")}
    header = f"{'N':>7} {'method':<42} {'build s':>8} {'batch s':>8} {'calls s':>8} " \
             f"{'recall@5':>8} {'batch/numpy':>11}"
    print(header)
    print("-" * len(header))
    for r in rows:
        build = f"{r.build_s:8.1f}" if r.build_s is not None else f"{'-':>8}"
        calls = f"{r.calls_s:8.3f}" if r.calls_s is not None else f"{'-':>8}"
        print(f"{r.size:>7} {r.method:<42} {build} {r.batch_s:8.3f} {calls} "
              f"{r.recall:8.3f} {r.batch_s / numpy_batch[r.size]:11.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[50_000, 200_000])
    parser.add_argument("--dim", type=int, default=512)
    parser.add_argument("--clusters", type=int, default=1000)
    parser.add_argument("--queries", type=int, default=100)
    parser.add_argument("--k", type=int, default=5)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=0, help="USearch workers; 0 = all cores")
    parser.add_argument("--exact-threshold", type=int, default=DEFAULT_EXACT_THRESHOLD)
    parser.add_argument("--expansion-add", type=int, default=DEFAULT_EXPANSION_ADD,
                        help="HNSW build depth (USearch's default is 128: twice the build time)")
    parser.add_argument("--quick", action="store_true", help="tiny smoke run (seconds)")
    args = parser.parse_args()
    if args.quick:
        args.sizes, args.dim, args.clusters, args.queries = [1_000, 3_000], 64, 40, 20
        args.exact_threshold = 2_000
    rows: list[Row] = []
    for n in args.sizes:
        start = time.perf_counter()
        rows.extend(bench_size(n, args))
        print(f"[N={n}: {time.perf_counter() - start:.0f} s]", flush=True)
    print()
    print_table(rows)
    print()
    for n in args.sizes:
        exact = next(r for r in rows if r.size == n and r.method.startswith("VectorIndex exact"))
        hnsw = next(r for r in rows if r.size == n
                    and r.method.endswith(f"ef={DEFAULT_EXPANSION_SEARCH}"))
        how = "exact" if n < args.exact_threshold else f"HNSW (ef={DEFAULT_EXPANSION_SEARCH})"
        print(f"policy: N={n} -> {how}, since exact_threshold={args.exact_threshold}: exact "
              f"recall {exact.recall:.3f} in {exact.batch_s:.2f} s per keyword set vs HNSW "
              f"recall {hnsw.recall:.3f} in {hnsw.batch_s:.2f} s")


if __name__ == "__main__":
    main()
