"""folder: what a user drops in a folder comes back in a fixed order, every file accounted for,
with sidecar metadata parsed and bad metadata costing a field, never an image."""

from __future__ import annotations

import json
import logging
import os
import shutil
import threading
from datetime import UTC, datetime
from pathlib import Path

import pytest
from PIL import Image

from valuespectrum.corpus.folder import CorpusItem, Rejection, scan_folder


def _img(path: Path, color: tuple[int, int, int], size: tuple[int, int] = (48, 80)) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", size, color).save(path, format="PNG")
    return path


def _scan(folder: Path, **kw) -> dict[str, CorpusItem | Rejection]:
    kw.setdefault("max_pixels", 10_000_000)
    return {
        Path(r.source_path).relative_to(folder).as_posix(): r for r in scan_folder(folder, **kw)
    }


@pytest.fixture
def shots(tmp_path: Path) -> Path:
    folder = tmp_path / "shots"
    _img(folder / "a.png", (200, 0, 0))
    _img(folder / "B.JPG", (0, 200, 0))  # upper-case extension, really a PNG: fine
    _img(folder / "sub" / "c.png", (0, 0, 200))
    shutil.copy(folder / "a.png", folder / "dup.png")
    (folder / "fake.jpg").write_text("not an image")
    (folder / "empty.png").write_bytes(b"")
    (folder / "notes.txt").write_text("collected by hand on 1 Aug")
    (folder / "data.bin").write_bytes(b"\x00\x01 random bytes")
    _img(folder / ".hidden.png", (9, 9, 9))
    _img(folder / ".cache" / "x.png", (8, 8, 8))
    _img(folder / "download", (5, 100, 5))  # an image that lost its extension
    return folder


def test_every_candidate_is_reported_in_sorted_order(shots: Path) -> None:
    results = list(scan_folder(shots, max_pixels=10_000_000))
    names = [Path(r.source_path).relative_to(shots).as_posix() for r in results]
    assert names == ["B.JPG", "a.png", "download", "dup.png", "empty.png", "fake.jpg", "sub/c.png"]
    assert [r.source_path for r in scan_folder(shots, max_pixels=10_000_000)] == [
        r.source_path for r in results
    ]


def test_bad_files_are_rejected_with_reasons(shots: Path) -> None:
    results = _scan(shots)
    assert results["fake.jpg"] == Rejection(str(shots / "fake.jpg"), "not_an_image")
    assert results["empty.png"] == Rejection(str(shots / "empty.png"), "empty_file")
    assert results["dup.png"] == Rejection(
        str(shots / "dup.png"), f"duplicate: same content as {shots / 'a.png'}"
    )


def test_accepted_items_carry_content_ids_and_no_theme(shots: Path) -> None:
    results = _scan(shots)
    item = results["a.png"]
    assert isinstance(item, CorpusItem)
    assert len(item.sha256) == 64 and item.theme is None
    assert item.image.image.mode == "RGB" and (item.image.width, item.image.height) == (48, 80)
    assert isinstance(results["download"], CorpusItem)


def test_non_recursive_scan_stays_at_top_level(shots: Path) -> None:
    assert "sub/c.png" not in _scan(shots, recursive=False)


def test_missing_or_non_directory_path_names_the_fix(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match=r"point corpus\.path at a folder of images"):
        list(scan_folder(tmp_path / "nope", max_pixels=1000))
    (tmp_path / "file.png").write_bytes(b"x")
    with pytest.raises(FileNotFoundError, match="is not a directory"):
        list(scan_folder(tmp_path / "file.png", max_pixels=1000))


