"""Every figure writes a readable PNG of about the expected size; the radar keeps the paper's
axis order; the contact sheet's grid matches its items and survives missing files."""

from __future__ import annotations

import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from valuespectrum.report import plots
from valuespectrum.report.paper import INTRINSIC
from valuespectrum.report.plots import ContactItem, contact_sheet, radar_angles, sheet_grid
from valuespectrum.values import PAPER_AXIS_ORDER, VALUES

PROFILES = {m: INTRINSIC[m] for m in ("gpt-4o", "claude-3.5-sonnet", "internvl2")}


@pytest.fixture(scope="module")
def scores() -> pd.DataFrame:
    """A score_table-shaped frame: paper scores with ±8-point intervals."""
    rows = [
        {"model": m, "value": v, "score": s, "ci_low": s - 8, "ci_high": min(s + 8, 100)}
        for m, profile in PROFILES.items()
        for v, s in profile.items()
    ]
    return pd.DataFrame(rows)


def png_size(path: Path) -> tuple[int, int]:
    assert path.exists() and path.stat().st_size > 5_000
    with Image.open(path) as im:
        assert im.format == "PNG"
        return im.size


def test_radar_angles_follow_the_paper_clockwise_from_top():
    angles = radar_angles()
    assert tuple(angles) == PAPER_AXIS_ORDER
    assert angles["self_direction"] == 0.0  # at 12 o'clock
    steps = np.diff(list(angles.values()))
    assert np.allclose(steps, 2 * math.pi / 10)
    # Clockwise from the top: the second axis (Universalism) sits to the right of the first.
    x, y = math.sin(angles["universalism"]), math.cos(angles["universalism"])
    assert x > 0 and y > 0
    assert tuple(radar_angles(VALUES)) == VALUES


def test_radar_chart(tmp_path):
    ci = {m: {v: (s - 5, s + 5) for v, s in p.items()} for m, p in PROFILES.items()}
    out = plots.radar_chart(
        PROFILES, tmp_path / "r" / "radar.png", title="t", ci=ci, note="SIMULATED respondent"
    )
    w, h = png_size(out)
    assert 700 < w < 1200 and 650 < h < 1000
    partial = {"m": {v: 50.0 for v in VALUES[:7]}}  # missing values are a gap, not a crash
    png_size(plots.radar_chart(partial, tmp_path / "partial.png", title="t"))


def test_score_bars(tmp_path, scores):
    w, h = png_size(plots.score_bars(scores, tmp_path / "bars.png", title="t", note="n"))
    assert 1000 < w < 2100 and 400 < h < 800
    png_size(
        plots.score_bars(scores.drop(columns=["ci_low", "ci_high"]), tmp_path / "b.png", title="t")
    )


def test_score_bars_centred_uses_centred_intervals(tmp_path, scores):
    centred = scores.assign(
        centred=scores.score - scores.groupby("model").score.transform("mean"),
        centred_ci_low=lambda d: d.centred - 5,
        centred_ci_high=lambda d: d.centred + 5,
    )
    png_size(plots.score_bars(centred, tmp_path / "c.png", title="t", column="centred"))


def test_summary_bars(tmp_path):
    w, h = png_size(plots.value_means_bar(INTRINSIC, tmp_path / "means.png"))
    assert 600 < w < 1300 and 400 < h < 700
    w, h = png_size(plots.model_std_bar(INTRINSIC, tmp_path / "std.png", note="paper"))
    assert 600 < w < 1300 and 400 < h < 700


def test_heatmap_puts_values_in_circumplex_order(tmp_path):
    alphabetical = pd.DataFrame(PROFILES).T[sorted(VALUES)]
    centred = alphabetical.sub(alphabetical.mean(axis=1), axis=0)
    out = plots.heatmap(centred, tmp_path / "heat.png", title="t", cmap="RdBu_r", center=0)
    w, h = png_size(out)
    assert 800 < w < 1400 and 250 < h < 600
    png_size(plots.heatmap(alphabetical, tmp_path / "raw.png", title="t", cmap="viridis"))


def make_images(folder: Path, n: int) -> list[Path]:
    paths = []
    for i in range(n):
        path = folder / f"{i}.jpg"
        size = (300, 200) if i % 2 else (144, 256)  # landscape and portrait
        Image.new("RGB", size, (20 * (i % 12), 100, 150)).save(path)
        paths.append(path)
    return paths


def test_sheet_grid():
    items = [
        ContactItem(Path(f"{k}{i}"), f"kw{k}", row=f"kw{k}") for k in range(10) for i in range(5)
    ]
    cells = sheet_grid(items)
    assert cells[0] == (0, 0) and cells[-1] == (9, 4) and len(set(cells)) == 50
    assert {r for r, _ in cells[5:10]} == {1}  # one row per keyword
    loose = [ContactItem(Path(str(i)), "kw") for i in range(12)]
    assert sheet_grid(loose, columns=5)[-1] == (2, 1)
    wrapped = [ContactItem(Path(str(i)), "a", row="a") for i in range(7)]
    wrapped.append(ContactItem(Path("b"), "b", row="b"))
    assert sheet_grid(wrapped, columns=5)[5:] == [(1, 0), (1, 1), (2, 0)]


def test_contact_sheet_dimensions_and_missing_files(tmp_path):
    paths = make_images(tmp_path, 50)
    paths[7].unlink()  # row 1, column 2
    (tmp_path / "3.jpg").write_bytes(b"not a jpeg")  # unreadable
    items = [
        ContactItem(
            p,
            label=f"keyword{i // 5}",
            sublabel=f"#{i % 5 + 1}  0.3{i:02d}",
            row=f"keyword{i // 5}",
        )
        for i, p in enumerate(paths)
    ]
    out = contact_sheet(items, tmp_path / "sheet" / "hedonism.png", title="Hedonism")
    tw, th = 144, 256
    with Image.open(out) as im:
        assert im.size == (
            plots._PAD + plots._ROW_LABEL_W + 5 * (tw + plots._PAD),
            plots._TITLE_H + 10 * (th + plots._TEXT_H + plots._PAD) + plots._PAD,
        )
        x = plots._PAD + plots._ROW_LABEL_W + 2 * (tw + plots._PAD)
        y = plots._TITLE_H + 1 * (th + plots._TEXT_H + plots._PAD)
        assert im.getpixel((x + 5, y + 5)) == (160, 160, 160)  # grey placeholder


def test_contact_sheet_without_rows(tmp_path):
    items = [ContactItem(p, "vacation", f"#{i}") for i, p in enumerate(make_images(tmp_path, 12))]
    out = contact_sheet(items, tmp_path / "loose.png", title="t", columns=4, thumb=(72, 128))
    with Image.open(out) as im:
        assert im.size == (
            plots._PAD + 4 * (72 + plots._PAD),
            plots._TITLE_H + 3 * (128 + plots._TEXT_H + plots._PAD) + plots._PAD,
        )


def test_import_does_not_load_matplotlib():
    code = "import sys, valuespectrum.report.plots; print('matplotlib' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
