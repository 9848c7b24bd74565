"""Every figure writes a readable PNG of about the expected size and a PDF beside it; the radar
follows the chosen axis order and says which; legends name the CI band, the whiskers and the true
profile."""

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
from valuespectrum.report.plots import radar_angles
from valuespectrum.values import LABELS, PAPER_AXIS_ORDER, VALUES

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
    """Size of a written figure, after checking that its SVG twin exists beside it."""
    assert path.suffix == ".png" and path.exists() and path.stat().st_size > 5_000
    svg = path.with_suffix(".svg").read_text()
    assert svg.startswith("<?xml") and "<svg" in svg and len(svg) > 5_000
    with Image.open(path) as im:
        assert im.format == "PNG"
        return im.size


def legend_texts(fig) -> list[str]:
    legends = [*fig.legends, *(ax.get_legend() for ax in fig.axes if ax.get_legend())]
    return [t.get_text() for legend in legends for t in legend.get_texts()]


def figure_texts(fig) -> list[str]:
    return [t.get_text() for t in fig.texts]


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
    assert sorted(p.name for p in out.parent.iterdir()) == ["radar.png", "radar.svg"]
    w, h = png_size(out)
    assert 700 < w < 1200 and 800 < h < 1300
    partial = {"m": {v: 50.0 for v in VALUES[:7]}}  # missing values are a gap, not a crash
    png_size(plots.radar_chart(partial, tmp_path / "partial.png", title="t"))


def test_radar_legend_names_the_ci_band_and_the_caption_the_axis_order():
    profile = INTRINSIC["gpt-4o"]
    band = {v: (s - 5, s + 5) for v, s in profile.items()}
    one = plots.radar_figure(
        {"recovered profile": profile, "true profile": INTRINSIC["claude-3.5-sonnet"]},
        title="t",
        ci={"recovered profile": band},
    )
    assert legend_texts(one) == ["recovered profile", "95% bootstrap CI", "true profile"]
    assert any(t.startswith("axis order: paper") for t in figure_texts(one))
    many = plots.radar_figure(PROFILES, title="t", ci=dict.fromkeys(PROFILES, band))
    assert legend_texts(many)[-1] == "shaded: 95% bootstrap CI"
    bare = plots.radar_figure(PROFILES, title="t")
    assert not any("CI" in t for t in legend_texts(bare))


@pytest.mark.parametrize(
    ("order", "axes", "caption"),
    [("paper", PAPER_AXIS_ORDER, "axis order: paper"),
     ("circumplex", VALUES, "axis order: circumplex (Schwartz 1992)"),
     (VALUES, VALUES, "axis order: circumplex"),
     (VALUES[::-1], VALUES[::-1], "axis order: custom")],
)  # fmt: skip
def test_radar_axes_follow_the_chosen_order_and_the_figure_says_which(order, axes, caption):
    fig = plots.radar_figure(PROFILES, title="t", axis_order=order)
    (ax,) = fig.axes
    assert [t.get_text() for t in ax.get_xticklabels()] == [LABELS[v] for v in axes]
    assert np.allclose(ax.get_xticks(), list(radar_angles(order).values()))
    assert any(t.startswith(caption) for t in figure_texts(fig))


def test_unknown_axis_order_is_refused():
    with pytest.raises(ValueError, match="use one of paper, circumplex"):
        plots.radar_angles("alphabetical")


def test_score_bars(tmp_path, scores):
    w, h = png_size(plots.score_bars(scores, tmp_path / "bars.png", title="t", note="n"))
    assert 1000 < w < 2100 and 400 < h < 800
    png_size(
        plots.score_bars(scores.drop(columns=["ci_low", "ci_high"]), tmp_path / "b.png", title="t")
    )


def test_score_bars_label_the_axis_the_whiskers_and_the_true_profile(scores):
    one = scores[scores.model == "gpt-4o"]
    truth = {"gpt-4o": INTRINSIC["claude-3.5-sonnet"]}
    fig = plots.score_bars_figure(one, title="t", truth=truth, truth_label="true profile")
    (ax,) = fig.axes
    assert ax.get_ylabel() == "% yes"
    assert legend_texts(fig) == ["gpt-4o", "95% bootstrap CI", "true profile"]
    (marks,) = [c for c in ax.collections if c.get_label() == "true profile"]
    names = [t.get_text() for t in ax.get_xticklabels()]
    drawn = dict(zip(names, marks.get_offsets()[:, 1], strict=True))
    assert drawn == {LABELS[v]: s for v, s in truth["gpt-4o"].items()}
    bare = plots.score_bars_figure(one.drop(columns=["ci_low", "ci_high"]), title="t")
    assert legend_texts(bare) == ["gpt-4o"]  # no whiskers, so no whisker entry


def test_score_bars_centred_uses_centred_intervals(tmp_path, scores):
    centred = scores.assign(
        centred=scores.score - scores.groupby("model").score.transform("mean"),
        centred_ci_low=lambda d: d.centred - 5,
        centred_ci_high=lambda d: d.centred + 5,
    )
    png_size(plots.score_bars(centred, tmp_path / "c.png", title="t", column="centred"))
    fig = plots.score_bars_figure(centred, title="t", column="centred")
    assert fig.axes[0].get_ylabel().startswith("centred score")


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


def test_import_does_not_load_matplotlib():
    code = "import sys, valuespectrum.report.plots; print('matplotlib' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_svg_keeps_text_as_text_and_redraws_byte_identical(tmp_path):
    first = plots.radar_chart(PROFILES, tmp_path / "a" / "radar.png", title="Value profile: t")
    second = plots.radar_chart(PROFILES, tmp_path / "b" / "radar.png", title="Value profile: t")
    svg = first.with_suffix(".svg").read_text()
    assert "Value profile: t" in svg and "Self-Direction" in svg  # searchable, editable text
    assert svg == second.with_suffix(".svg").read_text()


def test_pdf_on_request_embeds_truetype_fonts(tmp_path):
    with plots.figure_formats(["png", "pdf"]):
        out = plots.radar_chart(PROFILES, tmp_path / "radar.png", title="t")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["radar.pdf", "radar.png"]
    pdf = out.with_suffix(".pdf").read_bytes()
    assert pdf.startswith(b"%PDF") and b"/FontFile2" in pdf and b"/Type3" not in pdf
    assert not (tmp_path / "radar.svg").exists()
    with pytest.raises(ValueError, match="start with png"), plots.figure_formats(["svg"]):
        pass
