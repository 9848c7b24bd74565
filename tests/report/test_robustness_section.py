"""The robustness section finds planted shifts, flags only rank changes beyond noise, recovers a
planted order effect and acquiescence index, and shows the blank-image baseline."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from tests.fakes.report_frames import answers, report_data, runs, scores_from
from valuespectrum.report import robustness_section
from valuespectrum.report.sections import ReportSettings
from valuespectrum.values import VALUES

SETTINGS = ReportSettings(n_boot=600, seed=1)
BASE = dict(zip(VALUES, (70, 64, 58, 52, 30, 46, 40, 82, 76, 88), strict=True))


def two_prompt_jobs(**changes: float) -> robustness_section.ReportData:
    other = {v: BASE[v] + changes.get(v, 0.0) for v in VALUES}
    a = pd.concat([answers("paper", BASE), answers("para1", other)])
    r = runs(["paper", "para1"], {"prompts": ["paper", "para1"], "model": ["m", "m"]})
    return report_data(r, scores_from(a), a)


def shifts_of(section) -> pd.DataFrame:
    return section.tables["robustness_shifts"].set_index("value")


def test_a_planted_shift_is_found_with_a_paired_interval_and_other_values_do_not_move(tmp_path):
    section = robustness_section.build(two_prompt_jobs(power=20), SETTINGS)
    s = shifts_of(section)
    assert s.loc["power", "shift"] == pytest.approx(20, abs=8)
    assert s.loc["power", "ci_low"] > 0 and s.loc["power", "ci_low"] < s.loc["power", "shift"]
    # Same screenshots, same answers: pairing leaves no noise where nothing changed.
    others = s.drop(index="power")
    assert (others["shift"] == 0).all() and (others["ci_high"] - others["ci_low"] == 0).all()
    assert set(s["ci_method"]) == {"paired"} and (s["n_shared"] == 50).all()
    assert set(s["factor"]) == {"prompts"}  # the model is a context, not an axis
    ranges = section.tables["robustness_ranges"].set_index("value")
    assert ranges.loc["power", "range"] == pytest.approx(abs(s.loc["power", "shift"]))
    assert [f.name for f in section.figures] == ["robustness_shifts"]
    draw_all(section, tmp_path)


def test_a_large_rank_change_is_flagged_and_a_swap_within_noise_is_not():
    # Power climbs from last to the middle; Achievement (52) and Security (46) trade places
    # on a few screenshots only.
    data = two_prompt_jobs(power=35, achievement=-4, security=4)
    section = robustness_section.build(data, SETTINGS)
    s = shifts_of(section)
    assert s.loc["power", "rank_changed"] and s.loc["power", "reference_rank"] == 10
    assert s.loc["power", "rank"] < 10
    assert "Power" in section.flags[0] and "prompts=para1" in section.flags[0]
    assert s.loc["achievement", "reference_score"] > s.loc["security", "reference_score"]
    assert s.loc["achievement", "score"] < s.loc["security", "score"]  # the order reversed ...
    assert "Security" not in s.loc["achievement", "swapped_with"]  # ... within noise
    off = robustness_section.build(data, ReportSettings(n_boot=600, rank_flag=False))
    assert off.flags == []


def test_without_answers_the_stored_cis_give_independent_intervals():
    data = two_prompt_jobs(power=30)
    data.answers = pd.DataFrame(columns=["job"])
    s = shifts_of(robustness_section.build(data, SETTINGS))
    assert set(s["ci_method"]) == {"independent"}
    assert s.loc["power", "ci_low"] > 0
    assert s.loc["hedonism", "ci_low"] < 0 < s.loc["hedonism", "ci_high"]


def acquiescent_run(bias: float, order_effect: float) -> pd.DataFrame:
    """Forward answers at BASE ± order_effect/2 (+ when asked "Yes or No"), reverse answers at
    100 - BASE + bias: an acquiescence index of ``bias`` and an order effect planted."""
    parts = []
    for keying, order, seed in (("forward", "yes_first", 1), ("forward", "no_first", 2),
                                ("reverse", "yes_first", 3), ("reverse", "no_first", 4)):
        if keying == "forward":
            sign = 1 if order == "yes_first" else -1
            rates = {v: BASE[v] + sign * order_effect / 2 for v in VALUES}
        else:
            rates = {v: 100 - BASE[v] + bias for v in VALUES}
        part = answers("run", rates, seed=seed, keywords=20, answer_order=order, keying=keying)
        part["sample"] = seed
        parts.append(part)
    return pd.concat(parts, ignore_index=True)


def test_the_planted_acquiescence_index_and_order_effect_are_within_their_intervals(tmp_path):
    a = acquiescent_run(bias=20, order_effect=12)
    data = report_data(runs(["run"]), scores_from(a), a)
    section = robustness_section.build(data, SETTINGS)
    w = section.tables["robustness_within_run"].set_index(["effect", "value"])
    acq = w.loc[("acquiescence", "overall")]
    assert acq["ci_low"] < 20 < acq["ci_high"] and acq["ci_low"] > 5
    order = w.loc[("order_effect", "overall")]
    assert order["ci_low"] < 12 < order["ci_high"] and order["ci_low"] > 0
    assert len(w.loc["acquiescence"]) == 11  # ten values and the overall
    assert any("acquiescence index" in t for t in section.text)
    draw_all(section, tmp_path)
    honest = acquiescent_run(bias=0, order_effect=0)
    w0 = robustness_section.build(report_data(runs(["run"]), scores_from(honest), honest),
                                  SETTINGS).tables["robustness_within_run"]
    overall = w0[w0["value"] == "overall"]
    assert ((overall["ci_low"] < 0) & (overall["ci_high"] > 0)).all()


def test_a_reverse_keyed_twin_job_gives_the_acquiescence_index_across_jobs():
    a = acquiescent_run(bias=20, order_effect=0)
    a["job"] = np.where(a["keying"] == "forward", "fwd", "rev")
    data = report_data(runs(["fwd", "rev"], {"probe.keying": ["forward", "reverse"]}),
                       scores_from(a[a["keying"] == "forward"]), a)
    w = robustness_section.build(data, SETTINGS).tables["robustness_within_run"]
    acq = w[(w["effect"] == "acquiescence") & (w["value"] == "overall")].iloc[0]
    assert acq["job"] == "fwd + rev" and acq["ci_low"] < 20 < acq["ci_high"]


def test_the_blank_image_control_is_drawn_as_the_baseline(tmp_path):
    blank = {v: 30.0 for v in VALUES}
    a = pd.concat([answers("shots", BASE), answers("blank", blank, seed=9)])
    data = report_data(runs(["shots", "blank"], {"probe.image": ["screenshot", "blank"]}),
                       scores_from(a), a)
    section = robustness_section.build(data, SETTINGS)
    b = section.tables["robustness_blank_baseline"].set_index("value")
    assert b["baseline"].iloc[0] == pytest.approx(30, abs=6)
    assert b.loc["universalism", "above_blank"] == pytest.approx(88 - 30, abs=15)
    assert b.loc["universalism", "ci_low"] > 0
    assert any("blank image" in t for t in section.text)
    # A control, not an axis: no shift and no rank flag for a model that sees nothing.
    assert "robustness_shifts" not in section.tables and section.flags == []
    assert [f.name for f in section.figures] == ["robustness_blank_baseline"]
    draw_all(section, tmp_path)


def draw_all(section, folder) -> None:
    for figure in section.figures:
        png = figure.draw(folder / figure.name)
        with Image.open(png) as im:
            assert im.format == "PNG" and im.size[0] > 300
        assert png.with_suffix(".svg").exists()


def test_nothing_to_compare_gives_no_section():
    a = answers("one", BASE)
    assert robustness_section.build(report_data(runs(["one"]), scores_from(a), a),
                                    SETTINGS) is None
    data = two_prompt_jobs()
    data.runs = data.runs.drop(columns=["factor.prompts"])  # only the model differs
    assert robustness_section.build(data, SETTINGS) is None


def test_every_later_level_is_compared_with_the_first():
    levels = ["paper", "p1", "p2"]
    a = pd.concat([answers(j, {v: BASE[v] + 5 * i for v in VALUES})
                   for i, j in enumerate(levels)])
    data = report_data(runs(levels, {"prompts": levels}), scores_from(a), a)
    s = robustness_section.build(data, SETTINGS).tables["robustness_shifts"]
    assert sorted(set(zip(s["reference"], s["level"], strict=True))) == [("paper", "p1"),
                                                                         ("paper", "p2")]
    power = s[s["value"] == "power"].set_index("level")["shift"]
    assert np.all(np.diff(power.loc[["p1", "p2"]].to_numpy()) >= 0)
