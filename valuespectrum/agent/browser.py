"""The browser driver: Debian Chromium through undetected-chromedriver, on the real page.

The same loop as the direct driver, but the model sees a screenshot of the rendered item (the
``#vs-item`` element), the page measures the dwell itself, and a swipe is an ArrowDown key
press. The page's dwell clock is paused (``window.vsFeed.pause()``) from the moment the item is
on screen until the agent has decided, so the dwell the feed logs is the stay the agent chose,
not the model's latency. The session is opened, and a resumed session's stored impressions are
replayed, through the feed's JSON API before the page is loaded; the page then shows the first
position without an impression. The feed's own log of each impression is read back over the
API, so what is stored is what the server recorded.

Offline start (``shared/docs/env.md``): the Debian chromedriver is copied first (uc patches the
binary it is given), ``version_main`` is read from Chromium itself, background networking and
component updates are off, and the profile folder is removed on close.
"""

from __future__ import annotations

import asyncio
import io
import json
import re
import shutil
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Sequence
from pathlib import Path

from valuespectrum.agent.loop import Impression, Logged, View
from valuespectrum.models.base import ImagePart
from valuespectrum.probe.prompts import encode_image

CHROME_ARGS = (
    "--disable-gpu", "--no-first-run", "--no-default-browser-check",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-quic", "--disable-dev-shm-usage", "--window-size=540,960",
)


class BrowserUnavailable(RuntimeError):
    """Chromium or its driver cannot be started here (the message names the fix)."""


class FeedAPI:
    """The local feed's JSON API over HTTP (loopback). Item ids travel as decimal strings
    (60-bit ids are beyond JavaScript's exact integers)."""

    def __init__(self, base_url: str, timeout_s: float) -> None:
        self.base, self.timeout_s = base_url.rstrip("/"), timeout_s

    def call(self, method: str, path: str, body: dict | None = None) -> dict:
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.base + path, data=data, method=method,
                                     headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=self.timeout_s) as res:
                return json.loads(res.read() or b"{}")
        except urllib.error.HTTPError as exc:
            detail = exc.read().decode(errors="replace")[:300]
            raise RuntimeError(f"feed {method} {path}: HTTP {exc.code} {detail}") from None


def chromium_major(chromium: str) -> int | None:
    """Chromium's major version (uc's ``version_main``), or None when it cannot be read."""
    try:
        out = subprocess.run([chromium, "--version"], capture_output=True, text=True,
                             timeout=20).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    found = re.search(r"(\d+)\.\d+\.\d+", out)
    return int(found.group(1)) if found else None


def start_chrome(agent_cfg, workdir: Path):
    """An undetected-chromedriver Chrome started fully offline."""
    import undetected_chromedriver as uc

    for path, key in ((agent_cfg.chromium, "agent.chromium"),
                      (agent_cfg.chromedriver, "agent.chromedriver")):
        if not Path(path).is_file():
            raise BrowserUnavailable(
                f"{key}={path} does not exist; apt-get install -y chromium chromium-driver "
                f"or point {key} at it"
            )
    driver_copy = workdir / "chromedriver"
    shutil.copy2(agent_cfg.chromedriver, driver_copy)  # uc patches the binary in place
    options = uc.ChromeOptions()
    for arg in CHROME_ARGS:
        options.add_argument(arg)
    return uc.Chrome(
        options=options, headless=agent_cfg.headless,
        version_main=chromium_major(agent_cfg.chromium), use_subprocess=True,
        browser_executable_path=agent_cfg.chromium, driver_executable_path=str(driver_copy),
        user_data_dir=str(workdir / "profile"),
    )


