"""Scores, rates, bootstrap CIs, centring and circumplex checks against hand-computed numbers and
against the paper's own published table."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from valuespectrum.probe.scoring import (
    SCORE_COLUMNS,
    circumplex_r,
    model_summary,
    profiles_from_scores,
    rank_correlation,
    score_profile,
    score_table,
)
from valuespectrum.report.paper import (
    IMAGES_PER_VALUE,
    INDUCTION_CHANGES,
    INTRINSIC,
    PAPER_STD,
    PAPER_VALUE_MEANS,
    PLATFORMS,
)
from valuespectrum.values import VALUES

COLUMNS = ["model", "value", "keyword", "screenshot_id", "outcome"]


def answers(rows: list[tuple[str, str, str, str, str]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=COLUMNS)


def block(model: str, value: str, outcomes: list[str], keywords: int = 1) -> list[tuple]:
    """One answer per image; images spread evenly over ``keywords`` keywords."""
    per = max(1, len(outcomes) // keywords)
    return [
        (model, value, f"kw{min(i // per, keywords - 1)}", f"{model}/{value}/{i}", o)
        for i, o in enumerate(outcomes)
    ]


def synthetic(profiles: dict[str, dict[str, float]], n: int = IMAGES_PER_VALUE, seed: int = 0):
    """Answers reproducing each score exactly: round(score·n/100) yes among n images, shuffled
    so that every keyword (5 images each) mixes yes and no."""
    rng = np.random.default_rng(seed)
    rows = []
    for model, profile in profiles.items():
        for value, score in profile.items():
            k = round(score * n / 100)
            outcomes = rng.permutation(["yes"] * k + ["no"] * (n - k)).tolist()
            rows += block(model, value, outcomes, keywords=n // 5)
    return answers(rows)


def one(scores: pd.DataFrame, model: str, value: str) -> pd.Series:
    return scores[(scores.model == model) & (scores.value == value)].iloc[0]


# --- the paper's table ------------------------------------------------------------------------


def test_paper_std_is_sample_std():
    """The paper's reported stds are ddof=1 stds of its own table (all seven it reports)."""
    for model, reported in PAPER_STD.items():
        ours = float(np.std(list(INTRINSIC[model].values()), ddof=1))
        assert ours == pytest.approx(reported, abs=0.1), model
    assert set(PAPER_STD) == set(INTRINSIC) - {"cogvlm2"}  # the paper gives none for CogVLM2


def test_paper_tables_are_complete():
    assert len(INTRINSIC) == 8
    for profile in INTRINSIC.values():
        assert tuple(profile) == VALUES
        assert all(s % 2 == 0 for s in profile.values())  # 50 images per value
    means = pd.DataFrame(INTRINSIC).mean(axis=1)
    for value, reported in PAPER_VALUE_MEANS.items():
        assert means[value] == pytest.approx(reported, abs=0.06)
    assert INDUCTION_CHANGES["simple"]["gpt-4o"]["tiktok"] == 55.2
    assert INDUCTION_CHANGES["isq"]["cogvlm"]["instagram"] == 0.7
    for by_model in INDUCTION_CHANGES.values():
        assert len(by_model) == 5
        assert all(tuple(p) == PLATFORMS for p in by_model.values())


def test_paper_table_through_the_pipeline():
    scores = score_table(synthetic(INTRINSIC), n_boot=200)
    assert profiles_from_scores(scores) == INTRINSIC
    summary = model_summary(scores).set_index("model")
    for model, reported in PAPER_STD.items():
        assert summary.loc[model, "std"] == pytest.approx(reported, abs=0.1)
    assert summary.loc["gpt-4o", "mean"] == pytest.approx(78.6)


# --- counts, rates, denominators --------------------------------------------------------------