def test_metadata_csv_fields_are_parsed(tmp_path: Path) -> None:
    _img(tmp_path / "a.png", (1, 2, 3))
    _img(tmp_path / "sub" / "b.png", (4, 5, 6))
    (tmp_path / "metadata.csv").write_text(
        "file,platform,url,caption,author,hashtags,collected_at,likes\n"
        'a.png,TikTok,https://t.example/1,"Sunset, again",@mira,"#sun #sea, beach",'
        "2024-08-01T12:00:00+02:00,120\n"
        "sub/b.png,,,,,,2024-09-01 08:30,\n",
        encoding="utf-8",
    )
    results = _scan(tmp_path, default_platform="youtube")
    a, b = results["a.png"], results["sub/b.png"]
    assert isinstance(a, CorpusItem) and isinstance(b, CorpusItem)
    assert (a.platform, a.url, a.caption, a.author) == (
        "tiktok", "https://t.example/1", "Sunset, again", "mira"
    )  # fmt: skip
    assert a.hashtags == ("sun", "sea", "beach")
    assert a.collected_at == datetime(2024, 8, 1, 10, 0, tzinfo=UTC)
    assert a.extra == {"likes": "120"}
    assert b.platform == "youtube"  # the default fills what the sidecar leaves empty
    assert b.collected_at == datetime(2024, 9, 1, 8, 30, tzinfo=UTC)  # naive is read as UTC


@pytest.mark.parametrize("shape", ["list", "dict"])
def test_metadata_json_in_either_shape(tmp_path: Path, shape: str) -> None:
    _img(tmp_path / "a.png", (1, 2, 3))
    row = {"caption": "hello", "hashtags": ["#x", "y", "x"], "collected_at": 1722470400}
    data = [{"file": "a.png", **row}] if shape == "list" else {"a.png": row}
    (tmp_path / "metadata.json").write_text(json.dumps(data))
    item = _scan(tmp_path)["a.png"]
    assert isinstance(item, CorpusItem)
    assert (item.caption, item.hashtags) == ("hello", ("x", "y"))
    assert item.collected_at == datetime(2024, 8, 1, tzinfo=UTC)


def test_per_image_sidecar_overrides_folder_metadata(tmp_path: Path) -> None:
    _img(tmp_path / "a.png", (1, 2, 3))
    _img(tmp_path / "b.png", (3, 2, 1))
    (tmp_path / "metadata.csv").write_text("file,caption,author\na.png,from csv,csvauthor\n")
    (tmp_path / "a.json").write_text(json.dumps({"caption": "from sidecar", "views": 9}))
    (tmp_path / "b.png.json").write_text(json.dumps({"url": "https://x.example/b"}))
    results = _scan(tmp_path)
    a, b = results["a.png"], results["b.png"]
    assert isinstance(a, CorpusItem) and isinstance(b, CorpusItem)
    assert (a.caption, a.author, a.extra) == ("from sidecar", "csvauthor", {"views": 9})
    assert b.url == "https://x.example/b"


def test_bad_sidecar_fields_are_dropped_and_the_image_kept(tmp_path: Path, caplog) -> None:
    _img(tmp_path / "a.png", (1, 2, 3))
    _img(tmp_path / "b.png", (3, 2, 1))
    (tmp_path / "metadata.csv").write_text(
        "file,caption,collected_at,hashtags\na.png,ok,last tuesday,#fine\n,orphan row,,\n"
    )
    (tmp_path / "b.json").write_text("{not json")
    with caplog.at_level(logging.WARNING, logger="valuespectrum.corpus.folder"):
        results = _scan(tmp_path)
    a = results["a.png"]
    assert isinstance(a, CorpusItem) and isinstance(results["b.png"], CorpusItem)
    assert (a.caption, a.collected_at, a.hashtags) == ("ok", None, ("fine",))
    log = caplog.text
    assert "collected_at" in log and "no 'file'" in log and "b.json" in log


def test_folder_metadata_merges_per_field_from_outer_to_inner(tmp_path: Path) -> None:
    _img(tmp_path / "trip" / "a.png", (1, 2, 3))
    (tmp_path / "metadata.csv").write_text("file,caption,author\ntrip/a.png,outer,ann\n")
    (tmp_path / "metadata.json").write_text(json.dumps({"trip/a.png": {"url": "https://u"}}))
    (tmp_path / "trip" / "metadata.csv").write_text("file,caption\na.png,inner\n")
    item = _scan(tmp_path)["trip/a.png"]
    assert isinstance(item, CorpusItem)
    assert (item.caption, item.author, item.url) == ("inner", "ann", "https://u")


