"""Cartoon scenes for the demo corpus: one set of icons and colours per Schwartz value.

Shapes only (ImageDraw polygons, discs, lines, numpy gradients), so no assets ship and a frame
takes milliseconds. Coordinates are fractions of the frame, so any portrait size works. Every
random choice comes from the caller's ``rng``: the same rng state gives the same pixels.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from functools import lru_cache

import numpy as np
from PIL import Image, ImageDraw, ImageFont

Color = tuple[int, int, int]
WHITE: Color = (255, 255, 255)

# sky top, sky bottom, ground, accent, second accent (hex RGB); jittered per image by the rng.
_PALETTES: dict[str, str] = {
    "self_direction": "ffaa6e ffe1aa 607848 50608c 46464c",
    "stimulation": "14103c 461e6e 143c8c ff5078 ffdc3c",
    "hedonism": "5abef0 c8f0ff f0d796 ff6e96 3caa5a",
    "achievement": "281850 141432 783c3c fac828 d2d2dc",
    "power": "0a0e28 282846 14141e f0be3c ffe68c",
    "security": "96c8f0 e1f0fa 6eaa5a 285aaa c8463c",
    "conformity": "aab4c3 d2d7de 828791 283c6e e6e6eb",
    "tradition": "961e1e fa963c 5a281e dc2828 fac850",
    "benevolence": "ffbec8 ffebdc f5c8b4 e63c5a e6b496",
    "universalism": "78d2dc dcfaf0 5aaa5a 286ec8 3ca046",
}


def _colors(spec: str) -> tuple[Color, ...]:
    return tuple((int(h[0:2], 16), int(h[2:4], 16), int(h[4:6], 16)) for h in spec.split())


@lru_cache(maxsize=32)
def font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    """Pillow's built-in scalable font, cached: no font files needed, same glyphs everywhere."""
    return ImageFont.load_default(size=max(size, 6))


class _Canvas:
    """ImageDraw in fractions of the frame, so scenes are written once for every size."""

    def __init__(self, image: Image.Image, rng: random.Random, palette: tuple[Color, ...]):
        self.image, self.rng = image, rng
        self.draw = ImageDraw.Draw(image)
        self.w, self.h = image.size
        self.pal = tuple(_jitter(c, rng) for c in palette)

    def xy(self, *points: float) -> list[tuple[float, float]]:
        return [(points[k] * self.w, points[k + 1] * self.h) for k in range(0, len(points), 2)]

    def poly(self, fill: Color, *points: float) -> None:
        self.draw.polygon(self.xy(*points), fill=fill)

    def rect(self, fill: Color, x0: float, y0: float, x1: float, y1: float) -> None:
        self.draw.rectangle(self.xy(x0, y0, x1, y1), fill=fill)

    def disc(self, fill: Color, x: float, y: float, r: float, outline: Color | None = None) -> None:
        """A circle of radius ``r`` (fraction of width) centred at (x, y)."""
        cx, cy, rr = x * self.w, y * self.h, r * self.w
        self.draw.ellipse((cx - rr, cy - rr, cx + rr, cy + rr), fill=fill, outline=outline)

    def line(self, fill: Color, width: float, *points: float) -> None:
        self.draw.line(self.xy(*points), fill=fill, width=max(1, round(width * self.w)))

    def heart(self, fill: Color, x: float, y: float, s: float) -> None:
        self.disc(fill, x - s / 4, y, s / 4)
        self.disc(fill, x + s / 4, y, s / 4)
        k = self.w / self.h
        self.poly(fill, x - s / 2, y + s * k / 12, x + s / 2, y + s * k / 12, x, y + s * k * 0.6)


def _jitter(color: Color, rng: random.Random, spread: int = 22) -> Color:
    return tuple(min(255, max(0, c + rng.randint(-spread, spread))) for c in color)  # type: ignore[return-value]


def draw_scene(theme: str, rng: random.Random, width: int, height: int) -> Image.Image:
    """Draw the background scene for ``theme`` (one of ``VALUES``) at ``width`` x ``height``."""
    palette = _colors(_PALETTES[theme])
    sky_top, sky_bottom = (_jitter(c, rng) for c in palette[:2])
    image = _gradient(width, height, sky_top, sky_bottom)
    _SCENES[theme](_Canvas(image, rng, palette))
    return image


def _gradient(width: int, height: int, top: Color, bottom: Color) -> Image.Image:
    t = np.linspace(0.0, 1.0, height, dtype=np.float32)[:, None]
    rows = (1 - t) * np.asarray(top, np.float32) + t * np.asarray(bottom, np.float32)
    return Image.fromarray(np.repeat(rows[:, None, :], width, axis=1).astype(np.uint8))


