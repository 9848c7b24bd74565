"""The report page opened from disk in headless Chromium (offline): every figure loads and
every table shows the rows of its CSV."""

from __future__ import annotations

import pandas as pd
import pytest

from tests.fakes.chromium import headless_chromium
from valuespectrum.cli import compose
from valuespectrum.report.command import make_report

pytestmark = pytest.mark.browser


@pytest.fixture
def browser():
    with headless_chromium(1100, 900) as driver:
        yield driver


def test_every_figure_loads_and_every_table_has_its_rows(demo_multirun, tmp_path, browser
                                                          ) -> None:  # fmt: skip
    cfg = compose([f"report.multirun={demo_multirun.folder}", "report.paper=true",
                   f"paths.workspace={demo_multirun.workspace}", "tracking.enabled=false"])
    result = make_report(cfg, tmp_path / "report")
    browser.get(result.html.as_uri())
    browser.execute_script("window.scrollTo(0, document.body.scrollHeight)")
    images = browser.execute_script(
        "return [...document.images].map(i => [i.complete, i.naturalWidth])")
    assert images and all(done and width > 0 for done, width in images), images
    tables = browser.execute_script(
        "return [...document.querySelectorAll('table')].map(t => "
        "[t.querySelector('caption .files').textContent, t.tBodies[0].rows.length])")
    shown = {files.strip("()"): rows for files, rows in tables}
    written = sorted(p.relative_to(result.folder).as_posix()
                     for p in (result.folder / "tables").glob("*.csv"))  # fmt: skip
    assert sorted(shown) == written
    for name, rows in shown.items():
        assert rows == len(pd.read_csv(result.folder / name)), name
    toc = browser.execute_script("return [...document.querySelectorAll('nav a')]"
                                 ".map(a => !!document.querySelector(a.hash))")
    assert toc and all(toc)
