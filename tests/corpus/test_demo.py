"""demo: the synthetic corpus is reproducible to the byte, balanced over the ten values, and
looks like a portrait short-video screenshot with readable, varied text."""

from __future__ import annotations

import random
import subprocess
import sys
from collections import Counter
from datetime import UTC

import numpy as np
import pytest

from valuespectrum.corpus.demo import generate_demo
from valuespectrum.corpus.demo_text import OFF_THEME_RATE, compact_count, compose_post
from valuespectrum.corpus.images import encode_png, file_sha256
from valuespectrum.values import VALUES


@pytest.fixture(scope="module")
def forty() -> list:
    return list(generate_demo(40, seed=7))


def test_same_seed_same_bytes_in_another_process(forty: list) -> None:
    code = (
        "from valuespectrum.corpus.demo import generate_demo\n"
        "print(' '.join(i.sha256 for i in generate_demo(6, seed=7)))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == [i.sha256 for i in forty[:6]]


def test_sha256_is_the_hash_of_the_stored_png(forty: list) -> None:
    item = forty[0]
    assert item.sha256 == file_sha256(encode_png(item.image.image))
    assert len({i.sha256 for i in forty}) == 40


def test_different_seed_gives_different_images(forty: list) -> None:
    other = {i.sha256 for i in generate_demo(10, seed=8)}
    assert other.isdisjoint(i.sha256 for i in forty)


@pytest.mark.parametrize("n", [10, 25, 40])
def test_themes_are_balanced(n: int) -> None:
    from valuespectrum.corpus.demo import theme_for

    counts = Counter(theme_for(i, 3) for i in range(n))
    assert set(counts) == set(VALUES)
    assert max(counts.values()) - min(counts.values()) <= 1


def test_records_look_like_a_platform_post(forty: list) -> None:
    for i, item in enumerate(forty):
        assert item.image.image.size == (288, 512) and item.image.image.mode == "RGB"
        assert (item.image.width, item.image.height) == (288, 512)
        assert item.platform == "demo" and item.url == f"demo://7/{i}"
        assert item.caption and item.author and item.hashtags
        assert item.theme in VALUES
        assert item.collected_at is not None and item.collected_at.tzinfo == UTC
    times = [item.collected_at for item in forty]
    assert times == sorted(times) and len(set(times)) == len(times)


def test_caption_text_is_drawn_over_a_darkened_footer(forty: list) -> None:
    for item in forty[:10]:
        px = np.asarray(item.image.image)
        footer = px[int(0.8 * 512) : 500, 8:220]
        white = (footer.min(axis=2) > 235).mean()
        assert 0.01 < white < 0.4, item.url  # text present, not a washed-out frame


def test_captions_vary_within_and_across_values() -> None:
    rng = random.Random(0)
    posts = {v: [compose_post(v, rng) for _ in range(60)] for v in VALUES}
    for value, drawn in posts.items():
        assert len({p.caption for p in drawn}) >= 8, value
        assert all(p.caption.isascii() and p.hashtags for p in drawn)
    every = [p for drawn in posts.values() for p in drawn]
    off = sum(p.off_theme for p in every) / len(every)
    assert abs(off - OFF_THEME_RATE) < 0.05


def test_other_sizes_work() -> None:
    (item,) = generate_demo(1, size=(144, 256))
    assert item.image.image.size == (144, 256)
    with pytest.raises(ValueError, match="too small"):
        next(generate_demo(1, size=(10, 10)))


def test_counts_print_like_an_app() -> None:
    assert [compact_count(n) for n in (999, 1000, 1234, 2_500_000)] == ["999", "1K", "1.2K", "2.5M"]