# --- scenes: one per value, drawn with shapes only ------------------------------------------


def _self_direction(c: _Canvas) -> None:
    _, _, ground, far, road = c.pal
    c.disc((255, 240, 200), c.rng.uniform(0.2, 0.8), 0.22, 0.09)
    for layer, (shade, top) in enumerate(((far, 0.3), (_jitter(far, c.rng, 40), 0.4))):
        xs = sorted(c.rng.uniform(0.05, 0.95) for _ in range(3))
        pts = [0.0, 0.62]
        for x in xs:
            peak = top + c.rng.uniform(0, 0.08) + layer * 0.02
            pts += [x, peak]
        c.poly(shade, *pts, 1.0, 0.62, 1.0, 0.7, 0.0, 0.7)
        for x, peak in zip(pts[2::2], pts[3::2], strict=True):
            c.poly(WHITE, x, peak, x - 0.05, peak + 0.04, x + 0.05, peak + 0.04)
    c.rect(ground, 0, 0.62, 1, 1)
    vx = c.rng.uniform(0.4, 0.6)
    c.poly(road, vx - 0.01, 0.62, vx + 0.01, 0.62, 0.9, 1.0, 0.1, 1.0)
    for k in range(6):
        t0, t1 = (k + 0.2) / 6, (k + 0.6) / 6
        c.line(
            (250, 220, 90),
            0.004 + 0.012 * t1,
            vx + (0.5 - vx) * t0,
            0.62 + 0.38 * t0,
            vx + (0.5 - vx) * t1,
            0.62 + 0.38 * t1,
        )
    c.rect((200, 80, 50), 0.64, 0.74, 0.68, 0.8)  # backpack
    c.rect((60, 60, 70), 0.655, 0.73, 0.7, 0.82)
    c.disc((230, 180, 140), 0.677, 0.715, 0.02)