def test_hand_computed_counts_and_rates():
    outcomes = ["yes"] * 3 + ["no", "refusal", "invalid", "error", "error"]
    s = one(score_table(answers(block("m", "power", outcomes)), n_boot=50), "m", "power")
    assert (s.n, s.n_images, s.n_yes, s.n_no, s.n_refusal, s.n_invalid, s.n_error) == (
        6, 8, 3, 1, 1, 1, 2,
    )  # fmt: skip
    assert s.score == pytest.approx(50.0)  # 3 yes / 6 answered
    assert s.score_answered == pytest.approx(75.0)  # 3 yes / (3 yes + 1 no)
    assert s.refusal_rate == pytest.approx(1 / 6)
    assert s.invalid_rate == pytest.approx(1 / 6)
    assert s.error_rate == pytest.approx(2 / 8)  # over all attempts


def test_errors_never_enter_a_score():
    base = block("m", "power", ["yes", "yes", "no", "no"])
    more = base + [("m", "power", "kw0", f"err{i}", "error") for i in range(6)]
    a, b = score_table(answers(base), n_boot=50), score_table(answers(more), n_boot=50)
    assert one(a, "m", "power").score == one(b, "m", "power").score == 50.0
    assert one(b, "m", "power").n == 4


def test_refusals_count_as_not_yes():
    no = score_table(answers(block("m", "power", ["yes", "no"])), n_boot=50)
    refused = score_table(answers(block("m", "power", ["yes", "refusal"])), n_boot=50)
    assert one(no, "m", "power").score == one(refused, "m", "power").score == 50.0
    assert one(refused, "m", "power").score_answered == 100.0


def test_all_errors_gives_nan_not_a_crash():
    s = one(score_table(answers(block("m", "power", ["error"] * 3)), n_boot=50), "m", "power")
    assert np.isnan(s.score) and np.isnan(s.ci_low) and s.error_rate == 1.0


def test_samples_are_pooled_per_image():
    df = answers(block("m", "power", ["yes", "no", "yes", "yes"]))
    df["screenshot_id"] = ["a", "a", "b", "b"]  # two images, two samples each
    df["sample"] = [0, 1, 0, 1]
    s = one(score_table(df, n_boot=200), "m", "power")
    assert (s.score, s.n, s.n_images) == (75.0, 4, 2)
    assert s.flip_rate == 0.5  # image a's samples disagree, b's agree


def test_an_image_not_an_answer_is_the_unit():
    """Two samples that agree on each of 20 images say less than 40 images would: the interval
    resamples images, so it is about √2 wider than with every answer on its own image."""
    outcomes = ["yes", "yes", "no", "no", "yes", "yes", "yes", "yes"] * 5
    pooled = answers(block("m", "power", outcomes, keywords=4))
    pooled["screenshot_id"] = [f"i{i // 2}" for i in range(len(outcomes))]
    apart = answers(block("m", "power", outcomes, keywords=4))
    width = {}
    for name, df in (("pooled", pooled), ("apart", apart)):
        s = one(score_table(df, n_boot=2000, interval="images"), "m", "power")
        width[name] = s.ci_high - s.ci_low
    assert 1.2 < width["pooled"] / width["apart"] < 1.6


def test_columns_and_order():
    scores = score_table(synthetic({"b": INTRINSIC["gpt-4o"], "a": INTRINSIC["blip-2"]}), n_boot=50)
    assert tuple(scores.columns) == SCORE_COLUMNS
    assert list(scores.model.unique()) == ["b", "a"]  # first-seen order
    assert tuple(scores.value[:10]) == VALUES  # circumplex order


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda df: df.assign(outcome="maybe"), "unknown outcomes"),
        (lambda df: df.drop(columns="keyword"), "lack columns"),
        (lambda df: df.assign(value="kindness"), "unknown value"),
    ],
)
def test_bad_input_fails_loudly(change, message):
    with pytest.raises(ValueError, match=message):
        score_table(change(answers(block("m", "power", ["yes", "no"]))))


# --- bootstrap --------------------------------------------------------------------------------


