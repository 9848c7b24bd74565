"""The browser driver on the real page: headless Debian Chromium through undetected-chromedriver
against the local feed's server; what the agent stores is what the server logged."""

from __future__ import annotations

import asyncio
from dataclasses import replace

import pytest

from valuespectrum import runner
from valuespectrum.agent.browser import BrowserDriver
from valuespectrum.agent.direct import DirectDriver, ItemImages
from valuespectrum.agent.loop import Answer, run_session
from valuespectrum.cli import compose
from valuespectrum.config.roleplay import RecommenderConfig
from valuespectrum.feed.catalog import catalog_from_workspace
from valuespectrum.feed.server import FeedServer
from valuespectrum.feed.session import Feed
from valuespectrum.store import Store

VIDEOS = 5


@pytest.fixture(scope="module")
def catalog(tmp_path_factory):
    ws = tmp_path_factory.mktemp("feed") / "ws"
    cfg = compose([f"paths.workspace={ws}", "corpus.n=30", "stages=[collect,index]",
                   "progress=false", "tracking.enabled=false"])
    runner.run(cfg, output_dir=ws.parent / "out")
    return catalog_from_workspace(Store(ws), ws, cfg.embedder), cfg, ws


def _likes_even(images: list):
    async def decide(image, item_id: int) -> Answer:
        images.append(image)
        stay = item_id % 2 == 0
        return Answer(stay, "yes" if stay else "no", None, {"decision": stay}, "scripted", "fp")

    return decide


def _session(driver, decide, stay_ms: int, skip_ms: int, stored=()):
    return asyncio.run(run_session(
        "s-browser", 7, VIDEOS, driver, decide, list(stored), values_of=lambda _i: (),
        stay_ms=stay_ms, skip_ms=skip_ms, on_impression=lambda _imp: None,
    ))


@pytest.mark.browser
def test_a_browser_session_stores_what_the_feed_logged(catalog):
    cat, cfg, _ws = catalog
    rec = RecommenderConfig(long_watch_ms=300, skip_ms=150)
    agent = replace(cfg.agent, driver="browser", stay_s=0.4, skip_s=0.05)
    feed = Feed(cat, rec)
    images: list = []
    with FeedServer(feed) as server:
        driver = BrowserDriver(server.url, agent, image_max_side=512)
        result = _session(driver, _likes_even(images), 400, 50)
    logged = feed.impressions("s-browser")
    assert result.status == "complete" and len(result.impressions) == len(logged) == VIDEOS
    for mine, theirs in zip(result.impressions, logged, strict=True):
        assert (mine.position, mine.item_id, mine.dwell_ms, mine.rec_score, mine.explored) == (
            theirs.position, theirs.item_id, theirs.dwell_ms, theirs.score, theirs.explored)
        assert mine.stayed == theirs.stayed == (mine.item_id % 2 == 0)  # paused while deciding
    assert all(img.data[:2] == b"\xff\xd8" and len(img.data) > 1000 for img in images)
    # the same seed and decisions, in-process: the same items in the same order
    direct = Feed(cat, rec)
    again = _session(DirectDriver(direct, ItemImages(cat, _ws, 512)), _likes_even([]), 400, 50)
    assert [i.item_id for i in again.impressions] == [r.item_id for r in logged]
