"""Deterministic synthetic short-video screenshots, one Schwartz value theme each.

The demo corpus lets every stage run offline, in CI and on a laptop, and gives retrieval a ground
truth (``theme``) that real feeds never have. Each image is a cartoon scene whose icons belong to
one value (:mod:`demo_scenes`) under a short-video UI: tabs, an action column with counts, an
@handle, caption, hashtags and a progress bar (text from :mod:`demo_text`). Everything follows
from ``(seed, index, size)``, so sha256s are stable across runs and processes for one
Pillow/FreeType build.
"""

from __future__ import annotations

import random
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import numpy as np
from PIL import Image, ImageDraw

from valuespectrum.corpus.demo_scenes import WHITE, draw_scene, font
from valuespectrum.corpus.demo_text import Post, compact_count, compose_post
from valuespectrum.corpus.folder import CorpusItem
from valuespectrum.corpus.images import NormalisedImage, encode_png, file_sha256
from valuespectrum.values import VALUES

DEMO_EPOCH = datetime(2024, 8, 1, tzinfo=UTC)  # inside the paper's collection window
_INK = (20, 20, 24)
_GREY = (200, 200, 205)


def generate_demo(
    n: int, *, seed: int = 0, size: tuple[int, int] = (288, 512)
) -> Iterator[CorpusItem]:
    """Yield ``n`` portrait screenshots (``size`` is width, height) with ``platform="demo"``.

    Themes are balanced over the ten values (counts differ by at most one) in a seeded order;
    ``sha256`` hashes the PNG bytes :func:`encode_png` gives for the image, so storing that PNG
    reproduces the id.
    """
    if n < 0:
        raise ValueError(f"n={n} must be >= 0")
    width, height = size
    if width < 32 or height < 32:
        raise ValueError(f"size={size} is too small; use at least (32, 32), e.g. (288, 512)")
    for i in range(n):
        yield demo_item(i, seed=seed, size=size)


def demo_position(url: str | None) -> tuple[int, int] | None:
    """(seed, index) of a demo screenshot's url ``demo://<seed>/<index>``, else None."""
    match = re.fullmatch(r"demo://(-?\d+)/(\d+)", url or "")
    return (int(match[1]), int(match[2])) if match else None


def demo_item(i: int, *, seed: int, size: tuple[int, int]) -> CorpusItem:
    """The ``i``-th demo screenshot of ``seed``: depends on nothing else, so a lost image can be
    drawn again from its row (url and size) alone."""
    width, height = size
    theme = theme_for(i, seed)
    rng = random.Random(f"valuespectrum-demo:{seed}:{i}")
    post = compose_post(theme, rng)
    image = _overlay_ui(_shade(draw_scene(theme, rng, width, height)), post, rng)
    url = f"demo://{seed}/{i}"
    return CorpusItem(
        sha256=file_sha256(encode_png(image)),
        source_path=url,
        image=NormalisedImage(image, width, height, "RGB", "PNG", ()),
        platform="demo",
        url=url,
        caption=post.caption,
        author=post.author,
        hashtags=post.hashtags,
        collected_at=DEMO_EPOCH + timedelta(minutes=i),
        theme=theme,
        extra={
            "likes": post.likes,
            "comments": post.comments,
            "shares": post.shares,
            "off_theme_caption": post.off_theme,
        },
    )


def theme_for(index: int, seed: int) -> str:
    """The value drawn at ``index``: each block of ten is a seeded permutation of all values."""
    order = list(VALUES)
    random.Random(f"valuespectrum-demo:{seed}:block:{index // len(VALUES)}").shuffle(order)
    return order[index % len(VALUES)]


def _shade(image: Image.Image) -> Image.Image:
    """Darken the top and bottom bands, as apps do, so white UI text stays legible."""
    arr = np.asarray(image, dtype=np.float32)
    y = np.linspace(0.0, 1.0, arr.shape[0], dtype=np.float32)
    factor = 1 - 0.62 * np.clip((y - 0.55) / 0.45, 0, 1) - 0.35 * np.clip(1 - y / 0.1, 0, 1)
    return Image.fromarray((arr * factor[:, None, None]).astype(np.uint8))


def _overlay_ui(image: Image.Image, post: Post, rng: random.Random) -> Image.Image:
    draw = ImageDraw.Draw(image)
    w, h = image.size
    k = w / 288  # the layout was designed at 288 px wide
    _draw_tabs(draw, w, h, k)
    _draw_actions(draw, w, h, k, post, rng)
    _draw_caption(draw, w, h, k, post)
    fraction = rng.uniform(0.05, 0.95)
    bar = max(2, round(3 * k))
    draw.rectangle((0, h - bar, w, h), fill=(90, 90, 95))
    draw.rectangle((0, h - bar, round(w * fraction), h), fill=WHITE)
    return image


def _text(draw: ImageDraw.ImageDraw, xy: tuple[float, float], text: str, size: int, **kw) -> None:
    """White text with a thin dark outline, readable over any scene."""
    kw.setdefault("fill", WHITE)
    draw.text(xy, text, font=font(size), stroke_width=1, stroke_fill=_INK, **kw)