def test_ci_contains_estimate_and_shrinks_with_n():
    small = one(score_table(synthetic({"m": {"power": 60}}, n=50)), "m", "power")
    large = one(score_table(synthetic({"m": {"power": 60}}, n=500)), "m", "power")
    for s in (small, large):
        assert s.ci_low <= s.score <= s.ci_high
    assert (large.ci_high - large.ci_low) < 0.6 * (small.ci_high - small.ci_low)


def test_two_stage_interval_sees_keyword_variation_the_image_interval_does_not():
    """Half the keywords all yes, half all no: images within keywords are alike, so the
    image-level interval (these keywords) is narrow; the two-stage one (the keyword population)
    is wide, as a new keyword list could change the score a lot."""
    rows = []
    for k in range(10):
        rows += [("m", "power", f"kw{k}", f"{k}/{i}", "yes" if k < 5 else "no") for i in range(5)]
    by = {m: one(score_table(answers(rows), interval=m), "m", "power") for m in
          ("images", "two_stage")}  # fmt: skip
    assert by["images"].score == by["two_stage"].score == 50.0
    assert by["two_stage"].ci_high - by["two_stage"].ci_low > 40
    assert by["images"].ci_high - by["images"].ci_low < 30
    assert (by["images"].ci_method, by["two_stage"].ci_method) == ("images", "two_stage")


def test_two_stage_is_never_narrower_than_images():
    rng = np.random.default_rng(5)
    outcomes = rng.choice(["yes", "no"], size=50, p=[0.7, 0.3]).tolist()
    df = answers(block("m", "power", outcomes, keywords=10))
    img = one(score_table(df, interval="images"), "m", "power")
    two = one(score_table(df, interval="two_stage"), "m", "power")
    assert two.ci_high - two.ci_low >= 0.97 * (img.ci_high - img.ci_low)


def test_unknown_interval_method_is_refused():
    with pytest.raises(ValueError, match="use one of"):
        score_table(answers(block("m", "power", ["yes", "no"])), interval="wald")


def test_determinism_under_seed_and_independence_of_other_models():
    df = synthetic({"m": INTRINSIC["gpt-4o"], "k": INTRINSIC["blip-2"]})
    a, b = score_table(df, seed=3), score_table(df, seed=3)
    pd.testing.assert_frame_equal(a, b)
    c = score_table(df, seed=4)
    assert not np.allclose(a.ci_low.to_numpy(), c.ci_low.to_numpy())
    alone = score_table(df[df.model == "m"], seed=3)
    pd.testing.assert_frame_equal(alone, a[a.model == "m"].reset_index(drop=True))
    shuffled = score_table(df.sample(frac=1, random_state=1), seed=3)
    by_key = ["model", "value"]
    pd.testing.assert_frame_equal(
        shuffled.sort_values(by_key, ignore_index=True), a.sort_values(by_key, ignore_index=True)
    )


# --- log-probabilities, keywords, images ------------------------------------------------------


def test_logprob_score_from_p_yes_over_p_yes_plus_p_no():
    """0.8/(0.8 + 0.2) = 0.8; only "yes" among the returned tokens counts 1, only "no" 0; an
    answer with neither (or an error) is left out."""
    df = answers(block("m", "power", ["yes", "no", "yes", "no", "error"]))
    df["yes_logprob"] = [np.log(0.6), np.log(0.1), -0.01, None, -0.2]
    df["no_logprob"] = [np.log(0.15), np.log(0.4), None, None, -3.0]
    s = one(score_table(df, n_boot=200), "m", "power")
    assert s.n_logprob == 3
    assert s.score_logprob == pytest.approx(100 * (0.8 + 0.2 + 1.0) / 3)
    assert s.score_logprob_ci_low <= s.score_logprob <= s.score_logprob_ci_high
    plain = one(score_table(answers(block("m", "power", ["yes", "no"])), n_boot=50), "m", "power")
    assert np.isnan(plain.score_logprob) and plain.n_logprob == 0


