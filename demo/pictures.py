"""Pictures for the demo listings, painted with Pillow: no downloads, and a different picture for every listing.

Each picture is drawn from a seed (the listing's slug and the picture's number), so a listing keeps its pictures
from one run to the next while no two listings share one.
"""

import random
from io import BytesIO

from PIL import Image, ImageDraw

WIDTH, HEIGHT = 720, 480

# A scene per kind of place; the listing's setting picks its outdoor scene.
SCENES = ("beach", "lake", "savanna", "city", "garden")
ROOMS = ("living", "bedroom", "kitchen")


def _shade(rng: random.Random, base: tuple[int, int, int], spread: int = 30) -> tuple[int, int, int]:
    return tuple(max(0, min(255, c + rng.randint(-spread, spread))) for c in base)


def _gradient(draw: ImageDraw.ImageDraw, box, top, bottom) -> None:
    x0, y0, x1, y1 = box
    span = max(1, y1 - y0)
    for y in range(y0, y1):
        t = (y - y0) / span
        draw.line([(x0, y), (x1, y)], fill=tuple(int(a + (b - a) * t) for a, b in zip(top, bottom, strict=True)))


def _palm(draw, rng, x: int, ground: int) -> None:
    height = rng.randint(120, 220)
    lean = rng.randint(-40, 40)
    trunk = _shade(rng, (110, 80, 50), 15)
    draw.line([(x, ground), (x + lean, ground - height)], fill=trunk, width=rng.randint(7, 11))
    top = (x + lean, ground - height)
    leaf = _shade(rng, (40, 120, 50), 25)
    for angle in range(0, 360, 45):
        dx = int(70 * rng.uniform(0.7, 1.1) * (1 if angle < 180 else -1))
        dy = rng.randint(-30, 45)
        draw.line([top, (top[0] + dx, top[1] + dy)], fill=leaf, width=6)