def _odd(folder: Path, raw_name: bytes) -> Path:
    """A path whose name is raw bytes, as os.listdir returns it (surrogate-escaped)."""
    return folder / os.fsdecode(raw_name)


def test_undecodable_name_is_ingested_under_an_escaped_utf8_path(tmp_path: Path) -> None:
    _img(_odd(tmp_path, b"caf\xe9.png"), (1, 2, 3))  # Latin-1 bytes, not UTF-8
    _img(tmp_path / "ok.png", (3, 2, 1))
    results = _scan(tmp_path)
    item = results["caf\\xe9.png"]
    assert isinstance(item, CorpusItem) and isinstance(results["ok.png"], CorpusItem)
    assert item.source_path == str(tmp_path) + "/caf\\xe9.png"
    item.source_path.encode("utf-8")  # storable as text anywhere


def test_metadata_rows_can_name_an_undecodable_file_by_its_escaped_name(tmp_path: Path) -> None:
    _img(_odd(tmp_path, b"caf\xe9.png"), (1, 2, 3))
    (tmp_path / "metadata.csv").write_text("file,caption\ncaf\\xe9.png,coffee\n")
    assert _scan(tmp_path)["caf\\xe9.png"].caption == "coffee"


def _scan_within(folder: Path, seconds: float = 20, **kw) -> dict[str, CorpusItem | Rejection]:
    """Scan in a thread so a regression that blocks on a file fails instead of hanging."""
    out: list[dict[str, CorpusItem | Rejection]] = []
    worker = threading.Thread(target=lambda: out.append(_scan(folder, **kw)), daemon=True)
    worker.start()
    worker.join(timeout=seconds)
    assert out, f"scanning {folder} did not finish in {seconds} s"
    return out[0]


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
def test_fifos_and_devices_are_rejected_not_read(tmp_path: Path) -> None:
    _img(tmp_path / "ok.png", (1, 2, 3))
    os.mkfifo(tmp_path / "pipe.jpg")
    os.mkfifo(tmp_path / "pipe")  # no image extension: not even a candidate
    (tmp_path / "x.png").symlink_to("/dev/zero")
    results = _scan_within(tmp_path, follow_symlinks="all")
    assert sorted(results) == ["ok.png", "pipe.jpg", "x.png"]
    assert results["pipe.jpg"].reason == "not_a_regular_file: fifo"
    assert results["x.png"].reason == "not_a_regular_file: character device"


def test_files_over_the_size_cap_are_rejected_before_reading(tmp_path: Path) -> None:
    small = _img(tmp_path / "small.png", (1, 2, 3))
    _img(tmp_path / "large.png", (9, 9, 9), size=(400, 400))
    cap = small.stat().st_size + 10
    results = _scan(tmp_path, max_bytes=cap)
    assert isinstance(results["small.png"], CorpusItem)
    size = (tmp_path / "large.png").stat().st_size
    assert results["large.png"].reason == f"too_large: {size} bytes > {cap} bytes"