def test_a_keyword_that_drives_its_value_is_flagged():
    """Nine keywords all yes, one all no: without the odd one the score goes from 90 to 100."""
    outcomes = ["yes"] * 45 + ["no"] * 5
    profile = score_profile(answers(block("m", "power", outcomes, keywords=10)), n_boot=500)
    kw = profile.keywords.set_index("keyword")
    assert kw.loc["kw9", "loo_shift"] == pytest.approx(10.0)
    assert kw.loc["kw0", "loo_shift"] == pytest.approx(100 * 40 / 45 - 90)
    assert kw["driver"].tolist() == [False] * 9 + [True]
    assert (kw.loc["kw9", "score"], kw.loc["kw9", "n"]) == (0.0, 5)
    s = one(profile.scores, "m", "power")
    assert (s.keyword_driver, s.keyword_shift) == ("kw9", pytest.approx(10.0))
    assert profile.summary.iloc[0].keywords_flagged == 1
    quiet = score_profile(answers(block("m", "power", outcomes, keywords=10)), n_boot=500,
                          keyword_flag_points=12.0)  # fmt: skip
    assert not quiet.keywords["driver"].any()


def test_image_table_gives_p_yes_and_flips_per_image():
    df = answers(block("m", "power", ["yes", "no", "yes", "yes", "no", "error"]))
    df["screenshot_id"] = ["a", "a", "b", "b", "c", "c"]
    img = score_profile(df, n_boot=50).images.set_index("screenshot_id")
    assert img["p_yes"].to_dict() == {"a": 0.5, "b": 1.0, "c": 0.0}
    assert img["flipped"].to_dict() == {"a": True, "b": False, "c": False}
    assert img.loc["c", "n"] == 1  # the error is not an answer


def test_flip_rate_counts_each_screenshot_once_across_values():
    rows = [("m", v, "kw", sid, o) for v in ("power", "security")
            for sid, o in (("a", "yes"), ("a", "no"), ("b", "yes"), ("b", "yes"))]  # fmt: skip
    profile = score_profile(answers(rows), n_boot=50)
    assert profile.summary.iloc[0].flip_rate == 0.5
    assert one(profile.scores, "m", "security").flip_rate == 0.5


# --- centring, higher-order groups, circumplex ------------------------------------------------


def test_centring_sums_to_zero():
    scores = score_table(synthetic(INTRINSIC), n_boot=50)
    sums = scores.groupby("model")["centred"].sum()
    assert np.allclose(sums, 0)
    s = one(scores, "gpt-4o", "universalism")
    assert s.centred == pytest.approx(90 - 78.6)
    assert s.centred_ci_low <= s.centred <= s.centred_ci_high


@pytest.mark.parametrize(
    ("hedonism_in", "openness", "enhancement"),
    [("openness_to_change", 100 / 3, 0.0), ("self_enhancement", 0.0, 100 / 3)],
)
def test_higher_order_follows_hedonism_setting(hedonism_in, openness, enhancement):
    profile = {v: (100.0 if v == "hedonism" else 0.0) for v in VALUES}
    scores = score_table(synthetic({"m": profile}), n_boot=50, hedonism_in=hedonism_in)
    assert one(scores, "m", "hedonism").higher_order == hedonism_in
    row = model_summary(scores, hedonism_in=hedonism_in).iloc[0]
    assert row.openness_to_change == pytest.approx(openness)
    assert row.self_enhancement == pytest.approx(enhancement)
    assert row.openness_to_change_centred == pytest.approx(openness - 10.0)


def sinusoid(peak: int = 0) -> dict[str, float]:
    k = np.arange(len(VALUES))
    return dict(zip(VALUES, 60 + 20 * np.cos(2 * np.pi * (k - peak) / len(VALUES)), strict=True))


def test_circumplex_r_sign():
    assert circumplex_r(sinusoid()) > 0.5  # the most a pure sinusoid reaches is about 0.55
    alternating = {v: (80.0 if i % 2 else 40.0) for i, v in enumerate(VALUES)}
    assert circumplex_r(alternating) < 0
    assert np.isnan(circumplex_r({"power": 1.0, "security": 2.0}))


