"""The structure check finds a circumplex in circumplex-shaped profiles (small p), none in
shuffled or structureless ones, explains when there are too few jobs, and reads its angles and
Hedonism's place from the settings."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from tests.fakes.report_frames import report_data, runs
from valuespectrum.report import structure_section
from valuespectrum.report.sections import ReportSettings
from valuespectrum.values import CIRCUMPLEX_ANGLES, VALUES

SETTINGS = ReportSettings(n_perm=1999, seed=0)


def scores(profiles: np.ndarray) -> pd.DataFrame:
    rows = [{"job": f"job{i}", "value": v, "score": float(p[k])}
            for i, p in enumerate(profiles) for k, v in enumerate(VALUES)]
    return pd.DataFrame(rows)


def circumplex_profiles(n_jobs: int = 12, noise: float = 3.0, seed: int = 0) -> np.ndarray:
    """A yes-rate level per job plus a cosine around the circle peaking at a random angle."""
    rng = np.random.default_rng(seed)
    theta = np.radians([CIRCUMPLEX_ANGLES[v] for v in VALUES])
    phase = rng.uniform(0, 2 * np.pi, n_jobs)[:, None]
    level = rng.uniform(40, 70, n_jobs)[:, None]
    return level + 20 * np.cos(theta - phase) + rng.normal(0, noise, (n_jobs, len(VALUES)))


def section_for(profiles: np.ndarray, settings: ReportSettings = SETTINGS):
    jobs = [f"job{i}" for i in range(len(profiles))]
    return structure_section.build(report_data(runs(jobs), scores(profiles)), settings)


def test_circumplex_shaped_jobs_give_a_negative_rho_and_a_small_p(tmp_path):
    section = section_for(circumplex_profiles())
    test = section.tables["structure_test"].iloc[0]
    assert test["rho"] < -0.7 and test["p"] < 0.01
    assert test["n_jobs"] == 12 and test["n_pairs"] == 45
    assert test["mean_r_within"] > test["mean_r_adjacent"] > test["mean_r_opposite"]
    pairs = section.tables["structure_pairs"]
    assert len(pairs) == 45 and pairs["r"].notna().all()
    png = section.figures[0].draw(tmp_path / section.figures[0].name)
    with Image.open(png) as im:
        assert im.format == "PNG" and im.size[0] > 300


@pytest.mark.parametrize("seed", [1, 2])
def test_structureless_or_shuffled_profiles_give_no_small_p(seed):
    rng = np.random.default_rng(seed)
    noise = 50 + rng.normal(0, 10, (12, len(VALUES)))
    assert section_for(noise).tables["structure_test"].iloc[0]["p"] > 0.05
    # The same circumplex profiles, value labels interleaved: the circle is there, at the
    # wrong places.
    shuffled = circumplex_profiles(seed=seed)[:, [0, 5, 2, 7, 4, 9, 6, 1, 8, 3]]
    test = section_for(shuffled).tables["structure_test"].iloc[0]
    assert test["p"] > 0.05 and abs(test["rho"]) < 0.4


def test_fewer_than_three_jobs_is_explained_not_tested():
    section = section_for(circumplex_profiles(n_jobs=2))
    assert "Not enough runs" in section.text[0] and "2" in section.text[0]
    assert section.tables == {} and section.figures == []
    empty = report_data(runs([]), pd.DataFrame(columns=["job", "value", "score"]))
    assert structure_section.build(empty, SETTINGS) is None


def test_angles_and_hedonism_placement_are_settings():
    profiles = circumplex_profiles()
    wedge = section_for(profiles, ReportSettings(n_perm=199, circumplex="shared_wedge"))
    pairs = wedge.tables["structure_pairs"].set_index(["a", "b"])
    assert pairs.loc[("conformity", "tradition"), "distance"] == 0
    assert wedge.tables["structure_test"].iloc[0]["circumplex"] == "shared_wedge"
    custom = {v: 0.0 if v == "power" else 36.0 * i for i, v in enumerate(VALUES)}
    own = section_for(profiles, ReportSettings(n_perm=199, circumplex_angles=custom))
    assert own.tables["structure_pairs"].set_index(["a", "b"]).loc[
        ("self_direction", "power"), "distance"] == 0
    opened = section_for(profiles, ReportSettings(n_perm=199))
    enhanced = section_for(profiles, ReportSettings(n_perm=199, hedonism_in="self_enhancement"))
    rel = [s.tables["structure_pairs"].set_index(["a", "b"]).loc[("hedonism", "achievement"),
                                                                 "relation"]
           for s in (opened, enhanced)]  # fmt: skip
    assert rel == ["adjacent", "within"]
    with pytest.raises(ValueError, match="circumplex_angles"):
        section_for(profiles, ReportSettings(circumplex="round"))


def test_a_value_constant_across_jobs_is_left_out_and_named():
    profiles = circumplex_profiles()
    k = VALUES.index("power")
    others = np.delete(profiles, k, axis=1)
    profiles[:, k] = others.mean(axis=1)  # the job's mean: centred power is 0 in every job
    section = section_for(profiles)
    test = section.tables["structure_test"].iloc[0]
    assert test["n_values"] == 9 and test["n_pairs"] == 36
    assert any("Power" in t for t in section.text)


def test_the_papers_published_table_shows_only_weak_circle_structure():
    from valuespectrum.report.paper import INTRINSIC

    rows = [{"job": m, "value": v, "score": s} for m, p in INTRINSIC.items() for v, s in p.items()]
    r = runs(list(INTRINSIC))
    r["source"] = "table"
    section = structure_section.build(report_data(r, pd.DataFrame(rows)), SETTINGS)
    test = section.tables["structure_test"].iloc[0]
    assert test["n_jobs"] == 8 and test["rho"] == pytest.approx(-0.2625, abs=1e-3)
    assert 0.05 < test["p"] < 0.1  # neighbours lean together, not beyond chance at 8 models
    assert any("8 of the jobs are published tables" in t for t in section.text)
