"""collect: the demo corpus and folder ingestion land in the workspace, once, with reasons for
every rejected file."""

from __future__ import annotations

import io
import logging
import os
import shutil
from pathlib import Path

import duckdb
import pytest
from PIL import Image

from valuespectrum import runner
from valuespectrum.store import Store
from valuespectrum.store.integrity import WorkspaceDamaged
from valuespectrum.values import VALUES


def _db(ws: Path):
    return duckdb.connect(str(ws / "valuespectrum.duckdb"), read_only=True)


def test_demo_collect_is_deterministic_and_idempotent(make_config, tmp_path) -> None:
    cfg = make_config("stages=[collect]", "corpus.n=30", "tracking.enabled=false")
    m1 = runner.run(cfg, output_dir=tmp_path / "o1")
    m2 = runner.run(cfg, output_dir=tmp_path / "o2")
    assert m1["usage/collect/added"] == 30
    assert m2["usage/collect/added"] == 0 and m2["usage/collect/corpus_size"] == 30
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
    assert metrics["usage/collect/added"] == 5  # good, cmyk, sixteen, palette, alpha
    assert metrics["usage/collect/rejected"] == len(expected)
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
    assert again["usage/collect/added"] == 0 and again["usage/collect/rejected_new"] == 0


def _folder_config(make_config, folder: Path, *extra: str):
    return make_config(
        "stages=[collect]", "corpus=folder", f"corpus.path={folder}", "tracking.enabled=false",
        *extra,
    )  # fmt: skip


def _stored_images(ws: Path) -> set[str]:
    return {p.stem for p in (ws / "images").rglob("*") if p.is_file()}


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
def test_odd_files_are_recorded_and_never_stop_the_collection(make_config, tmp_path) -> None:
    folder = tmp_path / "shots"
    folder.mkdir()
    Image.new("RGB", (64, 96), (1, 2, 3)).save(folder / os.fsdecode(b"caf\xe9.png"))
    Image.new("RGB", (64, 96), (3, 2, 1)).save(folder / "b.png")
    shutil.copy(folder / "b.png", folder / "a copy.png")
    (folder / "b.json").write_text('{"caption": "the original", "platform": "tiktok"}')
    os.mkfifo(folder / "pipe.jpg")
    (folder / "x.png").symlink_to("/dev/zero")
    (folder / "big.png").write_bytes(b"\x89PNG" + bytes(1_000_000))
    cfg = _folder_config(make_config, folder, "corpus.max_file_mb=1")
    metrics = runner.run(cfg, output_dir=tmp_path / "o")
    assert (metrics["usage/collect/added"], metrics["usage/collect/rejected"]) == (2, 4)
    ws = cfg.paths.workspace_path()
    with _db(ws) as con:
        shots = dict(con.execute("SELECT source_path, sha256 FROM screenshots").fetchall())
        caption = con.execute(
            "SELECT caption, platform FROM screenshots WHERE source_path LIKE '%a copy.png'"
        ).fetchone()
        reasons = dict(con.execute("SELECT source_path, reason FROM rejected_inputs").fetchall())
    assert sorted(shots) == [str(folder / "a copy.png"), str(folder) + "/caf\\xe9.png"]
    assert caption == ("the original", "tiktok")  # merged from the dropped duplicate
    assert reasons == {
        str(folder / "b.png"): f"duplicate: same content as {folder / 'a copy.png'}",
        str(folder / "pipe.jpg"): "not_a_regular_file: fifo",
        str(folder / "x.png"): "symlink_outside_folder",
        str(folder / "big.png"): "too_large: 1000004 bytes > 1000000 bytes",
    }
    assert _stored_images(ws) == set(shots.values())
    again = runner.run(cfg, output_dir=tmp_path / "o2")
    assert (again["usage/collect/added"], again["usage/collect/rejected_new"]) == (0, 0)
    assert again["usage/collect/rejected"] == 4
    with _db(ws) as con:
        assert con.execute("SELECT count(*) FROM rejected_inputs").fetchone()[0] == 4


