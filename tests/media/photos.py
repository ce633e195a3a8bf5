"""Photo files for the tests: a phone's JPEG with GPS, its serial and times in the EXIF (and turned by
its orientation tag), the same as HEIC, and the files that only pretend to be photos."""

from __future__ import annotations

import io
import struct
import zipfile

from PIL import Image

from tests.media import generated

GPS = {1: "N", 2: (52.0, 13.0, 30.0), 3: "E", 4: (21.0, 0.0, 11.0)}  # Warsaw, as a phone writes it
SERIAL = "SERIAL-4411-XQ"


def phone_exif(orientation: int = 6) -> Image.Exif:
    exif = Image.Exif()
    exif[0x0112] = orientation  # 6: the phone was held upright, the sensor's picture lies on its side
    exif[0x010F] = "PhoneMaker"
    exif[0x0110] = "Phone 15"
    exif[0x0132] = "2026:01:05 10:11:12"
    exif[0x8825] = GPS
    exif.get_ifd(0x8769)[0xA431] = SERIAL  # the body's serial number
    return exif


def phone_jpeg(seed: int = 1, size: tuple[int, int] = (1200, 900), orientation: int = 6) -> bytes:
    """A photo as a phone saves it: landscape pixels, an orientation tag, GPS and a serial."""
    return generated.jpeg(generated.scene(seed, size), exif=phone_exif(orientation).tobytes())


def heic(seed: int = 2, size: tuple[int, int] = (900, 600)) -> bytes:
    import pillow_heif

    pillow_heif.register_heif_opener()
    return generated.encoded(generated.scene(seed, size), "HEIF", quality=80, exif=phone_exif(1).tobytes())


def truncated_jpeg() -> bytes:
    data = phone_jpeg(3, (800, 600))
    return data[: len(data) // 2]


HTML_AS_JPG = b"<!doctype html><html><body><script>alert(document.cookie)</script></body></html>"
SVG_WITH_SCRIPT = (b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" width="10" height="10">'
                   b'<script>alert(1)</script><rect width="10" height="10"/></svg>')


def zip_as_jpg() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        z.writestr("payload.html", "<script>alert(1)</script>")
    return out.getvalue()


def polyglot() -> bytes:
    """A real JPEG with an HTML page after its end: a browser sniffing it would find the script."""
    return phone_jpeg(4, (400, 300)) + b"<html><script>alert(1)</script></html>"


def animated_webp() -> bytes:
    frames = [generated.scene(s, (200, 150)) for s in (5, 6)]
    return generated.encoded(frames[0], "WEBP", save_all=True, append_images=frames[1:], duration=100, loop=0)


def webp_riff_chunks(data: bytes) -> list[str]:
    """The chunk types of a WebP file (RIFF): VP8/VP8L/VP8X, and EXIF, XMP or ICCP if metadata were left."""
    assert data[:4] == b"RIFF" and data[8:12] == b"WEBP"
    chunks, offset = [], 12
    while offset + 8 <= len(data):
        kind, size = data[offset:offset + 4].decode("ascii"), struct.unpack("<I", data[offset + 4:offset + 8])[0]
        chunks.append(kind.strip())
        offset += 8 + size + (size & 1)
    return chunks
