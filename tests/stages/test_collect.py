"""collect: the demo corpus and folder ingestion land in the workspace, once, with reasons for
every rejected file."""

from __future__ import annotations

import io
from pathlib import Path

import duckdb
from PIL import Image

from valuespectrum import runner
from valuespectrum.values import VALUES


def _db(ws: Path):
    return duckdb.connect(str(ws / "valuespectrum.duckdb"), read_only=True)


def test_demo_collect_is_deterministic_and_idempotent(make_config, tmp_path) -> None:
    cfg = make_config("stages=[collect]", "corpus.n=30", "tracking.enabled=false")
    m1 = runner.run(cfg, output_dir=tmp_path / "o1")
    m2 = runner.run(cfg, output_dir=tmp_path / "o2")
    assert m1["collect/added"] == 30
    assert m2["collect/added"] == 0 and m2["collect/corpus_size"] == 30
    with _db(cfg.paths.workspace_path()) as con:
        rows = con.execute(
            "SELECT theme, caption, file_path, width, height FROM screenshots"
        ).fetchall()
    assert {r[0] for r in rows} == set(VALUES)
    assert all(r[1] for r in rows)
    ws = cfg.paths.workspace_path()
    assert all((ws / r[2]).is_file() and (r[3], r[4]) == (288, 512) for r in rows)


def _write_bad_inputs(folder: Path) -> dict[str, str]:
    """One file per bad-input kind, mapped to the reason code the store must record."""
    folder.mkdir()
    good = Image.new("RGB", (64, 96), (200, 30, 30))
    good.save(folder / "good.png")
    (folder / "zero.jpg").write_bytes(b"")
    buf = io.BytesIO()
    Image.new("RGB", (64, 96), (10, 200, 10)).save(buf, "JPEG")
    (folder / "truncated.jpg").write_bytes(buf.getvalue()[: len(buf.getvalue()) // 2])
    (folder / "text.jpg").write_text("this is not an image")
    (folder / "zz_dup.png").write_bytes((folder / "good.png").read_bytes())
    Image.new("CMYK", (64, 96), (0, 128, 255, 0)).save(folder / "cmyk.jpg")
    Image.new("I;16", (64, 96), 40000).save(folder / "sixteen.png")
    Image.new("P", (64, 96), 3).save(folder / "palette.png")
    Image.new("RGBA", (64, 96), (0, 0, 255, 100)).save(folder / "alpha.png")
    Image.new("L", (4000, 4000), 128).save(folder / "bomb.png")
    return {
        "zero.jpg": "empty_file",
        "truncated.jpg": "truncated",
        "text.jpg": "not_an_image",
        "zz_dup.png": "duplicate",
        "bomb.png": "decompression_bomb",
    }


def test_folder_collect_normalises_or_rejects_every_bad_input(make_config, tmp_path) -> None:
    folder = tmp_path / "shots"
    expected = _write_bad_inputs(folder)
    cfg = make_config(
        "stages=[collect]",
        "corpus=folder",
        f"corpus.path={folder}",
        "corpus.max_pixels=1000000",
        "tracking.enabled=false",
    )
    metrics = runner.run(cfg, output_dir=tmp_path / "o")
    assert metrics["collect/added"] == 5  # good, cmyk, sixteen, palette, alpha
    assert metrics["collect/rejected"] == len(expected)
    ws = cfg.paths.workspace_path()
    with _db(ws) as con:
        reasons = dict(con.execute("SELECT source_path, reason FROM rejected_inputs").fetchall())
        shots = con.execute("SELECT file_path FROM screenshots").fetchall()
    for name, code in expected.items():
        assert reasons[str(folder / name)].startswith(code), (name, reasons)
    for (path,) in shots:
        assert Image.open(ws / path).mode == "RGB"
    # Re-ingesting the same folder adds nothing and records nothing twice.
    again = runner.run(cfg, output_dir=tmp_path / "o2")
    assert again["collect/added"] == 0 and again["collect/rejected_new"] == 0
