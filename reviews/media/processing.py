"""The photo pipeline, the one place a file becomes a photo: decode by content, refuse what is not a
still photo, apply the orientation, drop every metadata field, re-encode as WebP.

A file is an image only if Pillow decodes it as JPEG, PNG, WebP or HEIC (`pillow-heif`), whatever
its name or declared type says. Refused, each with its own code for the buyer's message:

- `too_large`: more than `MAX_UPLOAD_BYTES` as uploaded;
- `not_image`: no decoder takes it (SVG, HTML or a zip named .jpg, GIF, TIFF, text ...);
- `disguised`: an image with markup or an archive inside it (a polyglot: HTML or script that a
  browser could find in it, or a zip a reader would open); re-encoding would drop it, but a file
  built to be two things at once is not an honest photo;
- `too_many_pixels`: more than `MAX_PIXELS`, read from the header before a pixel is decoded (a
  decompression bomb is a small file that claims billions of pixels);
- `truncated`: the pixels end early (an upload cut off);
- `animated`: more than one frame;
- `hidden_data`: more metadata than a photo carries (a PNG with a 10 MB text chunk).

What is kept are the pixels: the EXIF orientation is applied, an embedded colour profile is
converted to sRGB, and the output is written from pixels alone, so GPS, camera serials, times,
XMP and ICC never reach it. The photo is at most `LONG_SIDE` pixels on its long side, its
thumbnail `THUMB_LONG_SIDE`; both WebP, each with its size and the hash of its bytes (its name in
`reviews.media.blobs`). The perceptual fingerprint is taken from the thumbnail
(`reviews.media.fingerprint`).

CPU-bound and synchronous: callers run `process` in a thread. At most `CONCURRENT` run at once in a
process, since one decode of a large photo takes a few hundred megabytes.
"""

from __future__ import annotations

import hashlib
import io
import re
import threading
import zipfile
from dataclasses import dataclass

import pillow_heif
from PIL import Image, ImageCms

from reviews.media import fingerprint
from reviews.media.fingerprint import Fingerprint

pillow_heif.register_heif_opener()

MAX_UPLOAD_BYTES = 15 * 1024 * 1024
# 48-megapixel phone sensors pass; a decompression bomb's billions do not.
MAX_PIXELS = 50_000_000
LONG_SIDE = 1600
THUMB_LONG_SIDE = 400
QUALITY = 82
THUMB_QUALITY = 76
# libwebp's effort (0-6): its default for the photo; less for the thumbnail, a sixteenth of the pixels
# where the difference in size is a few hundred bytes.
METHOD = 4
THUMB_METHOD = 2
# EXIF with its preview, an ICC profile and XMP come to well under this in any camera's file.
METADATA_MAX = 1024 * 1024
CONCURRENT = 2
MEDIA_TYPE = "image/webp"
FORMATS = ("JPEG", "PNG", "WEBP", "HEIF")
# What makes a file readable as something else too: markup a browser would run, an archive's directory.
_DISGUISE = re.compile(rb"<(?:script|html|svg|iframe|body|object|embed|!doctype|\?php)[\s>/]", re.IGNORECASE)
_SRGB = ImageCms.createProfile("sRGB")
_slots = threading.BoundedSemaphore(CONCURRENT)


class Refused(ValueError):
    """The file is not a photo Attest takes; `code` says why (see the module docstring)."""

    def __init__(self, code: str, detail: str = "") -> None:
        super().__init__(f"{code}: {detail}" if detail else code)
        self.code = code


@dataclass(frozen=True)
class Encoded:
    data: bytes
    width: int
    height: int
    digest: str  # sha256 of data, hex: its name in the store
    media_type: str = MEDIA_TYPE


@dataclass(frozen=True)
class Processed:
    image: Encoded
    thumb: Encoded
    fingerprint: Fingerprint
    source_format: str  # what the file turned out to be: JPEG, PNG, WEBP or HEIF
    uploaded_bytes: int


def process(data: bytes) -> Processed:
    """The photo in `data`, processed; `Refused` when it is not one."""
    if len(data) > MAX_UPLOAD_BYTES:
        raise Refused("too_large", f"{len(data)} bytes")
    if _DISGUISE.search(data) or _is_zip(data):
        raise Refused("disguised")
    with _slots:
        return _process(data)