class BrowserDriver:
    """One session on the feed page at ``base_url``, in its own Chromium."""

    def __init__(self, base_url: str, agent_cfg, *, image_max_side: int | None) -> None:
        self.base_url, self.cfg, self.max_side = base_url.rstrip("/"), agent_cfg, image_max_side
        self.api = FeedAPI(base_url, agent_cfg.page_timeout_s)
        self.session_id = ""
        self.next_position = 0
        self._chrome = None
        self._workdir: Path | None = None

    async def open(self, session_id: str, seed: int, replay: Sequence[Impression]) -> None:
        await asyncio.to_thread(self._open, session_id, seed, replay)

    async def look(self) -> View:
        return await asyncio.to_thread(self._look)

    async def pause(self) -> None:
        await asyncio.to_thread(self._script, "window.vsFeed.pause()")

    async def resume(self) -> None:
        return None  # the clock runs again in act(), right before the chosen dwell

    async def act(self, view: View, stay: bool, dwell_ms: int) -> Logged:
        return await asyncio.to_thread(self._act, view, dwell_ms)

    async def close(self) -> None:
        await asyncio.to_thread(self._close)

    # -- in a worker thread (selenium is blocking) ------------------------------------------
    def _open(self, session_id: str, seed: int, replay: Sequence[Impression]) -> None:
        self.session_id = session_id
        self.api.call("POST", "/api/sessions", {"session_id": session_id, "seed": seed})
        for imp in replay:
            served = self.api.call("GET", self._path("/next"))
            if (served["position"], int(served["item"]["item_id"])) != (imp.position, imp.item_id):
                raise RuntimeError(
                    f"session {session_id} does not replay on {self.base_url}: position "
                    f"{imp.position} served item {served['item']['item_id']}, stored {imp.item_id}"
                )
            self.api.call("POST", self._path("/impressions"), {
                "position": imp.position, "item_id": str(imp.item_id), "dwell_ms": imp.dwell_ms})
        self.next_position = len(replay)

    def _ensure_page(self) -> None:
        if self._chrome is not None:
            return
        self._workdir = Path(tempfile.mkdtemp(prefix="vs-browser-"))
        self._chrome = start_chrome(self.cfg, self._workdir)
        self._chrome.set_page_load_timeout(self.cfg.page_timeout_s)
        self._chrome.get(f"{self.base_url}/?session={self.session_id}")

    def _look(self) -> View:
        self._ensure_page()
        position = self.next_position
        item_id = self._wait_for(position)
        self._script("window.vsFeed.pause()")  # the screenshot is not part of the dwell
        from PIL import Image
        from selenium.webdriver.common.by import By

        png = self._chrome.find_element(By.ID, "vs-item").screenshot_as_png
        with Image.open(io.BytesIO(png)) as shot:
            part = encode_image(shot, max_side=self.max_side)

        async def image() -> ImagePart:
            return part

        return View(position, item_id, image)

    def _act(self, view: View, dwell_ms: int) -> Logged:
        from selenium.webdriver.common.action_chains import ActionChains
        from selenium.webdriver.common.keys import Keys

        self._script("window.vsFeed.resume()")
        time.sleep(dwell_ms / 1000)
        ActionChains(self._chrome).send_keys(Keys.ARROW_DOWN).perform()
        logged = self._wait_logged(view.position)
        self.next_position = view.position + 1
        if int(logged["item_id"]) != view.item_id:
            raise RuntimeError(f"the feed logged item {logged['item_id']} at position "
                               f"{view.position}, the agent saw {view.item_id}")
        return Logged(int(logged["dwell_ms"]), logged["score"], bool(logged["explored"]),
                      logged["reason"])

    def _wait_for(self, position: int) -> int:
        deadline = time.monotonic() + self.cfg.page_timeout_s
        while time.monotonic() < deadline:
            state = self._script(
                "return [window.vsFeed && window.vsFeed.position(), "
                "window.vsFeed && window.vsFeed.itemId(), window.vsFeed && window.vsFeed.error()]"
            )
            if state and state[0] == position:
                return int(state[1])
            if state and state[2]:
                raise RuntimeError(f"the feed page reports: {state[2]}")
            time.sleep(0.02)
        raise TimeoutError(f"the feed page did not show position {position} within "
                           f"{self.cfg.page_timeout_s:g} s (agent.page_timeout_s)")

    def _wait_logged(self, position: int) -> dict:
        deadline = time.monotonic() + self.cfg.page_timeout_s
        while time.monotonic() < deadline:
            rows = self.api.call("GET", self._path("/impressions"))["impressions"]
            if len(rows) > position:
                return rows[position]
            time.sleep(0.02)
        raise TimeoutError(f"the feed logged no impression for position {position} within "
                           f"{self.cfg.page_timeout_s:g} s (agent.page_timeout_s)")

    def _script(self, js: str):
        return self._chrome.execute_script(js) if self._chrome is not None else None

    def _path(self, tail: str) -> str:
        return f"/api/sessions/{self.session_id}{tail}"

    def _close(self) -> None:
        if self._chrome is not None:
            try:
                self._chrome.quit()
            finally:
                self._chrome = None
        if self._workdir is not None:
            shutil.rmtree(self._workdir, ignore_errors=True)
            self._workdir = None
