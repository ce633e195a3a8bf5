"""Photos made up for the tests: phone-like scenes of one product kind (a trail shoe on a floor, in
a room or outside, each with its own light, clutter, textures and grain), the edits a reused photo
goes through (re-encoded, resized, cropped by 10%, brightened, a shop's logo added), and files that
only pretend to be photos.

Every scene is drawn from its seed, so a failure names the seed that shows it again.
"""

from __future__ import annotations

import io
import math
import random
import struct
import zlib
from collections.abc import Callable

import numpy as np
from PIL import Image, ImageDraw, ImageEnhance, ImageFilter

Colour = tuple[int, int, int]


def _colour(rng: random.Random, lo: int = 0, hi: int = 255) -> Colour:
    return (rng.randint(lo, hi), rng.randint(lo, hi), rng.randint(lo, hi))


def _texture(nprng: np.random.Generator, size: tuple[int, int], scale: int) -> np.ndarray:
    """Cloudy noise in 0..1 at the given grain: what a rug, a lawn or a wall's paint looks like."""
    w, h = size
    small = nprng.random((max(2, h // scale), max(2, w // scale)))
    grey = Image.fromarray((small * 255).astype(np.uint8)).resize((w, h), Image.Resampling.BICUBIC)
    return np.asarray(grey, dtype=np.float32) / 255


def scene(seed: int, size: tuple[int, int] = (1200, 900)) -> Image.Image:
    """A phone photo of a trail shoe somewhere, different for every seed."""
    rng = random.Random(seed)
    nprng = np.random.default_rng(seed)
    w, h = size
    pic = Image.new("RGB", size, _colour(rng, 40, 220))
    draw = ImageDraw.Draw(pic)
    horizon = int(rng.uniform(0.3, 0.7) * h)
    draw.rectangle((0, horizon, w, h), fill=_colour(rng, 20, 200))
    step, line = rng.randint(40, 160), _colour(rng)
    if rng.random() < 0.5:  # floorboards running away, or tiles
        for x in range(-w, 2 * w, step):
            draw.line([(x, h), (w / 2 + (x - w / 2) * 0.3, horizon)], fill=line, width=2)
    else:
        for y in range(horizon, h, max(1, step // 2)):
            draw.line([(0, y), (w, y)], fill=line, width=2)
    for _ in range(rng.randint(4, 12)):  # furniture, boxes, plants, pictures on the wall
        x0, y0 = rng.uniform(-0.1, 1) * w, rng.uniform(0, 0.9) * h
        x1, y1 = x0 + rng.uniform(0.05, 0.4) * w, y0 + rng.uniform(0.05, 0.4) * h
        fill = _colour(rng)
        match rng.choice(("rect", "ellipse", "poly")):
            case "rect":
                draw.rectangle((x0, y0, x1, y1), fill=fill)
            case "ellipse":
                draw.ellipse((x0, y0, x1, y1), fill=fill)
            case _:
                draw.polygon([(rng.uniform(x0, x1), rng.uniform(y0, y1)) for _ in range(5)], fill=fill)
    _shoe(draw, rng, w, h)
    arr = np.asarray(pic, dtype=np.float32)
    arr *= (0.75 + 0.5 * _texture(nprng, size, rng.randint(8, 40)))[..., None]  # the surfaces' grain
    lx, ly = rng.uniform(-0.5, 1.5) * w, rng.uniform(-0.5, 0.5) * h  # light from one side
    yy, xx = np.mgrid[0:h, 0:w]
    arr *= (1.2 - 0.7 * np.sqrt((xx - lx) ** 2 + (yy - ly) ** 2) / math.hypot(w, h))[..., None]
    arr += nprng.normal(0, 5, arr.shape)  # the sensor's noise
    out = Image.fromarray(np.clip(arr, 0, 255).astype(np.uint8))
    return out.filter(ImageFilter.GaussianBlur(rng.uniform(0.6, 1.6)))


def _shoe(draw: ImageDraw.ImageDraw, rng: random.Random, w: int, h: int) -> None:
    cx, cy = rng.uniform(0.3, 0.7) * w, rng.uniform(0.5, 0.75) * h
    s, angle, flip = rng.uniform(0.3, 0.5) * w, rng.uniform(-0.4, 0.4), rng.choice((-1, 1))

    def place(points: list[tuple[float, float]]) -> list[tuple[float, float]]:
        c, si = math.cos(angle), math.sin(angle)
        return [(cx + flip * x * s * c - y * s * si, cy + flip * x * s * si + y * s * c) for x, y in points]

    draw.polygon(place([(-0.52, 0.1), (0.52, 0.1), (0.5, 0.2), (-0.5, 0.2)]), fill=_colour(rng, 150, 255))
    draw.polygon(place([(-0.5, 0.1), (-0.45, -0.15), (-0.1, -0.2), (0.05, -0.45), (0.3, -0.45), (0.35, -0.1),
                        (0.5, 0.0), (0.5, 0.12)]), fill=_colour(rng))
    laces = _colour(rng, 200, 255)
    for i in range(5):
        x = -0.05 + i * 0.07
        draw.line(place([(x, -0.25 - i * 0.03), (x + 0.08, -0.2 - i * 0.03)]), fill=laces, width=4)


# --- what a reused photo goes through --------------------------------------------------------------


def reencoded(img: Image.Image) -> Image.Image:
    return Image.open(io.BytesIO(jpeg(img, quality=50))).convert("RGB")


def resized(img: Image.Image) -> Image.Image:
    return img.resize((img.width // 3, img.height // 3), Image.Resampling.LANCZOS)


def cropped_around(img: Image.Image) -> Image.Image:
    """10% of the width and of the height cut away, half on each side."""
    w, h = img.size
    return img.crop((round(w * 0.05), round(h * 0.05), round(w * 0.95), round(h * 0.95)))


def cropped_one_side(img: Image.Image) -> Image.Image:
    """10% of the width cut from the left."""
    return img.crop((round(img.width * 0.10), 0, img.width, img.height))


def cropped_area(img: Image.Image) -> Image.Image:
    """10% of the area cut away at the right and bottom."""
    keep = math.sqrt(0.9)
    return img.crop((0, 0, round(img.width * keep), round(img.height * keep)))


def brightened(img: Image.Image) -> Image.Image:
    return ImageEnhance.Brightness(img).enhance(1.3)


def with_logo(img: Image.Image) -> Image.Image:
    """A shop's logo stamped in the bottom right corner."""
    out = img.copy()
    w, h = out.size
    draw = ImageDraw.Draw(out)
    draw.rounded_rectangle((w * 0.80, h * 0.90, w * 0.97, h * 0.97), radius=8, fill=(255, 255, 255))
    draw.text((w * 0.815, h * 0.905), "SHOP", fill=(200, 0, 0), font_size=int(h * 0.05))
    return out


def everything(img: Image.Image) -> Image.Image:
    """Cropped, brightened, stamped and made smaller at once."""
    return resized(with_logo(brightened(cropped_around(img))))


EDITS: dict[str, Callable[[Image.Image], Image.Image]] = {
    "re-encoded": reencoded, "resized": resized, "cropped around": cropped_around,
    "cropped one side": cropped_one_side, "cropped area": cropped_area, "brightened": brightened,
    "logo added": with_logo, "all at once": everything,
}


# --- files ------------------------------------------------------------------------------------------


def jpeg(img: Image.Image, quality: int = 90, **params: object) -> bytes:
    out = io.BytesIO()
    img.save(out, "JPEG", quality=quality, **params)
    return out.getvalue()


def encoded(img: Image.Image, fmt: str, **params: object) -> bytes:
    out = io.BytesIO()
    img.save(out, fmt, **params)
    return out.getvalue()


def png_bomb_header(width: int = 50_000, height: int = 50_000) -> bytes:
    """A PNG whose header claims width × height pixels, with a few bytes of data: a decompression bomb's
    opening, which must be refused before anything is decoded."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\x00" * 1024))
            + chunk(b"IEND", b""))


def png_with_text_chunk(img: Image.Image, size: int = 10 * 1024 * 1024) -> bytes:
    """A real PNG carrying a text chunk of `size` bytes before its pixels."""
    from PIL import PngImagePlugin

    info = PngImagePlugin.PngInfo()
    info.add_text("Comment", "A" * size)
    return encoded(img, "PNG", pnginfo=info)