def _process(data: bytes) -> Processed:
    try:
        img = Image.open(io.BytesIO(data), formats=FORMATS)
    except Image.DecompressionBombError as exc:
        raise Refused("too_many_pixels", str(exc)) from None
    except Exception as exc:  # a crafted file can trip a decoder's parser in any way: it is no photo
        raise Refused("not_image", f"{type(exc).__name__}: {exc}") from None
    with img:
        width, height = img.size
        if width < 1 or height < 1 or width * height > MAX_PIXELS:
            raise Refused("too_many_pixels", f"{width}x{height}")
        if getattr(img, "is_animated", False):
            raise Refused("animated")
        _check_metadata(img)
        source_format = str(img.format)
        transpose = _orientation(img)
        icc = img.info.get("icc_profile")
        # A JPEG decodes straight at a fraction of its size (its DCT scaling) when that still
        # leaves at least LONG_SIDE pixels: a 12 MP photo is decoded at 3 MP.
        scale = min(1.0, LONG_SIDE / max(width, height))
        img.draft("RGB", (max(1, round(width * scale)), max(1, round(height * scale))))
        try:
            img.load()
        except Image.DecompressionBombError as exc:
            raise Refused("too_many_pixels", str(exc)) from None
        except OSError as exc:  # "image file is truncated", "broken data stream", ...
            raise Refused("truncated", str(exc)) from None
        except Exception as exc:  # as above: the pixels cannot be read
            raise Refused("not_image", f"{type(exc).__name__}: {exc}") from None
        _check_metadata(img, loaded=True)  # a PNG's chunks after its pixels are read by load()
        img.info.clear()  # read what was needed; every image made from it would copy the rest
        pixels = _rgb(img)
    pixels = _fit(pixels, LONG_SIDE)
    pixels = _to_srgb(pixels, icc)
    if transpose is not None:
        pixels = pixels.transpose(transpose)
    # Box-averaged down to the thumbnail's size (Pillow's `reduce`), then Lanczos for the remainder: at a
    # quarter of the size, the averaging leaves nothing to alias, at a fifth of the time.
    thumb = _fit(pixels, THUMB_LONG_SIDE, reducing_gap=1.0)
    return Processed(_encode(pixels, QUALITY, METHOD), _encode(thumb, THUMB_QUALITY, THUMB_METHOD),
                     fingerprint.of(thumb), source_format, len(data))


def _is_zip(data: bytes) -> bool:
    try:
        return zipfile.is_zipfile(io.BytesIO(data))
    except (OSError, ValueError):
        return False


def _check_metadata(img: Image.Image, *, loaded: bool = False) -> None:
    size = sum(len(v) for v in img.info.values() if isinstance(v, bytes | str))
    if loaded and img.format == "PNG":  # its text chunks after the pixels (`text` reads them, so only now)
        try:
            text = getattr(img, "text", {})
        except Exception:  # a damaged end of file: its pixels were read, its text chunks were not
            text = {}
        size += sum(len(v) for v in text.values() if isinstance(v, str))
    if size > METADATA_MAX:
        raise Refused("hidden_data", f"{size} bytes of metadata")


def _orientation(img: Image.Image) -> Image.Transpose | None:
    """How to turn the pixels upright, from the EXIF orientation (1, or none, is already upright)."""
    try:
        value = img.getexif().get(0x0112)
    except Exception:  # a broken EXIF block is no reason to refuse the pixels; it is dropped anyway
        return None
    return {2: Image.Transpose.FLIP_LEFT_RIGHT, 3: Image.Transpose.ROTATE_180, 4: Image.Transpose.FLIP_TOP_BOTTOM,
            5: Image.Transpose.TRANSPOSE, 6: Image.Transpose.ROTATE_270, 7: Image.Transpose.TRANSVERSE,
            8: Image.Transpose.ROTATE_90}.get(value) if isinstance(value, int) else None


def _rgb(img: Image.Image) -> Image.Image:
    """Plain RGB pixels; transparency is laid on white, as a page behind the photo would show."""
    if img.mode == "RGB":
        return img
    if img.mode in ("I;16", "I;16B", "I;16L", "I", "F"):
        return img.point(lambda v: v / 256).convert("L").convert("RGB")
    if img.mode in ("RGBA", "LA", "PA") or (img.mode == "P" and "transparency" in img.info):
        rgba = img.convert("RGBA")
        white = Image.new("RGB", rgba.size, (255, 255, 255))
        white.paste(rgba, mask=rgba.getchannel("A"))
        return white
    return img.convert("RGB")


def _fit(img: Image.Image, long_side: int, reducing_gap: float = 3.0) -> Image.Image:
    scale = long_side / max(img.size)
    if scale >= 1:
        return img
    size = (max(1, round(img.width * scale)), max(1, round(img.height * scale)))
    return img.resize(size, Image.Resampling.LANCZOS, reducing_gap=reducing_gap)


def _to_srgb(img: Image.Image, icc: object) -> Image.Image:
    """Pixels as sRGB, which is what the WebP, carrying no profile, is shown as."""
    if not isinstance(icc, bytes) or not icc:
        return img
    try:
        source = ImageCms.ImageCmsProfile(io.BytesIO(icc))
        converted = ImageCms.profileToProfile(img, source, _SRGB, outputMode="RGB")
    except (ImageCms.PyCMSError, OSError, ValueError):
        return img  # a profile that cannot be read: the pixels as they are
    return converted if isinstance(converted, Image.Image) else img


def _encode(img: Image.Image, quality: int, method: int) -> Encoded:
    img.info.clear()  # nothing but pixels goes out
    out = io.BytesIO()
    img.save(out, "WEBP", quality=quality, method=method)
    data = out.getvalue()
    return Encoded(data, img.width, img.height, hashlib.sha256(data).hexdigest())
