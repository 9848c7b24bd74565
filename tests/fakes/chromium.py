"""Headless Debian Chromium through selenium, for the tests that open a page (the feed, the
report, MLflow's UI): offline flags, quit on exit."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

FLAGS = ("--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run",
         "--disable-background-networking", "--disable-component-update",
         "--disable-dev-shm-usage")  # fmt: skip


@contextmanager
def headless_chromium(width: int = 1100, height: int = 900) -> Iterator[Any]:
    """A selenium driver of Debian's Chromium at ``width`` x ``height``, quit on exit."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = shutil.which("chromium") or "/usr/bin/chromium"
    for arg in (*FLAGS, f"--window-size={width},{height}"):
        options.add_argument(arg)
    service = Service(shutil.which("chromedriver") or "/usr/bin/chromedriver")
    driver = webdriver.Chrome(service=service, options=options)
    try:
        yield driver
    finally:
        driver.quit()
