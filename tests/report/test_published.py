"""Published tables as report input: the paper's table reproduces its own per-model stds and
per-value means to the printed precision; a CSV is read by value ids or labels, and a bad one is
refused in one line."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

import pytest

from valuespectrum.config import ConfigError
from valuespectrum.report import paper
from valuespectrum.report.data import report_data
from valuespectrum.report.overview import outcome_table
from valuespectrum.report.published import PAPER_MODELS, paper_rows, read_table
from valuespectrum.values import LABELS, VALUES


def _printed(x: float, like: float) -> float:
    """``x`` rounded half up, as printed, to the precision of ``like`` (16.5, 9.43, 4.02 and
    73.3: three significant digits)."""
    digits = max(2 - int(f"{like:e}".split("e")[1]), 0)
    step = Decimal(1).scaleb(-digits)
    return float(Decimal(repr(float(x))).quantize(step, rounding=ROUND_HALF_UP))


def test_the_papers_table_gives_its_published_stds_and_value_means() -> None:
    data = report_data([], paper_rows())
    assert (data.runs["source"] == "table").all() and len(data.runs) == len(paper.INTRINSIC)
    table = outcome_table(data).set_index("job")
    for name, std in paper.PAPER_STD.items():
        ours = table.loc[f"paper:{PAPER_MODELS[name][0]}", "std_score"]
        assert _printed(ours, std) == std, name
    means = data.scores.groupby("value")["score"].mean()
    for value, mean in paper.PAPER_VALUE_MEANS.items():
        assert _printed(means[value], mean) == mean, value
    gpt = data.scores[data.scores["job"] == "paper:gpt4o"].set_index("value")
    assert gpt.loc["universalism", "score"] == 90 and gpt.loc["universalism", "n_yes"] == 45
    assert gpt["n_images"].eq(50).all() and gpt["ci_low"].isna().all()


def test_a_csv_by_labels_or_ids_becomes_table_rows(tmp_path) -> None:
    path = tmp_path / "lab.csv"
    header = ["model", "label", *(LABELS[v] for v in VALUES[:5]), *VALUES[5:]]
    rows = [",".join(header), ",".join(["m1", "Model One", *["50"] * 10]),
            ",".join(["m2", "", *["62.5"] * 10])]  # fmt: skip
    path.write_text("\n".join(rows) + "\n")
    got = read_table(path)
    assert [(r.table, r.model, r.label) for r in got] == [("lab", "m1", "Model One"),
                                                          ("lab", "m2", "m2")]  # fmt: skip
    assert got[1].scores == dict.fromkeys(VALUES, 62.5) and got[0].n_images is None
    data = report_data([], got)
    assert list(data.runs["job"]) == ["lab:m1", "lab:m2"]
    assert list(data.runs["label"]) == ["Model One (lab)", "m2 (lab)"]


@pytest.mark.parametrize(("cells", "message"), [
    ("model,power\nm,50\n", r"lacks columns \['self_direction'"),
    ("model," + ",".join(VALUES) + "\nm," + ",".join(["50"] * 9 + ["120"]) + "\n",
     r"row 2: universalism=.*not a % between 0 and 100"),
    ("model," + ",".join(VALUES) + "\nm," + ",".join(["50"] * 9 + ["x"]) + "\n",
     r"row 2: universalism='x' is not a %"),
])  # fmt: skip
def test_a_malformed_csv_is_refused_naming_the_cell(tmp_path, cells, message) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(cells)
    with pytest.raises(ConfigError, match=message):
        read_table(path)