def test_summary_headlines_spread_noise_and_structure():
    scores = score_table(synthetic({"m": sinusoid(peak=4)}, n=50), n_boot=500)
    row = model_summary(scores).iloc[0]
    assert row.circumplex_fit > 0.8 and row.circumplex_peak == "power"
    assert row.circumplex_p < 0.01
    assert "circumplex_r" not in row.index  # no longer a headline
    assert row.noise_std == pytest.approx(np.sqrt(np.mean(scores.noise_se**2)))
    assert row.std_noise_corrected == pytest.approx(np.sqrt(row["std"] ** 2 - row.noise_std**2))


@pytest.mark.parametrize("with_se", [False, True])
@pytest.mark.parametrize("unanswered_score", [np.nan, 0.0])
def test_a_value_without_answers_leaves_the_noise_corrected_std_finite(with_se,
                                                                       unanswered_score):
    """A value with no answers (n = 0; its score NaN, or 0 as some stored rows give it) is left
    out of the noise: it neither makes the noise infinite nor the noise-corrected std NaN."""
    answered = [80.0, 50.0, 70.0, 60.0, 90.0, 40.0, 75.0, 65.0, 55.0]
    n = [50.0] * len(answered)
    p = np.array(answered) / 100
    scores = pd.DataFrame({
        "model": "m", "value": list(VALUES), "score": [*answered, unanswered_score],
        "n": [*n, 0.0], "n_yes": [*(p * 50), 0.0],
    })  # fmt: skip
    if with_se:
        scores["noise_se"] = [*(100 * np.sqrt(p * (1 - p) / 50)), np.nan]
    row = model_summary(scores, n_perm=99).iloc[0]
    noise = np.mean(1e4 * p * (1 - p) / 50)  # the nine answered values only
    kept = [s for s in [*answered, unanswered_score] if s == s]
    assert row.noise_std == pytest.approx(np.sqrt(noise))
    assert np.isfinite(row.std_noise_corrected)
    assert row.std_noise_corrected == pytest.approx(np.sqrt(np.var(kept, ddof=1) - noise))


def test_rank_correlation():
    from scipy.stats import spearmanr

    a, b = INTRINSIC["gpt-4o"], INTRINSIC["claude-3.5-sonnet"]  # both have ties
    assert rank_correlation(a, b) == pytest.approx(spearmanr(list(a.values()), list(b.values()))[0])
    assert rank_correlation(a, a) == pytest.approx(1.0)
    assert rank_correlation(a, {k: -x for k, x in a.items()}) == pytest.approx(-1.0)
    assert rank_correlation(
        {"x": 1, "power": 1, "security": 2}, {"power": 5, "security": 9, "y": 0}
    ) == pytest.approx(1.0)
    assert np.isnan(rank_correlation({"power": 1}, {"power": 2}))


def test_import_stays_light():
    """Importing the package or the paper's numbers must not pull matplotlib or pandas."""
    code = (
        "import sys, valuespectrum, valuespectrum.report.paper, valuespectrum.config; "
        "print(sorted(m for m in ('matplotlib', 'pandas') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_on_scores_gets_the_value_table_before_the_summary_is_computed(monkeypatch) -> None:
    """The probe starts drawing its figures from this table while the summary's permutation
    tests run: it must come first, and be the final table."""
    import valuespectrum.probe.scoring as scoring

    events, tables = [], []
    summary = scoring.model_summary

    def counted_summary(*args, **kwargs):
        events.append("summary")
        return summary(*args, **kwargs)

    monkeypatch.setattr(scoring, "model_summary", counted_summary)
    df = synthetic({"m": {v: 30.0 + 4 * i for i, v in enumerate(VALUES)}}, n=20)
    profile = score_profile(df, n_boot=200, on_scores=lambda t: (events.append("scores"),
                                                                  tables.append(t.copy())))
    assert events == ["scores", "summary"]
    cols = ["model", "value", "score", "ci_low", "ci_high"]
    pd.testing.assert_frame_equal(tables[0][cols].reset_index(drop=True),
                                  profile.scores[cols].reset_index(drop=True))