def test_a_failed_database_write_leaves_no_orphan_images(
    make_config, tmp_path, monkeypatch
) -> None:
    folder = tmp_path / "shots"
    folder.mkdir()
    Image.new("RGB", (64, 96), (1, 2, 3)).save(folder / "a.png")
    cfg = _folder_config(make_config, folder)

    def disk_full(self, con, rows):
        raise duckdb.IOException("IO Error: No space left on device")

    monkeypatch.setattr(Store, "insert_screenshots", disk_full)
    with pytest.raises(duckdb.IOException):
        runner.run(cfg, output_dir=tmp_path / "o")
    assert _stored_images(cfg.paths.workspace_path()) == set()


def _image_paths(ws: Path) -> dict[str, str]:
    """source_path -> the stored image's path inside the workspace."""
    with _db(ws) as con:
        return dict(con.execute("SELECT source_path, file_path FROM screenshots").fetchall())


def test_deleted_or_emptied_demo_images_are_restored_by_collect(make_config, tmp_path) -> None:
    cfg = make_config("stages=[collect]", "corpus.n=12", "tracking.enabled=false")
    runner.run(cfg, output_dir=tmp_path / "o1")
    ws = cfg.paths.workspace_path()
    lost = sorted(_image_paths(ws).values())[:2]
    original = {p: (ws / p).read_bytes() for p in lost}
    (ws / lost[0]).unlink()
    (ws / lost[1]).write_bytes(b"")
    # Another seed: the lost images are regenerated from their own rows, not from this config.
    other = make_config("stages=[collect]", "corpus.n=3", "corpus.seed=1", "tracking.enabled=false")
    again = runner.run(other, output_dir=tmp_path / "o2")
    assert (again["usage/collect/restored"], again["usage/collect/unrestorable"]) == (2, 0)
    assert again["usage/collect/added"] == 3
    assert {p: (ws / p).read_bytes() for p in lost} == original
    clean = runner.run(cfg, output_dir=tmp_path / "o3")
    assert (clean["usage/collect/restored"], clean["usage/collect/added"]) == (0, 0)


def test_folder_images_are_restored_from_an_unchanged_source_only(make_config, tmp_path,
                                                                 caplog) -> None:
    folder = tmp_path / "shots"
    folder.mkdir()
    for name, colour in (("a.png", (200, 0, 0)), ("b.png", (0, 200, 0)), ("c.png", (0, 0, 200))):
        Image.new("RGB", (64, 96), colour).save(folder / name)
    cfg = _folder_config(make_config, folder)
    runner.run(cfg, output_dir=tmp_path / "o1")
    ws = cfg.paths.workspace_path()
    stored = _image_paths(ws)
    a, b = stored[str(folder / "a.png")], stored[str(folder / "b.png")]
    kept = (ws / a).read_bytes()
    (ws / a).unlink()
    (ws / b).unlink()
    Image.new("RGB", (64, 96), (9, 9, 9)).save(folder / "b.png")  # the source of b changed
    with caplog.at_level(logging.WARNING):
        again = runner.run(cfg, output_dir=tmp_path / "o2")
    assert (again["usage/collect/restored"], again["usage/collect/unrestorable"]) == (1, 1)
    assert again["usage/collect/added"] == 1  # the new b is a new screenshot
    assert (ws / a).read_bytes() == kept and not (ws / b).exists()
    (warning,) = [r.getMessage() for r in caplog.records if "not restorable" in r.getMessage()]
    assert b in warning and str(folder / "b.png") in warning
    # A later stage that would read the lost image stops before any work, naming the repair.
    index = make_config("stages=[index]", "tracking.enabled=false",
                        "embedder.caption_encoder=null", workspace=ws)
    with pytest.raises(WorkspaceDamaged, match=r"1 corpus image\(s\) missing .* re-run collect"):
        runner.run(index, output_dir=tmp_path / "o3")
