"""The recommenders alone: the embedding one learns a scripted viewer's taste, the random control
does not drift, both replay exactly from a seed and never repeat an item."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from tests.feed.conftest import synthetic_catalog
from valuespectrum.config.roleplay import RecommenderConfig
from valuespectrum.feed.recommender import CatalogExhausted, Served, make_recommender

TARGET = "hedonism"
LONG, SKIP, NEUTRAL = 5000, 400, 2000
STEPS = 45  # fewer than the 60 target items: the feed never runs out of them
CATALOG = synthetic_catalog(60)


def _session(kind: str, seed: int, *, dwell=None, steps: int = STEPS, catalog=CATALOG,
             **settings) -> tuple[list[Served], np.ndarray]:
    """A scripted viewer: long watches on TARGET items, quick skips on the rest (or ``dwell``)."""
    rec = make_recommender(RecommenderConfig(kind=kind, **settings), catalog, seed)
    dwell = dwell or (lambda values: LONG if TARGET in values else SKIP)
    served, hits = [], []
    for _ in range(steps):
        s = rec.next()
        values = catalog.by_id(s.item_id).values
        served.append(s)
        hits.append(TARGET in values)
        rec.observe(s.item_id, dwell(values))
    return served, np.array(hits)


def _thirds(hits: np.ndarray) -> tuple[float, float]:
    third = hits.shape[-1] // 3
    return float(hits[..., :third].mean()), float(hits[..., -third:].mean())


def test_a_viewer_who_stays_on_one_value_is_served_more_of_it_over_time() -> None:
    hits = np.array([_session("embedding", seed)[1] for seed in range(30)])
    first, last = _thirds(hits)
    assert last >= 0.75  # base rate 0.1: nine in ten of the last third are the viewer's value
    assert last - first >= 0.2  # measured: first third 0.58, last third 0.91
    # the same viewer on the control sees the base rate throughout
    control = np.array([_session("random", seed)[1] for seed in range(30)])
    assert _thirds(control)[1] < 0.2


def test_quick_skips_push_the_feed_away_from_a_value() -> None:
    def dislikes_target(values):  # skips the target at once, half-watches everything else
        return SKIP if TARGET in values else NEUTRAL

    hits = np.array([_session("embedding", s, dwell=dislikes_target, cold_start=1)[1]
                     for s in range(30)])
    assert hits[:, 5:].mean() < 0.05  # base rate 0.1: after a few skips it is rarely served


def test_dwell_between_skip_and_long_watch_teaches_nothing() -> None:
    served, _ = _session("embedding", 0, dwell=lambda values: NEUTRAL)
    assert all(s.score is None and s.explored for s in served)  # random picks throughout
    assert all(s.reason.endswith("random item") for s in served)


def test_same_seed_and_same_decisions_replay_the_same_session() -> None:
    for kind in ("embedding", "random"):
        a, _ = _session(kind, 7, candidates=25)
        b, _ = _session(kind, 7, candidates=25)
        assert a == b  # positions, items, scores, exploration flags and reasons
        c, _ = _session(kind, 8, candidates=25)
        assert [s.item_id for s in a] != [s.item_id for s in c]


def test_other_decisions_change_the_embedding_session_but_not_the_control() -> None:
    def likes_power(values):
        return LONG if "power" in values else SKIP

    for kind, differs in (("embedding", True), ("random", False)):
        a, _ = _session(kind, 3)
        b, _ = _session(kind, 3, dwell=likes_power)
        assert ([s.item_id for s in a] != [s.item_id for s in b]) is differs


def test_random_does_not_drift_from_the_base_rate() -> None:
    sessions = 200
    hits = np.array([_session("random", seed)[1] for seed in range(sessions)])
    first, last = _thirds(hits)
    n = sessions * (STEPS // 3)
    band = 4 * np.sqrt(0.1 * 0.9 / n)  # 4 binomial sds of a third's share (~0.022)
    assert abs(first - 0.1) < band and abs(last - 0.1) < band
    assert all(s.score is None and not s.explored for s in _session("random", 0)[0])


@pytest.mark.parametrize(("kind", "settings"), [
    ("embedding", {}), ("embedding", {"candidates": 7, "explore": 0.5}), ("random", {}),
])
def test_no_item_is_served_twice_and_the_end_is_said(kind, settings) -> None:
    catalog = synthetic_catalog(5)
    served, _ = _session(kind, 1, steps=len(catalog), catalog=catalog, **settings)
    ids = [s.item_id for s in served]
    assert sorted(ids) == sorted(item.item_id for item in catalog.items)
    assert [s.position for s in served] == list(range(len(catalog)))
    rec = make_recommender(RecommenderConfig(kind=kind, **settings), catalog, 1)
    for _ in range(len(catalog)):
        rec.next()
    with pytest.raises(CatalogExhausted, match="all 50 items"):
        rec.next()


def test_exploration_share_and_cold_start_follow_the_config() -> None:
    explored = np.array([[s.explored for s in _session("embedding", seed, explore=0.3)[0]]
                         for seed in range(60)])
    cold = RecommenderConfig().cold_start
    assert explored[:, :cold].all()  # the cold start is random
    share = explored[:, cold:].mean()
    assert abs(share - 0.3) < 4 * np.sqrt(0.3 * 0.7 / explored[:, cold:].size)
    greedy, _ = _session("embedding", 0, explore=0.0)
    assert not any(s.explored for s in greedy[cold:])
    assert all(s.score is not None for s in greedy[cold:])
    assert all(s.reason.startswith("closest unseen item") for s in greedy[cold:])


def test_the_interest_vector_picks_the_nearest_unseen_item() -> None:
    cfg = RecommenderConfig(explore=0.0, cold_start=0)
    rec = make_recommender(cfg, CATALOG, 0)
    first = rec.next()
    rec.observe(first.item_id, LONG)
    second = rec.next()
    e = CATALOG.embeddings
    sims = e @ e[CATALOG.index_of(first.item_id)]
    sims[CATALOG.index_of(first.item_id)] = -np.inf
    assert CATALOG.index_of(second.item_id) == int(np.argmax(sims))
    assert second.score == pytest.approx(float(sims.max()), abs=1e-5)


def test_observe_refuses_items_not_served_or_already_observed() -> None:
    rec = make_recommender(RecommenderConfig(), CATALOG, 0)
    s = rec.next()
    other = next(i.item_id for i in CATALOG.items if i.item_id != s.item_id)
    with pytest.raises(ValueError, match="not served"):
        rec.observe(other, LONG)
    rec.observe(s.item_id, LONG)
    with pytest.raises(ValueError, match="observed already"):
        rec.observe(s.item_id, LONG)
    with pytest.raises(KeyError, match="not in the catalog"):
        rec.observe(12345, LONG)


def test_state_summarises_what_the_recommender_learned() -> None:
    rec = make_recommender(RecommenderConfig(explore=0.0), CATALOG, 0)
    for _ in range(12):
        s = rec.next()
        rec.observe(s.item_id, LONG if TARGET in CATALOG.by_id(s.item_id).values else SKIP)
    state = rec.state()
    assert state["kind"] == "embedding" and state["next_position"] == 12
    assert state["long_watches"] + state["skips"] == 12 and state["unseen"] == len(CATALOG) - 12
    assert max(state["interest_near_values"], key=state["interest_near_values"].get) == TARGET
    assert make_recommender(RecommenderConfig(kind="random"), CATALOG, 0).state()["kind"] == (
        "random")


def test_an_unknown_kind_is_refused_naming_the_known_ones() -> None:
    cfg = dataclasses.replace(RecommenderConfig(), kind="bandit")
    with pytest.raises(ValueError, match="embedding, random"):
        make_recommender(cfg, CATALOG, 0)
