"""The in-process Feed: impressions are accepted once per served position, in order; every
refusal has an HTTP status and leaves the log as it was; many threads share one Feed."""

from __future__ import annotations

import threading

import pytest
from pydantic import ValidationError

from tests.feed.conftest import synthetic_catalog
from valuespectrum.config.roleplay import RecommenderConfig
from valuespectrum.feed.session import MAX_DWELL_MS, Feed, FeedError, ImpressionEvent

CATALOG = synthetic_catalog(6)


def _feed(**kw) -> Feed:
    feed = Feed(CATALOG, RecommenderConfig(), **kw)
    feed.open_session("s", 1)
    return feed


def _event(position: int, item_id: int, dwell_ms: int = 1000) -> ImpressionEvent:
    return ImpressionEvent(position=position, item_id=item_id, dwell_ms=dwell_ms)


def _refused(feed: Feed, status: int, call, *args) -> None:
    before = feed.impressions("s")
    with pytest.raises(FeedError) as err:
        call(*args)
    assert err.value.status == status, err.value.message
    assert feed.impressions("s") == before


def test_impressions_are_recorded_in_order_with_why_their_item_was_served() -> None:
    feed = _feed()
    first = feed.next_item("s")
    assert feed.next_item("s") == first  # served again until its impression arrives
    rec = feed.record("s", _event(0, first.item_id, 3000))
    assert (rec.position, rec.item_id, rec.dwell_ms, rec.stayed) == (0, first.item_id, 3000, True)
    assert (rec.score, rec.explored, rec.reason) == (first.score, first.explored, first.reason)
    assert rec.served_at <= rec.recorded_at
    second = feed.next_item("s")
    assert second.position == 1 and second.item_id != first.item_id
    assert not feed.record("s", _event(1, second.item_id, 2999)).stayed  # below long_watch_ms
    assert [r.position for r in feed.impressions("s")] == [0, 1]


def test_out_of_order_wrong_item_unknown_item_and_session_change_nothing() -> None:
    feed = _feed()
    _refused(feed, 409, feed.record, "s", _event(0, CATALOG.items[0].item_id))  # nothing served
    served = feed.next_item("s")
    other = next(i.item_id for i in CATALOG.items if i.item_id != served.item_id)
    _refused(feed, 409, feed.record, "s", _event(1, served.item_id))  # position not served
    _refused(feed, 409, feed.record, "s", _event(0, other))  # not the item served there
    _refused(feed, 404, feed.record, "s", _event(0, 99))  # not in the catalog
    _refused(feed, 404, feed.record, "nobody", _event(0, served.item_id))
    _refused(feed, 404, feed.next_item, "nobody")
    feed.record("s", _event(0, served.item_id))
    _refused(feed, 409, feed.record, "s", _event(0, served.item_id))  # twice
    _refused(feed, 422, feed.record, "s", {"position": 1, "item_id": 1, "dwell_ms": 1})


def test_sessions_open_once_per_seed_with_valid_ids() -> None:
    feed = _feed()
    feed.open_session("s", 1)  # the same again: a no-op
    with pytest.raises(FeedError) as err:
        feed.open_session("s", 2)
    assert err.value.status == 409
    for bad in ("", "a b", "../x", "x" * 129, "-lead"):
        with pytest.raises(FeedError) as err:
            feed.open_session(bad, 1)
        assert err.value.status == 422
    with pytest.raises(FeedError) as err:
        feed.open_session("t", -1)
    assert err.value.status == 422
    small = Feed(CATALOG, RecommenderConfig(), max_sessions=1)
    small.open_session("a", 0)
    with pytest.raises(FeedError) as err:
        small.open_session("b", 0)
    assert err.value.status == 429
    assert small.session_ids() == ["a"]


def test_a_session_that_saw_everything_gets_410() -> None:
    feed = _feed()
    for p in range(len(CATALOG)):
        feed.record("s", _event(p, feed.next_item("s").item_id))
    with pytest.raises(FeedError) as err:
        feed.next_item("s")
    assert err.value.status == 410 and len(feed.impressions("s")) == len(CATALOG)


@pytest.mark.parametrize("body", [
    {"position": 0, "item_id": 1, "dwell_ms": 1, "stayed": True},  # extra key
    {"position": 0, "item_id": 1},  # missing key
    {"position": -1, "item_id": 1, "dwell_ms": 1},
    {"position": 0, "item_id": 1, "dwell_ms": -5},
    {"position": 0, "item_id": 1, "dwell_ms": MAX_DWELL_MS + 1},
    {"position": 0, "item_id": 1, "dwell_ms": 1.5},
    {"position": True, "item_id": 1, "dwell_ms": 1},
    {"position": 0, "item_id": "1e3", "dwell_ms": 1},
    {"position": 0, "item_id": "-1", "dwell_ms": 1},
    {"position": "0", "item_id": 1, "dwell_ms": 1},
    {"position": 0, "item_id": 2**63, "dwell_ms": 1},
])
def test_malformed_impressions_are_refused(body) -> None:
    with pytest.raises(ValidationError):
        ImpressionEvent(**body)


def test_item_ids_may_come_as_decimal_strings() -> None:
    big = 2**59 + 12345  # beyond JavaScript's exact integers
    assert ImpressionEvent(position=0, item_id=str(big), dwell_ms=0).item_id == big


def test_debug_state_only_when_the_feed_was_built_with_debug() -> None:
    feed = _feed()
    feed.next_item("s")
    with pytest.raises(FeedError) as err:
        feed.debug_state("s")
    assert err.value.status == 404
    debug = _feed(debug=True)
    debug.next_item("s")
    assert debug.debug_state("s")["next_position"] == 1


def test_threads_share_one_feed_and_each_position_is_recorded_once() -> None:
    feed = Feed(CATALOG, RecommenderConfig(), debug=True)
    errors: list[BaseException] = []

    def browse(sid: str) -> None:
        try:
            feed.open_session(sid, 0)
            for p in range(30):
                feed.record(sid, _event(p, feed.next_item(sid).item_id, 3000 * (p % 2)))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=browse, args=(f"t{i}",)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    logs = [[r.item_id for r in feed.impressions(f"t{i}")] for i in range(8)]
    assert all(log == logs[0] and len(set(log)) == 30 for log in logs)  # same seed, same dwell

    feed.open_session("race", 0)
    served = feed.next_item("race")
    outcomes: list[int] = []

    def post() -> None:
        try:
            feed.record("race", _event(0, served.item_id))
            outcomes.append(201)
        except FeedError as exc:
            outcomes.append(exc.status)

    racers = [threading.Thread(target=post) for _ in range(8)]
    for t in racers:
        t.start()
    for t in racers:
        t.join()
    assert sorted(outcomes) == [201] + [409] * 7 and len(feed.impressions("race")) == 1
