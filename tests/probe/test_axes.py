"""The robustness axes as a plan: option pairs swapped with their case, counterbalanced orders,
the variants asked, the scored answers, and the presets every axis needs."""

from __future__ import annotations

import pandas as pd
import pytest
import yaml

from tests.conftest import CONF_DIR
from valuespectrum.config import prompt_preset
from valuespectrum.probe.axes import Axes, scored_answers
from valuespectrum.probe.options import option_pair, with_order
from valuespectrum.probe.plan import probe_prompts
from valuespectrum.simulation.questions import read_question

PRESETS = sorted(p.stem for p in (CONF_DIR / "prompts").glob("*.yaml"))
PAPER = probe_prompts(prompt_preset("paper"))


@pytest.mark.parametrize(("text", "swapped"), [
    ("Do you like it? (Yes or No)", "Do you like it? (No or Yes)"),
    ("(YES or NO) like it?", "(NO or YES) like it?"),
    ("include yes or no in your answer", "include no or yes in your answer"),
    ("Answer Yes  or  no, please", "Answer No  or  yes, please"),
])
def test_no_first_swaps_the_option_pair_and_keeps_its_case(text, swapped) -> None:
    assert option_pair(text) == "yes_first"
    assert with_order(text, "no_first") == swapped
    assert option_pair(swapped) == "no_first"
    assert with_order(swapped, "yes_first") == text
    assert with_order(text, "yes_first") == text


def test_a_wording_without_an_option_pair_cannot_be_ordered() -> None:
    assert option_pair("Do you like it?") is None
    assert option_pair("yes or yes") is None
    with pytest.raises(ValueError, match="no \\(Yes or No\\) option pair"):
        with_order("Do you like it?", "no_first")


def test_the_defaults_ask_exactly_the_presets_wording_with_its_fingerprint() -> None:
    axes = Axes(reverse=prompt_preset("paper").reverse)
    variants = axes.variants(PAPER)
    assert list(variants) == [("yes_first", "forward")]
    assert variants[("yes_first", "forward")] == PAPER
    assert variants[("yes_first", "forward")].fingerprint() == PAPER.fingerprint()
    assert axes.run_identity() == {}


def test_each_moved_axis_changes_the_wording_asked_and_the_run_identity() -> None:
    reverse = prompt_preset("paper").reverse
    both = Axes(answer_order="counterbalanced", keying="both", system_prompt=False,
                reverse=reverse).variants(PAPER)
    assert set(both) == {(o, k) for o in ("yes_first", "no_first") for k in ("forward", "reverse")}
    assert both[("no_first", "forward")].decision.endswith("(No or Yes)")
    assert both[("yes_first", "reverse")].decision == reverse
    assert both[("no_first", "reverse")].decision.endswith("scroll past this? (No or Yes)")
    assert {v.system for v in both.values()} == {""}
    assert {v.version for v in both.values()} == {PAPER.version}
    assert len({v.fingerprint() for v in both.values()}) == 4
    ids = [Axes(answer_order="no_first").run_identity(), Axes(keying="reverse", reverse=reverse)
           .run_identity(), Axes(system_prompt=False).run_identity(),
           Axes(image="blank").run_identity()]  # fmt: skip
    assert all(ids) and len({repr(i) for i in ids}) == 4


def _table(keywords: int, k: int) -> pd.DataFrame:
    return pd.DataFrame(
        [(v, f"{v}-kw{j}", rank, 100 * i + 10 * j + rank)
         for i, v in enumerate(("power", "tradition")) for j in range(keywords)
         for rank in range(1, k + 1)],
        columns=["value", "keyword", "rank", "screenshot_id"],
    )  # fmt: skip


@pytest.mark.parametrize(("keywords", "k"), [(10, 5), (4, 2), (3, 1)])
def test_counterbalanced_orders_alternate_by_rank_and_balance_each_value(keywords, k) -> None:
    table = _table(keywords, k)
    orders = Axes(answer_order="counterbalanced").row_orders(table)
    assert orders == Axes(answer_order="counterbalanced").row_orders(table)  # deterministic
    table["order"] = orders
    for _, rows in table.groupby("value"):
        counts = rows["order"].value_counts()
        assert abs(counts.get("yes_first", 0) - counts.get("no_first", 0)) <= 1
    for _, rows in table.groupby("keyword"):  # within a keyword the order alternates by rank
        assert all(a != b for a, b in zip(rows["order"], rows["order"][1:], strict=False))
    assert Axes(answer_order="no_first").row_orders(table) == ["no_first"] * len(table)


def test_reverse_keying_scores_the_share_of_reverse_no() -> None:
    frame = pd.DataFrame({
        "keying": ["forward", "reverse", "reverse", "reverse", None],
        "outcome": ["yes", "yes", "no", "refusal", "no"],
        "yes_logprob": [-0.1, -0.2, -2.0, None, -1.0], "no_logprob": [-3.0, -1.5, -0.1, None, -0.5],
    })  # fmt: skip
    forward = scored_answers(frame, "both")
    assert forward["outcome"].tolist() == ["yes", "no"]  # a row without keying is forward
    reverse = scored_answers(frame, "reverse")
    assert reverse["outcome"].tolist() == ["no", "yes", "refusal"]
    assert reverse["yes_logprob"].tolist()[:2] == [-1.5, -0.1]


def test_every_preset_carries_what_every_axis_needs() -> None:
    paraphrases = [p for p in PRESETS if p not in ("paper", "prototype")]
    assert len(paraphrases) >= 5
    for name in PRESETS:
        spec = yaml.safe_load((CONF_DIR / "prompts" / f"{name}.yaml").read_text())
        assert option_pair(spec["decision"]) == "yes_first", name
        assert option_pair(spec["reverse"]) == "yes_first", name
        if name != "prototype":
            assert "(Yes or No)" in spec["decision"] and "(Yes or No)" in spec["reverse"], name
        # the simulated respondent reads the reverse question as reverse, the forward as not
        assert read_question(spec["reverse"]).reverse, name
        assert not read_question(spec["decision"]).reverse, name
    readme = (CONF_DIR.parent / "README.md").read_text()
    assert all(f"`{name}`" in readme for name in paraphrases)


def test_every_preset_composes_with_every_axis_moved() -> None:
    from valuespectrum.cli import compose

    for name in PRESETS:
        cfg = compose([f"prompts={name}", "probe.keying=both", "probe.system_prompt=false",
                       "probe.answer_order=counterbalanced", "probe.image=blank"])  # fmt: skip
        assert cfg.prompts.version == f"{name}-v1"
    reworded = compose(["probe.keying=reverse", "prompts.reverse='Would you skip it? (Yes or No)'"])
    assert reworded.prompts.version == "paper-v1"  # the forward calls keep their cache keys
    ids = {repr(Axes.of(c.probe, c.prompts).run_identity()) for c in (
        reworded, compose(["probe.keying=reverse"]))}  # fmt: skip
    assert len(ids) == 2  # but the run is another one
