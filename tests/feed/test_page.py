"""The page in headless Chromium: ArrowDown / wheel / swipe advance one item, the server logs
each impression with the dwell the page measured, and paused time is not dwell."""

from __future__ import annotations

import io
import time

import pytest
from PIL import Image

from tests.fakes.chromium import headless_chromium
from tests.feed.conftest import synthetic_catalog
from valuespectrum.config.roleplay import RecommenderConfig
from valuespectrum.feed.server import FeedServer
from valuespectrum.feed.session import Feed

pytestmark = pytest.mark.browser
SLACK_MS = 1000  # driver round trips on a busy machine; the pause below is twice that


@pytest.fixture(scope="module")
def browser():
    with headless_chromium(600, 900) as driver:
        yield driver


@pytest.fixture(scope="module")
def catalog(tmp_path_factory):
    return synthetic_catalog(2, image_dir=tmp_path_factory.mktemp("images"))


def _wait(driver, script: str, expected, timeout_s: float = 20):
    from selenium.webdriver.support.ui import WebDriverWait

    WebDriverWait(driver, timeout_s, poll_frequency=0.01).until(
        lambda d: d.execute_script(script) == expected,
        message=f"{script} never returned {expected!r}",
    )


def _at(driver, position: int) -> str:
    """Wait until the page shows ``position``; its item id."""
    _wait(driver, "return window.vsFeed ? window.vsFeed.position() : null", position)
    return driver.execute_script("return window.vsFeed.itemId()")


def _arrow_down(driver) -> None:
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.keys import Keys

    ActionChains(driver).send_keys(Keys.ARROW_DOWN).perform()


def test_arrow_down_logs_the_dwell_the_page_measured(browser, catalog) -> None:
    from selenium.webdriver.common.by import By

    feed = Feed(catalog, RecommenderConfig())
    feed.open_session("b1", 5)
    with FeedServer(feed) as server:
        browser.get(f"{server.url}/?session=b1")
        stays = (0.3, 0.9, 0.1)
        shown, measured = [], []
        for position, stay in enumerate(stays):
            shown.append(_at(browser, position))
            time.sleep(stay)
            _arrow_down(browser)
            _at(browser, position + 1)
            measured.append(browser.execute_script("return window.vsFeed.lastImpression()"))
        # pause while "the model thinks": that time is not dwell
        shown.append(_at(browser, 3))
        browser.execute_script("window.vsFeed.pause()")
        time.sleep(2 * SLACK_MS / 1000)
        browser.execute_script("window.vsFeed.resume()")
        time.sleep(0.2)
        _arrow_down(browser)
        shown.append(_at(browser, 4))
        measured.append(browser.execute_script("return window.vsFeed.lastImpression()"))
        element = browser.find_element(By.ID, "vs-item")
        png = Image.open(io.BytesIO(element.screenshot_as_png))
        assert min(png.size) > 100  # what the browser driver sends to the model
        text = element.text
        log = feed.impressions("b1")
    print("dwell ms, page = server:", [r.dwell_ms for r in log])
    assert [r.position for r in log] == [0, 1, 2, 3]
    assert [str(r.item_id) for r in log] == shown[:4]
    assert [r.dwell_ms for r in log] == [m["dwell_ms"] for m in measured]
    for record, stay in zip(log, (*stays, 0.2), strict=True):
        assert stay * 1000 <= record.dwell_ms < stay * 1000 + SLACK_MS, (record, stay)
    assert log[3].dwell_ms < 2 * SLACK_MS  # the 2 s pause was excluded
    item = catalog.by_id(int(shown[4]))
    assert item.caption in text and f"@{item.author}" in text and f"#{item.hashtags[0]}" in text


def test_wheel_and_swipe_advance_and_a_page_opens_its_own_session(browser, catalog) -> None:
    from selenium.webdriver.common.action_chains import ActionChains

    feed = Feed(catalog, RecommenderConfig(kind="random"))
    with FeedServer(feed) as server:
        browser.get(f"{server.url}/")
        _at(browser, 0)
        (sid,) = feed.session_ids()
        assert sid.startswith("page-") and sid in browser.current_url
        ActionChains(browser).scroll_by_amount(0, 400).perform()
        _at(browser, 1)
        browser.execute_script("""
            const at = (y) => new Touch({identifier: 1, target: document.body, clientX: 200,
                                         clientY: y});
            document.body.dispatchEvent(new TouchEvent("touchstart",
                {touches: [at(700)], changedTouches: [at(700)], bubbles: true}));
            document.body.dispatchEvent(new TouchEvent("touchend",
                {touches: [], changedTouches: [at(300)], bubbles: true}));
        """)
        _at(browser, 2)
        assert [r.position for r in feed.impressions(sid)] == [0, 1]


def test_the_debug_panel_shows_why_only_on_a_debug_feed(browser, catalog) -> None:
    from selenium.webdriver.common.by import By

    for debug in (False, True):
        feed = Feed(catalog, RecommenderConfig(), debug=debug)
        feed.open_session("d", 1)
        with FeedServer(feed) as server:
            browser.get(f"{server.url}/?session=d&debug=1")
            _at(browser, 0)
            panel = browser.find_element(By.ID, "vs-debug")
            assert panel.is_displayed() is debug
            if debug:
                assert "reason: cold start: random item" in panel.text
                assert "recommender state:" in panel.text and "explored yes" in panel.text