def _stimulation(c: _Canvas) -> None:
    _, _, sea, burst, spark = c.pal
    if c.rng.random() < 0.5:  # fireworks over a crowd
        for _ in range(c.rng.randint(3, 5)):
            x, y, r = c.rng.uniform(0.15, 0.85), c.rng.uniform(0.12, 0.45), c.rng.uniform(0.1, 0.2)
            color = c.rng.choice((burst, spark, (120, 220, 255), WHITE))
            for k in range(16):
                a = k / 16 * 2 * np.pi
                dx, dy = np.cos(a) * r, np.sin(a) * r * c.w / c.h
                c.line(color, 0.008, x + dx * 0.3, y + dy * 0.3, x + dx, y + dy)
                c.disc(color, x + dx * 1.1, y + dy * 1.1, 0.008)
        for k in range(14):
            c.disc((15, 10, 30), (k + 0.5) / 14, 0.9 + c.rng.uniform(-0.02, 0.02), 0.05)
        c.rect((15, 10, 30), 0, 0.92, 1, 1)
    else:  # a big wave with a surfer
        face, tube = _jitter(sea, c.rng, 25), _jitter(sea, c.rng, 10)
        c.rect(sea, 0, 0.6, 1, 1)
        crest = c.rng.uniform(0.26, 0.34)
        c.poly(face, 0, 1, 0, crest + 0.04, 0.2, crest, 0.4, crest + 0.01, 0.52, crest + 0.08,
               0.62, crest + 0.2, 0.8, 0.62, 1, 0.64, 1, 1)  # fmt: skip
        c.draw.ellipse(c.xy(0.16, crest + 0.06, 0.5, crest + 0.3), fill=tuple(v // 2 for v in tube))
        c.line(WHITE, 0.03, 0, crest + 0.04, 0.2, crest, 0.4, crest + 0.01, 0.52, crest + 0.08)
        for _ in range(12):  # spray
            c.disc(WHITE, c.rng.uniform(0.3, 0.6), crest + c.rng.uniform(-0.04, 0.06), 0.01)
        c.poly(spark, 0.55, 0.6, 0.75, 0.55, 0.77, 0.57, 0.57, 0.62)  # board
        c.line((40, 40, 40), 0.025, 0.65, 0.57, 0.67, 0.49)
        c.disc((220, 170, 130), 0.675, 0.47, 0.025)


def _hedonism(c: _Canvas) -> None:
    _, _, sand, drink, palm = c.pal
    c.disc((255, 230, 120), 0.78, 0.16, 0.1)
    c.rect((40, 150, 210), 0, 0.48, 1, 0.6)
    c.rect(sand, 0, 0.6, 1, 1)
    c.line((120, 80, 40), 0.035, 0.15, 0.85, 0.18, 0.6, 0.25, 0.35)
    for dx, dy in ((-0.2, 0.02), (0.2, 0.03), (-0.12, -0.05), (0.14, -0.05), (0.0, 0.06)):
        c.poly(palm, 0.25, 0.35, 0.25 + dx, 0.35 + dy, 0.25 + dx * 0.6, 0.35 + dy + 0.04)
    c.poly(drink, 0.55, 0.62, 0.8, 0.62, 0.675, 0.72)  # cocktail glass
    c.line(WHITE, 0.012, 0.675, 0.72, 0.675, 0.79)
    c.line(WHITE, 0.012, 0.62, 0.795, 0.73, 0.795)
    c.line((40, 200, 120), 0.01, 0.72, 0.64, 0.78, 0.56)
    c.draw.pieslice(c.xy(0.54, 0.585, 0.64, 0.64), 180, 360, fill=(250, 90, 160))
    for _ in range(40):
        x, y = c.rng.random(), c.rng.uniform(0.05, 0.6)
        color = c.rng.choice(((255, 80, 120), (255, 220, 60), (80, 200, 255), (140, 90, 255)))
        c.rect(color, x, y, x + 0.015, y + 0.006)


def _achievement(c: _Canvas) -> None:
    _, _, block, gold, silver = c.pal
    for x in (0.2, 0.5, 0.8):
        c.poly((255, 255, 230), x - 0.03, 0.0, x + 0.03, 0.0, x + 0.25, 0.85, x - 0.25, 0.85)
    for x0, top, label in ((0.08, 0.68, "2"), (0.36, 0.6, "1"), (0.64, 0.74, "3")):
        c.rect(block, x0, top, x0 + 0.28, 1.0)
        c.draw.text(
            c.xy(x0 + 0.14, top + 0.05)[0], label, fill=WHITE, font=font(c.w // 8), anchor="mm"
        )
    c.draw.chord(c.xy(0.36, 0.3, 0.64, 0.48), 0, 180, fill=gold)  # trophy cup
    c.rect(gold, 0.36, 0.3, 0.64, 0.39)
    for x0 in (0.3, 0.6):
        c.draw.arc(c.xy(x0, 0.32, x0 + 0.1, 0.4), 0, 360, fill=gold, width=round(0.015 * c.w))
    c.rect(gold, 0.48, 0.47, 0.52, 0.53)
    c.rect(gold, 0.42, 0.53, 0.58, 0.56)
    c.disc(silver, 0.18, 0.58, 0.06, outline=gold)
    c.disc(silver, 0.82, 0.64, 0.05, outline=gold)


def _power(c: _Canvas) -> None:
    _, _, tower, gold, light = c.pal
    x = 0.0
    while x < 1.0:
        bw, top = c.rng.uniform(0.1, 0.2), c.rng.uniform(0.35, 0.7)
        c.rect(_jitter(tower, c.rng, 12), x, top, x + bw, 1.0)
        for wy in np.arange(top + 0.02, 0.95, 0.03):
            for wx in np.arange(x + 0.02, x + bw - 0.03, 0.04):
                if c.rng.random() < 0.55:
                    c.rect(light, wx, wy, wx + 0.02, wy + 0.012)
        x += bw + 0.01
    c.poly(gold, 0.3, 0.28, 0.3, 0.15, 0.4, 0.22, 0.5, 0.1, 0.6, 0.22, 0.7, 0.15, 0.7, 0.28)
    for jx, color in ((0.4, (220, 40, 60)), (0.5, (60, 120, 230)), (0.6, (40, 180, 90))):
        c.disc(color, jx, 0.25, 0.02)


def _security(c: _Canvas) -> None:
    _, _, grass, shield, roof = c.pal
    c.rect(grass, 0, 0.7, 1, 1)
    c.rect((235, 225, 205), 0.2, 0.52, 0.62, 0.76)  # house
    c.poly(roof, 0.15, 0.53, 0.41, 0.4, 0.67, 0.53)
    c.rect((110, 70, 40), 0.37, 0.62, 0.45, 0.76)
    c.rect((150, 200, 240), 0.25, 0.57, 0.32, 0.63)
    for k in range(12):
        c.rect(WHITE, k / 12 + 0.01, 0.74, k / 12 + 0.05, 0.84)
    c.poly(shield, 0.55, 0.12, 0.85, 0.12, 0.85, 0.27, 0.7, 0.38, 0.55, 0.27)
    c.draw.arc(c.xy(0.65, 0.16, 0.75, 0.24), 180, 360, fill=WHITE, width=round(0.015 * c.w))
    c.rect(WHITE, 0.635, 0.2, 0.765, 0.28)  # padlock body
    c.disc(shield, 0.7, 0.235, 0.015)


def _conformity(c: _Canvas) -> None:
    _, _, floor, uniform, face = c.pal
    c.rect(floor, 0, 0.5, 1, 1)
    for row in range(5):  # back to front: identical figures in identical rows
        y, scale = 0.42 + row * 0.1, 0.6 + row * 0.12
        cols = 7 - row // 2
        c.line((240, 200, 60), 0.006, 0.03, y + 0.075 * scale, 0.97, y + 0.075 * scale)
        for k in range(cols):
            x = (k + 0.5) / cols
            c.rect(
                uniform, x - 0.035 * scale, y + 0.012 * scale, x + 0.035 * scale, y + 0.07 * scale
            )
            c.disc(face, x, y, 0.025 * scale)


def _tradition(c: _Canvas) -> None:
    _, _, wall, lantern, gold = c.pal
    for tier in range(3):
        half, y = 0.3 - tier * 0.07, 0.72 - tier * 0.14
        c.rect(wall, 0.5 - half * 0.7, y, 0.5 + half * 0.7, y + 0.14)
        c.poly(
            (50, 30, 30),
            0.5 - half - 0.05,
            y - 0.01,
            0.5 - half * 0.6,
            y - 0.05,
            0.5 + half * 0.6,
            y - 0.05,
            0.5 + half + 0.05,
            y - 0.01,
        )
    c.line(gold, 0.012, 0.5, 0.3, 0.5, 0.22)
    c.rect((70, 40, 30), 0, 0.86, 1, 1)
    for k in range(5):
        x, y = 0.1 + k * 0.2, c.rng.uniform(0.14, 0.26)
        c.line((40, 20, 20), 0.004, x, 0.0, x, y - 0.03)
        c.draw.ellipse(c.xy(x - 0.06, y - 0.03, x + 0.06, y + 0.04), fill=lantern)
        c.rect(gold, x - 0.03, y - 0.035, x + 0.03, y - 0.025)
        c.line(gold, 0.006, x, y + 0.04, x, y + 0.07)


def _benevolence(c: _Canvas) -> None:
    _, _, _, heart, skin = c.pal
    c.heart(heart, 0.5, 0.4, 0.45)
    for _ in range(7):
        c.heart(
            _jitter(heart, c.rng, 50),
            c.rng.uniform(0.1, 0.9),
            c.rng.uniform(0.08, 0.3),
            c.rng.uniform(0.06, 0.12),
        )
    for side in (-1, 1):  # two open hands offering the heart
        c.line(_jitter(heart, c.rng, 60), 0.16, 0.5 + side * 0.22, 0.64, 0.5 + side * 0.45, 1.0)
        c.line(skin, 0.13, 0.5 + side * 0.16, 0.6, 0.5 + side * 0.24, 0.7)
        palm = sorted((0.5 + side * 0.02, 0.5 + side * 0.28))
        c.draw.ellipse(c.xy(palm[0], 0.56, palm[1], 0.63), fill=skin)
        for f in range(4):
            fx = 0.5 + side * (0.25 - f * 0.055)
            c.draw.ellipse(c.xy(fx - 0.028, 0.545 - 0.01 * f, fx + 0.028, 0.6), fill=skin)


def _universalism(c: _Canvas) -> None:
    _, _, grass, ocean, land = c.pal
    r = 0.3
    c.disc(ocean, 0.5, 0.32, r)
    for _ in range(5):
        x, y = 0.5 + c.rng.uniform(-0.15, 0.15), 0.32 + c.rng.uniform(-0.1, 0.1)
        c.draw.ellipse(c.xy(x - 0.07, y - 0.035, x + 0.07, y + 0.035), fill=land)
    for k in (0.3, 0.65):
        c.draw.ellipse(
            c.xy(0.5 - r * k, 0.32 - r * 0.56, 0.5 + r * k, 0.32 + r * 0.56), outline=WHITE, width=1
        )
    c.line(WHITE, 0.003, 0.2, 0.32, 0.8, 0.32)
    c.rect(grass, 0, 0.72, 1, 1)
    for k in range(6):
        x = 0.08 + k * 0.17
        c.rect((110, 80, 50), x - 0.012, 0.72, x + 0.012, 0.8)
        c.disc(_jitter(land, c.rng, 25), x, 0.69, 0.055)


_SCENES: dict[str, Callable[[_Canvas], None]] = {
    "self_direction": _self_direction,
    "stimulation": _stimulation,
    "hedonism": _hedonism,
    "achievement": _achievement,
    "power": _power,
    "security": _security,
    "conformity": _conformity,
    "tradition": _tradition,
    "benevolence": _benevolence,
    "universalism": _universalism,
}