def test_duplicates_keep_the_first_path_and_merge_its_copies_metadata(tmp_path: Path) -> None:
    _img(tmp_path / "IMG_1.png", (1, 2, 3))
    shutil.copy(tmp_path / "IMG_1.png", tmp_path / "IMG_1 copy.png")  # " " sorts before "."
    (tmp_path / "sub").mkdir()
    shutil.copy(tmp_path / "IMG_1.png", tmp_path / "sub" / "IMG_1.png")
    (tmp_path / "metadata.csv").write_text(
        "file,platform,caption,author,hashtags,likes\n"
        "IMG_1.png,TikTok,the original,orig,#sea #sun,5\n"
        "IMG_1 copy.png,,,copier,#sun #copy,\n"
        "sub/IMG_1.png,youtube,,,#deep,\n"
    )
    (tmp_path / "sub" / "IMG_1.json").write_text(json.dumps({"url": "https://u/1", "views": 3}))
    results = _scan(tmp_path, default_platform="instagram")
    kept = results["IMG_1 copy.png"]
    assert isinstance(kept, CorpusItem)
    # The kept file's own fields win; empty ones come from the copies in path order.
    assert (kept.platform, kept.caption, kept.author, kept.url) == (
        "tiktok", "the original", "copier", "https://u/1"
    )  # fmt: skip
    assert kept.hashtags == ("sun", "copy", "sea", "deep")
    assert kept.extra == {"likes": "5", "views": 3}
    reason = f"duplicate: same content as {tmp_path / 'IMG_1 copy.png'}"
    assert results["IMG_1.png"] == Rejection(str(tmp_path / "IMG_1.png"), reason)
    assert results["sub/IMG_1.png"] == Rejection(str(tmp_path / "sub" / "IMG_1.png"), reason)


def test_the_kept_duplicate_is_the_first_relative_path_by_bytes(tmp_path: Path) -> None:
    # By code point "é" (U+00E9) sorts before the escaped byte 0x80 (U+DC80); by bytes 0x80 < 0xC3.
    _img(tmp_path / "é.png", (1, 2, 3))
    shutil.copy(tmp_path / "é.png", _odd(tmp_path, b"\x80.png"))
    results = _scan(tmp_path)
    assert isinstance(results["\\x80.png"], CorpusItem)
    assert results["é.png"].reason.endswith("same content as " + str(tmp_path / "\\x80.png"))


@pytest.fixture
def linked(tmp_path: Path) -> Path:
    """A folder with symlinks inside it, out of it, and a loop back to its parent."""
    outside = tmp_path / "outside"
    _img(outside / "far.png", (7, 7, 7))
    _img(outside / "deep" / "farther.png", (6, 6, 6))
    folder = tmp_path / "shots"
    _img(folder / "a.png", (1, 2, 3))
    _img(folder / "sub" / "b.png", (3, 2, 1))
    (folder / "in.png").symlink_to("a.png")
    (folder / "out.png").symlink_to(outside / "far.png")
    (folder / "outdir").symlink_to(outside, target_is_directory=True)
    (folder / "sub" / "loop").symlink_to("..", target_is_directory=True)
    (folder / "sublink").symlink_to("sub", target_is_directory=True)
    return folder


def test_symlinks_inside_the_folder_are_followed_and_outside_ones_rejected(linked: Path) -> None:
    results = _scan_within(linked)
    assert sorted(results) == ["a.png", "in.png", "out.png", "outdir", "sub/b.png"]
    assert results["in.png"].reason == f"duplicate: same content as {linked / 'a.png'}"
    assert results["out.png"].reason == "symlink_outside_folder"
    assert results["outdir"].reason == "symlink_outside_folder"


def test_follow_symlinks_all_reads_outside_targets_once(linked: Path) -> None:
    results = _scan_within(linked, follow_symlinks="all")
    assert sorted(results) == [
        "a.png", "in.png", "out.png", "outdir/deep/farther.png", "outdir/far.png", "sub/b.png"
    ]  # fmt: skip
    assert isinstance(results["out.png"], CorpusItem)
    assert results["outdir/far.png"].reason.startswith("duplicate: same content as")


def test_follow_symlinks_none_reads_no_link(linked: Path) -> None:
    results = _scan_within(linked, follow_symlinks="none")
    links = ["in.png", "out.png", "outdir", "sub/loop", "sublink"]
    assert sorted(results) == sorted(["a.png", "sub/b.png", *links])
    assert {results[k].reason for k in links} == {"symlink_not_followed"}


def test_unknown_symlink_policy_names_the_choices(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="use one of inside, all, none"):
        list(scan_folder(tmp_path, max_pixels=1000, follow_symlinks="some"))
