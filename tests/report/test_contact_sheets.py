"""Contact sheets: the grid matches its items and survives missing files, no label is ever cut,
and the header carries its subtitle lines and a warning band."""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image, ImageDraw

from valuespectrum.report import contact_sheets as cs
from valuespectrum.report.contact_sheets import ContactItem, contact_sheet, sheet_grid

TW, TH = 144, 256


def make_images(folder: Path, n: int) -> list[Path]:
    paths = []
    for i in range(n):
        path = folder / f"{i}.jpg"
        size = (300, 200) if i % 2 else (144, 256)  # landscape and portrait
        Image.new("RGB", size, (20 * (i % 12), 100, 150)).save(path)
        paths.append(path)
    return paths


def keyword_items(paths: list[Path], keywords: list[str]) -> list[ContactItem]:
    per = len(paths) // len(keywords)
    return [
        ContactItem(p, label=keywords[i // per], sublabel=f"#{i % per + 1}  0.3{i:02d}",
                    row=keywords[i // per])
        for i, p in enumerate(paths)
    ]  # fmt: skip


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
    items = keyword_items(paths, [f"keyword{k}" for k in range(10)])
    out = contact_sheet(items, tmp_path / "sheet" / "hedonism.png", title="Hedonism")
    assert out.with_suffix(".pdf").read_bytes().startswith(b"%PDF")
    with Image.open(out) as im:
        assert im.size == (
            cs._PAD + cs._ROW_LABEL_W + 5 * (TW + cs._PAD),
            cs._TITLE_H + 10 * (TH + cs._TEXT_H + cs._PAD) + cs._PAD,
        )
        x = cs._PAD + cs._ROW_LABEL_W + 2 * (TW + cs._PAD)
        y = cs._TITLE_H + 1 * (TH + cs._TEXT_H + cs._PAD)
        assert im.getpixel((x + 5, y + 5)) == (160, 160, 160)  # grey placeholder


def test_contact_sheet_without_rows(tmp_path):
    items = [ContactItem(p, "vacation", f"#{i}") for i, p in enumerate(make_images(tmp_path, 12))]
    out = contact_sheet(items, tmp_path / "loose.png", title="t", columns=4, thumb=(72, 128))
    with Image.open(out) as im:
        assert im.size == (
            cs._PAD + 4 * (72 + cs._PAD),
            cs._TITLE_H + 3 * (128 + cs._TEXT_H + cs._PAD) + cs._PAD,
        )


@pytest.mark.parametrize(
    "text",
    ["handmade crafts", "community volunteering weekend", "Selbstbestimmungsfähigkeit",
     "a b", "x" * 80],
)  # fmt: skip
def test_wrapped_labels_keep_every_character_within_the_width(text):
    draw = ImageDraw.Draw(Image.new("RGB", (1, 1)))
    width = cs._ROW_LABEL_W - cs._PAD
    font, lines, _ = cs._fit_block(draw, text, width, TH)
    assert "".join(lines).replace(" ", "") == text.replace(" ", "")
    assert all(draw.textlength(line, font=font) <= width for line in lines)
    label = cs._wrap(draw, text, cs._font(12), 72)
    assert "".join(label).replace(" ", "") == text.replace(" ", "")


def test_long_labels_grow_the_cells_instead_of_being_cut(tmp_path):
    paths = make_images(tmp_path, 4)
    items = [ContactItem(p, "an unusually long keyword for a thumbnail", "#1") for p in paths]
    out = contact_sheet(items, tmp_path / "long.png", title="t", columns=4, thumb=(72, 128))
    with Image.open(out) as im:
        assert im.height > cs._TITLE_H + 128 + cs._TEXT_H + 2 * cs._PAD  # extra label lines


def test_header_shows_subtitle_lines_and_a_warning_band(tmp_path):
    items = keyword_items(make_images(tmp_path, 10), ["beach", "party"])
    plain = contact_sheet(items, tmp_path / "plain.png", title="Hedonism")
    flagged = contact_sheet(
        items,
        tmp_path / "flagged.png",
        title="Hedonism",
        subtitle=["score: image similarity", "embedder: tiny_clip@random-seed0"],
        warning="random-init CLIP: image similarities carry no meaning",
    )
    with Image.open(plain) as a, Image.open(flagged) as b:
        lines = 2 * cs._LINE[13] + cs._LINE[13] + 6  # two subtitle lines, one warning line
        assert b.height == a.height + lines
        y_band = cs._TITLE_H + 2 * cs._LINE[13] + 1  # just inside the band, left of its text
        assert b.getpixel((cs._PAD, y_band)) == cs._WARN_FILL
        assert a.getpixel((cs._PAD, y_band)) != cs._WARN_FILL