def _draw_tabs(draw: ImageDraw.ImageDraw, w: int, h: int, k: float) -> None:
    y = 0.045 * h
    _text(draw, (w / 2 - 6 * k, y), "Following", round(13 * k), anchor="rm", fill=_GREY)
    _text(draw, (w / 2 + 6 * k, y), "For You", round(14 * k), anchor="lm")
    length = font(round(14 * k)).getlength("For You")
    draw.line((w / 2 + 16 * k, y + 11 * k, w / 2 + length - 4 * k, y + 11 * k), WHITE, round(2 * k))
    draw.rounded_rectangle((8 * k, y - 8 * k, 40 * k, y + 8 * k), 3 * k, outline=WHITE)
    _text(draw, (24 * k, y), "LIVE", round(9 * k), anchor="mm")
    cx, r = w - 20 * k, 6 * k  # search icon
    draw.ellipse((cx - r, y - r - 2 * k, cx + r, y + r - 2 * k), outline=WHITE, width=round(2 * k))
    draw.line((cx + 4 * k, y + 3 * k, cx + 9 * k, y + 8 * k), WHITE, round(2 * k))


def _draw_actions(
    draw: ImageDraw.ImageDraw, w: int, h: int, k: float, post: Post, rng: random.Random
) -> None:
    x, s, small = w - 26 * k, 11 * k, round(11 * k)
    y = 0.5 * h
    avatar = tuple(rng.randint(60, 220) for _ in range(3))
    draw.ellipse((x - 1.5 * s, y - 1.5 * s, x + 1.5 * s, y + 1.5 * s), fill=avatar, outline=WHITE)
    _text(draw, (x, y), post.author[0].upper(), round(16 * k), anchor="mm")
    draw.ellipse((x - 0.6 * s, y + s, x + 0.6 * s, y + 2.2 * s), fill=(250, 40, 80))
    _text(draw, (x, y + 1.6 * s), "+", round(11 * k), anchor="mm")

    y = 0.62 * h  # heart, as the like button
    liked = (250, 40, 80) if rng.random() < 0.3 else WHITE
    draw.ellipse((x - s, y - s * 0.8, x, y + s * 0.2), fill=liked)
    draw.ellipse((x, y - s * 0.8, x + s, y + s * 0.2), fill=liked)
    draw.polygon([(x - s, y - s * 0.2), (x + s, y - s * 0.2), (x, y + s)], fill=liked)
    _text(draw, (x, y + 1.9 * s), compact_count(post.likes), small, anchor="mm")

    y = 0.72 * h  # comment bubble
    draw.ellipse((x - s, y - 0.8 * s, x + s, y + 0.7 * s), fill=WHITE)
    draw.polygon([(x - 0.6 * s, y + 0.3 * s), (x - 0.9 * s, y + s), (x, y + 0.6 * s)], fill=WHITE)
    for dx in (-0.45, 0, 0.45):
        r = 0.13 * s
        draw.ellipse((x + dx * s - r, y - r, x + dx * s + r, y + r), fill=_INK)
    _text(draw, (x, y + 1.9 * s), compact_count(post.comments), small, anchor="mm")

    y = 0.82 * h  # share arrow
    arrow = [(x + s, y - 0.1 * s), (x + 0.1 * s, y - s), (x + 0.1 * s, y - 0.5 * s),
             (x - s, y - 0.3 * s), (x - s, y + 0.7 * s), (x + 0.1 * s, y + 0.3 * s),
             (x + 0.1 * s, y + 0.8 * s)]  # fmt: skip
    draw.polygon(arrow, fill=WHITE)
    _text(draw, (x, y + 1.9 * s), compact_count(post.shares), small, anchor="mm")

    y = 0.93 * h  # spinning record
    draw.ellipse((x - 1.2 * s, y - 1.2 * s, x + 1.2 * s, y + 1.2 * s), fill=(30, 30, 34))
    draw.ellipse((x - 0.5 * s, y - 0.5 * s, x + 0.5 * s, y + 0.5 * s), fill=avatar)


def _draw_caption(draw: ImageDraw.ImageDraw, w: int, h: int, k: float, post: Post) -> None:
    """Handle, caption, hashtags and sound line, stacked upwards from above the progress bar."""
    left, right = 10 * k, w - 58 * k
    size = round(13 * k)
    lines = _wrap(post.caption, size, right - left, 3)
    tags = _wrap(" ".join(f"#{t}" for t in post.hashtags), size, right - left, 2)
    step = size * 1.35
    y = h - 14 * k
    draw.line((left, y - 4 * k, left, y + 4 * k), WHITE, max(1, round(2 * k)))  # a note symbol
    draw.ellipse((left - 4 * k, y + 2 * k, left + 1 * k, y + 6 * k), fill=WHITE)
    _text(draw, (left + 8 * k, y), f"original sound - {post.author}", round(11 * k), anchor="lm")
    y -= step * 1.2
    for line in reversed(tags):
        _text(draw, (left, y), line, size, anchor="lm", fill=(230, 235, 255))
        y -= step
    for line in reversed(lines):
        _text(draw, (left, y), line, size, anchor="lm")
        y -= step
    _text(draw, (left, y - 2 * k), f"@{post.author}", round(15 * k), anchor="lm")


def _wrap(text: str, size: int, width: float, max_lines: int) -> list[str]:
    """Greedy word wrap by rendered width; text past ``max_lines`` ends in "...", as apps do."""
    measure = font(size).getlength
    lines: list[str] = []
    for word in text.split():
        if lines and measure(f"{lines[-1]} {word}") <= width:
            lines[-1] = f"{lines[-1]} {word}"
        else:
            lines.append(word)
    if len(lines) > max_lines:
        lines = lines[:max_lines]
        last = lines[-1].split()
        while len(last) > 1 and measure(" ".join(last) + "...") > width:
            last.pop()
        lines[-1] = " ".join(last) + "..."
    return lines
