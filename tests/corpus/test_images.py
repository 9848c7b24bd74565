"""images: every bad input is rejected with a stable reason, every odd mode becomes faithful RGB."""

from __future__ import annotations

import io
import os
import struct
import threading
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageFile

from valuespectrum.corpus.images import (
    RejectedImage,
    decode_image,
    encode_png,
    file_sha256,
    hash_file,
    load_image,
    read_bytes,
)


def _bytes(img: Image.Image, fmt: str, **kw) -> bytes:
    buf = io.BytesIO()
    img.save(buf, fmt, **kw)
    return buf.getvalue()


def _noise(w: int = 120, h: int = 160) -> Image.Image:
    rng = np.random.default_rng(0)
    return Image.fromarray(rng.integers(0, 255, (h, w, 3), dtype=np.uint8))


def _reason(data: bytes, **kw) -> str:
    with pytest.raises(RejectedImage) as info:
        decode_image(data, **kw)
    return info.value.reason


def _png_header_only(width: int, height: int) -> bytes:
    """A PNG that claims a size but carries no pixels: a decompression bomb's calling card."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        crc = struct.pack(">I", zlib.crc32(kind + body))
        return struct.pack(">I", len(body)) + kind + body + crc

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    idat = zlib.compress(b"\x00" * 64)  # a few bytes of a row; far less than the size claims
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


def test_plain_rgb_png_is_accepted_unchanged(tmp_path: Path) -> None:
    src = _noise()
    path = tmp_path / "a.png"
    src.save(path)
    out = load_image(path)
    assert (out.width, out.height, out.image.mode) == (120, 160, "RGB")
    assert (out.original_mode, out.original_format, out.notes) == ("RGB", "PNG", ())
    assert np.array_equal(np.asarray(out.image), np.asarray(src))


def test_zero_byte_file_is_rejected(tmp_path: Path) -> None:
    (tmp_path / "z.jpg").write_bytes(b"")
    with pytest.raises(RejectedImage, match="empty_file"):
        load_image(tmp_path / "z.jpg")


def test_text_file_named_jpg_is_not_an_image() -> None:
    assert _reason(b"this is a shopping list, not a photo\n") == "not_an_image"


@pytest.mark.parametrize("fmt", ["JPEG", "PNG"])
@pytest.mark.parametrize("keep", [0.5, 0.9, 0.02])  # cut in the pixels, near the end, in headers
def test_truncated_files_are_rejected_not_padded(fmt: str, keep: float) -> None:
    data = _bytes(_noise(), fmt)
    assert _reason(data[: max(60, int(len(data) * keep))]) == "truncated"
    assert ImageFile.LOAD_TRUNCATED_IMAGES is False  # we never flip Pillow's global switch


def test_damaged_pixel_data_is_corrupt() -> None:
    data = bytearray(_bytes(_noise(), "PNG"))
    start = data.index(b"IDAT") + 40
    data[start : start + 50] = bytes(b ^ 0xFF for b in data[start : start + 50])
    assert _reason(bytes(data)).startswith("corrupt: ")


def test_cmyk_jpeg_becomes_rgb_with_the_right_colour() -> None:
    red = Image.new("CMYK", (64, 64), (0, 255, 255, 0))
    out = decode_image(_bytes(red, "JPEG", quality=95))
    assert out.original_mode == "CMYK" and out.image.mode == "RGB"
    r, g, b = out.image.getpixel((32, 32))
    assert r > 230 and g < 30 and b < 30
    assert "converted CMYK->RGB" in out.notes


def test_16bit_grey_png_is_scaled_not_saturated() -> None:
    ramp = np.tile(np.linspace(0, 65535, 256).astype(np.uint16), (32, 1))
    out = decode_image(_bytes(Image.fromarray(ramp), "PNG"))
    assert out.original_mode == "I;16"
    grey = np.asarray(out.image)[:, :, 0]
    assert grey[0, 0] == 0 and grey[0, -1] == 255
    assert abs(int(grey[0, 128]) - 128) <= 2  # mid-grey stays mid-grey
    assert (grey == 255).mean() < 0.01  # Pillow's naive convert would make ~all of it white
    assert "16-bit scaled to 8-bit" in out.notes


@pytest.mark.parametrize(
    ("img", "expected"),
    [
        (Image.fromarray(np.full((20, 20), 40000, np.int32)), 156),  # mode I, 16-bit range
        (Image.fromarray(np.full((20, 20), 0.5, np.float32)), 128),  # mode F, 0..1
        (Image.new("1", (20, 20), 1), 255),
        (Image.new("L", (20, 20), 77), 77),
    ],
)
def test_grey_modes_map_to_the_expected_rgb(img: Image.Image, expected: int) -> None:
    out = decode_image(_bytes(img, "TIFF"))
    assert out.image.mode == "RGB"
    assert out.image.getpixel((5, 5)) == (expected,) * 3


def test_palette_png_with_transparency_is_flattened_on_white() -> None:
    pal = Image.new("P", (32, 32), 0)
    pal.putpalette([0, 0, 255, 255, 0, 0] + [0] * 762)
    pal.paste(1, (0, 0, 16, 32))
    out = decode_image(_bytes(pal, "PNG", transparency=0))
    assert out.image.getpixel((4, 4)) == (255, 0, 0)  # opaque index keeps its colour
    assert out.image.getpixel((28, 4)) == (255, 255, 255)  # transparent index shows the page
    assert "palette expanded" in out.notes and "flattened alpha on white" in out.notes


def test_rgba_is_composited_on_white() -> None:
    rgba = Image.new("RGBA", (30, 30), (0, 0, 255, 0))
    rgba.paste((0, 0, 255, 255), (0, 0, 10, 30))
    rgba.paste((255, 0, 0, 128), (10, 0, 20, 30))
    out = decode_image(_bytes(rgba, "PNG"))
    assert out.image.getpixel((5, 5)) == (0, 0, 255)
    r, g, b = out.image.getpixel((15, 5))
    assert r == 255 and 120 <= g <= 135 and g == b
    assert out.image.getpixel((25, 5)) == (255, 255, 255)
    assert out.original_mode == "RGBA"


def test_grey_with_alpha_is_flattened() -> None:
    la = Image.new("LA", (20, 20), (0, 0))
    out = decode_image(_bytes(la, "PNG"))
    assert out.image.getpixel((3, 3)) == (255, 255, 255)


def test_exif_orientation_is_applied() -> None:
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 degrees clockwise to display
    data = _bytes(Image.new("RGB", (40, 20), (10, 200, 10)), "JPEG", exif=exif)
    out = decode_image(data)
    assert (out.width, out.height) == (20, 40)
    assert "EXIF orientation applied" in out.notes


def test_bomb_is_rejected_before_decoding_pixels() -> None:
    # 10000 x 10000 with no pixel data: decoding would fail as truncated; the size check wins.
    assert _reason(_png_header_only(10_000, 10_000)) == (
        "decompression_bomb: 100000000 px > 50000000"
    )


def test_bomb_beyond_pillows_hard_limit_is_rejected_and_limit_untouched() -> None:
    limit = Image.MAX_IMAGE_PIXELS
    reason = _reason(_png_header_only(30_000, 30_000))
    assert reason.startswith("decompression_bomb: 900000000 px > ")
    assert limit == Image.MAX_IMAGE_PIXELS


def test_small_max_pixels_rejects_a_real_image() -> None:
    data = _bytes(Image.new("L", (100, 100), 3), "PNG")
    assert _reason(data, max_pixels=5000) == "decompression_bomb: 10000 px > 5000"


def test_tiny_image_is_rejected() -> None:
    assert _reason(_bytes(Image.new("RGB", (8, 8)), "PNG")) == "too_small: 8x8"


def test_missing_file_is_unreadable(tmp_path: Path) -> None:
    with pytest.raises(RejectedImage, match=r"^unreadable: No such file"):
        load_image(tmp_path / "gone.png")


@pytest.mark.skipif(
    hasattr(os, "geteuid") and os.geteuid() == 0,
    reason="running as root: chmod 000 does not block reads (path covered by the mocked test)",
)
def test_unreadable_permissions(tmp_path: Path) -> None:
    path = tmp_path / "locked.png"
    Image.new("RGB", (32, 32)).save(path)
    path.chmod(0)
    try:
        with pytest.raises(RejectedImage, match="unreadable: Permission denied"):
            load_image(path)
    finally:
        path.chmod(0o644)


def test_permission_error_becomes_unreadable(tmp_path: Path, monkeypatch) -> None:
    path = tmp_path / "locked.png"
    Image.new("RGB", (32, 32)).save(path)

    real_open = os.open

    def refuse(target, *args, **kwargs):
        if os.fspath(target) == str(path):
            raise PermissionError(13, "Permission denied", str(target))
        return real_open(target, *args, **kwargs)

    monkeypatch.setattr(os, "open", refuse)
    with pytest.raises(RejectedImage) as info:
        load_image(path)
    assert info.value.reason == "unreadable: Permission denied"


def test_encode_png_is_deterministic_and_drops_metadata() -> None:
    img = _noise(40, 40)
    tagged = img.copy()
    tagged.info = {"icc_profile": b"not really a profile", "dpi": (300, 300)}
    assert encode_png(img) == encode_png(img.copy()) == encode_png(tagged)
    back = Image.open(io.BytesIO(encode_png(img)))
    assert np.array_equal(np.asarray(back), np.asarray(img))


def test_file_sha256_is_hex_sha256() -> None:
    assert file_sha256(b"") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"


def _reason_reading(path: Path, **kw) -> str:
    """The rejection reason, from a read that must finish within seconds (a FIFO would block)."""
    outcome: list[str] = []

    def read() -> None:
        try:
            read_bytes(path, **kw)
            outcome.append("read")
        except RejectedImage as exc:
            outcome.append(exc.reason)

    worker = threading.Thread(target=read, daemon=True)
    worker.start()
    worker.join(timeout=10)
    assert outcome, f"reading {path} blocked"
    return outcome[0]


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
def test_fifo_is_rejected_without_blocking(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "pipe.jpg")
    assert _reason_reading(tmp_path / "pipe.jpg") == "not_a_regular_file: fifo"


@pytest.mark.skipif(not Path("/dev/zero").exists(), reason="needs /dev/zero")
def test_endless_device_behind_a_symlink_is_rejected_unread(tmp_path: Path) -> None:
    (tmp_path / "x.png").symlink_to("/dev/zero")
    assert _reason_reading(tmp_path / "x.png") == "not_a_regular_file: character device"
    with pytest.raises(RejectedImage, match=r"^not_a_regular_file: character device$"):
        hash_file(tmp_path / "x.png")


def test_file_over_the_size_cap_is_rejected_and_one_at_the_cap_read(tmp_path: Path) -> None:
    (tmp_path / "big.png").write_bytes(b"x" * 1001)
    (tmp_path / "ok.png").write_bytes(b"x" * 1000)
    assert _reason_reading(tmp_path / "big.png", max_bytes=1000) == (
        "too_large: 1001 bytes > 1000 bytes"
    )
    assert read_bytes(tmp_path / "ok.png", max_bytes=1000) == b"x" * 1000
    with pytest.raises(RejectedImage, match=r"^too_large"):
        hash_file(tmp_path / "big.png", max_bytes=1000)
    assert hash_file(tmp_path / "ok.png", max_bytes=1000) == file_sha256(b"x" * 1000)


@pytest.mark.skipif(not Path("/proc/cpuinfo").exists(), reason="needs Linux /proc")
def test_cap_holds_for_a_file_whose_size_lies(tmp_path: Path) -> None:
    # /proc files are regular files that report size 0 yet have content: only the read can tell.
    assert os.stat("/proc/cpuinfo").st_size == 0
    assert _reason_reading(Path("/proc/cpuinfo"), max_bytes=100) == "too_large: > 100 bytes"