def _house(draw, rng, x: int, ground: int, scale: float = 1.0) -> None:
    w, h = int(rng.randint(150, 230) * scale), int(rng.randint(80, 130) * scale)
    wall = _shade(rng, rng.choice([(235, 225, 205), (245, 240, 230), (210, 170, 130), (190, 215, 225)]))
    roof = _shade(rng, rng.choice([(150, 60, 40), (90, 90, 95), (190, 160, 90)]))
    draw.rectangle([x, ground - h, x + w, ground], fill=wall)
    draw.polygon(
        [(x - 15, ground - h), (x + w // 2, ground - h - int(60 * scale)), (x + w + 15, ground - h)], fill=roof
    )
    door = _shade(rng, (100, 70, 45), 20)
    draw.rectangle([x + w // 2 - 14, ground - 50 * scale, x + w // 2 + 14, ground], fill=door)
    glass = _shade(rng, (120, 170, 200), 20)
    for wx in (x + 18, x + w - 48):
        draw.rectangle([wx, ground - h + 20, wx + 30, ground - h + 50], fill=glass)


def _outdoor(rng: random.Random, scene: str) -> Image.Image:
    image = Image.new("RGB", (WIDTH, HEIGHT))
    draw = ImageDraw.Draw(image)
    horizon = rng.randint(HEIGHT // 3, HEIGHT // 2)
    evening = rng.random() < 0.3
    sky_top = (250, 150, 90) if evening else _shade(rng, (80, 150, 225))
    sky_bottom = (255, 210, 150) if evening else _shade(rng, (190, 225, 250))
    _gradient(draw, (0, 0, WIDTH, horizon), sky_top, sky_bottom)
    sun = (rng.randint(40, WIDTH - 40), rng.randint(30, horizon - 30))
    draw.ellipse([sun[0] - 28, sun[1] - 28, sun[0] + 28, sun[1] + 28], fill=(255, 235, 160))
    for _cloud in range(rng.randint(1, 4)):
        cx, cy = rng.randint(0, WIDTH), rng.randint(10, max(11, horizon - 40))
        draw.ellipse([cx - 50, cy - 14, cx + 50, cy + 14], fill=(250, 250, 250))
    if scene in ("beach", "lake"):
        water = (30, 140, 170) if scene == "beach" else (70, 120, 130)
        sand = (235, 215, 170) if scene == "beach" else (110, 150, 80)
        shore = horizon + rng.randint(60, 120)
        _gradient(draw, (0, horizon, WIDTH, shore), _shade(rng, water), _shade(rng, (120, 200, 210)))
        _gradient(draw, (0, shore, WIDTH, HEIGHT), _shade(rng, sand), _shade(rng, sand, 10))
        if scene == "lake":
            for _hill in range(3):
                hx = rng.randint(0, WIDTH)
                draw.polygon(
                    [(hx - 200, horizon), (hx, horizon - rng.randint(30, 80)), (hx + 200, horizon)], fill=(90, 110, 120)
                )
        for _palm_tree in range(rng.randint(1, 3)):
            _palm(draw, rng, rng.randint(20, WIDTH - 20), HEIGHT - rng.randint(10, 60))
        if rng.random() < 0.6:
            bx = rng.randint(50, WIDTH - 120)
            draw.polygon(
                [(bx, horizon + 30), (bx + 70, horizon + 30), (bx + 55, horizon + 42), (bx + 15, horizon + 42)],
                fill=(120, 70, 40),
            )
            draw.polygon(
                [(bx + 35, horizon - 30), (bx + 35, horizon + 28), (bx + 70, horizon + 28)], fill=(245, 245, 235)
            )
    elif scene == "savanna":
        peak = rng.randint(150, WIDTH - 150)
        draw.polygon(
            [(peak - 260, horizon), (peak, horizon - rng.randint(110, 170)), (peak + 260, horizon)],
            fill=_shade(rng, (95, 100, 120), 15),
        )
        draw.polygon(
            [(peak - 45, horizon - 120), (peak, horizon - 150), (peak + 45, horizon - 120)], fill=(245, 245, 250)
        )
        _gradient(draw, (0, horizon, WIDTH, HEIGHT), _shade(rng, (190, 170, 90)), _shade(rng, (150, 130, 60)))
        for _tree in range(rng.randint(2, 5)):
            tx, ty = rng.randint(0, WIDTH), rng.randint(horizon + 20, HEIGHT - 20)
            draw.line([(tx, ty), (tx, ty - 45)], fill=(80, 60, 40), width=5)
            draw.ellipse([tx - 55, ty - 70, tx + 55, ty - 40], fill=_shade(rng, (70, 110, 50), 15))
        _house(draw, rng, rng.randint(40, WIDTH - 260), HEIGHT - rng.randint(30, 80))
    elif scene == "city":
        _gradient(draw, (0, horizon, WIDTH, HEIGHT), (120, 120, 125), (80, 80, 85))
        x = 0
        while x < WIDTH:
            w = rng.randint(40, 90)
            top = rng.randint(40, horizon + 60)
            colour = _shade(rng, (150, 160, 175), 35)
            draw.rectangle([x, top, x + w, HEIGHT], fill=colour)
            for wy in range(top + 10, HEIGHT - 10, 22):
                for wx in range(x + 6, x + w - 10, 16):
                    if rng.random() < 0.7:
                        draw.rectangle([wx, wy, wx + 8, wy + 10], fill=(250, 230, 150) if evening else (200, 220, 235))
            x += w + rng.randint(0, 12)
    else:  # garden
        _gradient(draw, (0, horizon, WIDTH, HEIGHT), _shade(rng, (90, 160, 70)), _shade(rng, (60, 120, 50)))
        _house(draw, rng, rng.randint(60, WIDTH - 300), horizon + rng.randint(80, 140), scale=1.3)
        for _bush in range(rng.randint(4, 9)):
            bx, by = rng.randint(0, WIDTH), rng.randint(horizon + 100, HEIGHT)
            r = rng.randint(18, 40)
            draw.ellipse([bx - r, by - r, bx + r, by + r], fill=_shade(rng, (40, 110, 45), 25))
            if rng.random() < 0.5:
                draw.ellipse([bx - 6, by - r - 4, bx + 6, by - r + 8], fill=_shade(rng, (220, 60, 130), 30))
    return image


def _room(rng: random.Random, room: str) -> Image.Image:
    image = Image.new("RGB", (WIDTH, HEIGHT))
    draw = ImageDraw.Draw(image)
    floor_y = rng.randint(int(HEIGHT * 0.6), int(HEIGHT * 0.72))
    wall = _shade(rng, rng.choice([(240, 232, 215), (225, 235, 240), (245, 225, 210), (230, 240, 225)]), 15)
    draw.rectangle([0, 0, WIDTH, floor_y], fill=wall)
    _gradient(draw, (0, floor_y, WIDTH, HEIGHT), _shade(rng, (170, 120, 80)), _shade(rng, (120, 80, 50)))
    wx = rng.randint(40, WIDTH - 260)
    draw.rectangle([wx, 60, wx + 200, floor_y - 120], fill=(255, 255, 255))
    _gradient(draw, (wx + 10, 70, wx + 190, floor_y - 130), _shade(rng, (110, 180, 230)), (200, 230, 250))
    draw.line([(wx + 100, 70), (wx + 100, floor_y - 130)], fill=(255, 255, 255), width=6)
    accent = _shade(rng, rng.choice([(200, 80, 60), (40, 110, 140), (220, 170, 50), (60, 130, 90)]), 20)
    if room == "living":
        sx = rng.randint(20, WIDTH - 360)
        draw.rounded_rectangle([sx, floor_y - 90, sx + 320, floor_y + 30], radius=18, fill=accent)
        draw.rounded_rectangle(
            [sx + 15, floor_y - 130, sx + 305, floor_y - 70], radius=14, fill=_shade(rng, accent, 25)
        )
        draw.rectangle([sx + 90, floor_y + 50, sx + 250, floor_y + 65], fill=(90, 60, 40))
        draw.ellipse([WIDTH - 140, floor_y - 200, WIDTH - 60, floor_y - 90], fill=(50, 120, 60))
        draw.rectangle([WIDTH - 112, floor_y - 90, WIDTH - 88, floor_y], fill=(150, 90, 60))
    elif room == "bedroom":
        bx = rng.randint(40, WIDTH - 420)
        draw.rectangle([bx, floor_y - 170, bx + 24, floor_y + 40], fill=(110, 75, 50))
        draw.rectangle([bx, floor_y - 40, bx + 380, floor_y + 40], fill=(245, 245, 245))
        draw.rectangle([bx + 140, floor_y - 45, bx + 380, floor_y + 45], fill=accent)
        draw.rounded_rectangle([bx + 35, floor_y - 75, bx + 120, floor_y - 35], radius=10, fill=(255, 255, 255))
        draw.polygon(
            [(bx + 60, 40), (bx + 190, 40), (bx + 230, floor_y - 50), (bx + 20, floor_y - 50)], outline=(250, 250, 250)
        )
    else:
        draw.rectangle([0, floor_y - 110, WIDTH, floor_y], fill=_shade(rng, (200, 200, 195), 20))
        draw.rectangle([0, floor_y - 120, WIDTH, floor_y - 105], fill=_shade(rng, (60, 60, 65), 10))
        for cx in range(30, WIDTH, rng.randint(110, 150)):
            draw.rectangle([cx, floor_y - 95, cx + 90, floor_y - 10], outline=accent, width=4)
        for _pot in range(rng.randint(2, 4)):
            px = rng.randint(40, WIDTH - 80)
            draw.ellipse([px, floor_y - 160, px + 50, floor_y - 120], fill=_shade(rng, (180, 180, 185), 30))
    return image


def demo_picture(*, seed: str, number: int, setting: str) -> bytes:
    """Picture `number` of a listing as JPEG bytes: outdoors in its setting, then the rooms, then more outdoors."""
    rng = random.Random(f"{seed}:{number}")
    if number == 0:
        image = _outdoor(rng, setting if setting in SCENES else "garden")
    elif number <= len(ROOMS):
        image = _room(rng, ROOMS[number - 1])
    else:
        image = _outdoor(rng, rng.choice(SCENES))
    buffer = BytesIO()
    image.save(buffer, format="JPEG", quality=80)
    return buffer.getvalue()
