"""The photo pipeline on real files made with Pillow: a phone's JPEG and HEIC come out upright, as WebP
of at most 1600 and 400 pixels with nothing but their pixels; everything that only pretends to be a
photo is refused for what it is, before anything is decoded where that matters."""

from __future__ import annotations

import hashlib
import io

import pytest
from PIL import Image, ImageCms

from reviews.media import processing
from reviews.media.processing import Refused
from tests.media import generated, photos


@pytest.mark.slow
def test_a_phone_photo_comes_out_upright_small_and_with_nothing_but_its_pixels() -> None:
    source = photos.phone_jpeg(1, (4000, 3000))  # 12 megapixels, lying on its side with orientation 6
    assert Image.open(io.BytesIO(source)).getexif().get_ifd(0x8825)  # the GPS is in there
    out = processing.process(source)
    assert (out.image.width, out.image.height) == (1200, 1600)  # turned upright, then fitted
    assert (out.thumb.width, out.thumb.height) == (300, 400)
    assert (out.source_format, out.uploaded_bytes) == ("JPEG", len(source))
    for encoded in (out.image, out.thumb):
        assert encoded.digest == hashlib.sha256(encoded.data).hexdigest()
        assert photos.webp_riff_chunks(encoded.data) in (["VP8"], ["VP8L"])  # no EXIF, XMP nor ICCP chunk
        decoded = Image.open(io.BytesIO(encoded.data))
        assert (decoded.format, decoded.size) == ("WEBP", (encoded.width, encoded.height))
        assert not decoded.getexif() and "icc_profile" not in decoded.info and "xmp" not in decoded.info
        assert photos.SERIAL.encode() not in encoded.data and b"PhoneMaker" not in encoded.data


def test_the_orientation_is_applied_to_the_pixels() -> None:
    # A picture whose left half is red: held upright (orientation 6), the red is at the top.
    img = Image.new("RGB", (800, 600), (0, 0, 255))
    img.paste((255, 0, 0), (0, 0, 400, 600))
    out = processing.process(generated.jpeg(img, exif=photos.phone_exif(6).tobytes()))
    upright = Image.open(io.BytesIO(out.image.data)).convert("RGB")
    assert upright.size == (600, 800)
    top, bottom = upright.getpixel((300, 50)), upright.getpixel((300, 750))
    assert isinstance(top, tuple) and isinstance(bottom, tuple)
    assert top[0] > 200 > top[2] and bottom[2] > 200 > bottom[0]


@pytest.mark.slow
def test_a_heic_from_an_iphone_is_taken() -> None:
    out = processing.process(photos.heic())
    assert out.source_format == "HEIF"
    assert (out.image.width, out.image.height) == (900, 600)  # smaller than 1600: not enlarged
    assert photos.webp_riff_chunks(out.image.data) in (["VP8"], ["VP8L"])


def test_png_webp_and_transparency() -> None:
    img = Image.new("RGBA", (500, 400), (0, 0, 0, 0))
    img.paste((0, 128, 0, 255), (100, 100, 400, 300))
    out = processing.process(generated.encoded(img, "PNG"))
    pixels = Image.open(io.BytesIO(out.image.data)).convert("RGB")
    corner = pixels.getpixel((5, 5))
    assert isinstance(corner, tuple) and min(corner) > 240  # the transparent part on white
    assert processing.process(generated.encoded(generated.scene(7, (600, 400)), "WEBP")).source_format == "WEBP"


def test_an_embedded_colour_profile_is_converted_then_dropped() -> None:
    srgb = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    out = processing.process(generated.jpeg(generated.scene(8, (600, 400)), icc_profile=srgb))
    assert photos.webp_riff_chunks(out.image.data) in (["VP8"], ["VP8L"])
    assert "icc_profile" not in Image.open(io.BytesIO(out.image.data)).info


@pytest.mark.parametrize(("name", "data", "code"), [
    ("a decompression bomb's header (50,000 × 50,000)", generated.png_bomb_header(), "too_many_pixels"),
    ("a truncated JPEG", photos.truncated_jpeg(), "truncated"),
    ("an HTML page named .jpg", photos.HTML_AS_JPG, "disguised"),
    ("an SVG with a script", photos.SVG_WITH_SCRIPT, "disguised"),
    ("a zip named .jpg", photos.zip_as_jpg(), "disguised"),
    ("a JPEG with a page after it", photos.polyglot(), "disguised"),
    ("a PNG with a 10 MB text chunk", generated.png_with_text_chunk(generated.scene(9, (300, 200))), "hidden_data"),
    ("an animated WebP", photos.animated_webp(), "animated"),
    ("a GIF", generated.encoded(generated.scene(10, (300, 200)), "GIF"), "not_image"),
    ("plain text", b"just some words, not a photo", "not_image"),
    ("nothing", b"", "not_image"),
])
def test_what_is_not_a_photo_is_refused_for_what_it_is(name: str, data: bytes, code: str) -> None:
    with pytest.raises(Refused) as refused:
        processing.process(data)
    assert refused.value.code == code, name


def test_a_file_over_the_size_limit_is_refused_unread() -> None:
    with pytest.raises(Refused) as refused:
        processing.process(b"\xff\xd8" + b"\x00" * processing.MAX_UPLOAD_BYTES)
    assert refused.value.code == "too_large"


def test_a_photo_over_the_pixel_limit_is_refused_from_its_header() -> None:
    # 8000 × 7000 = 56 megapixels of one colour: a small file, refused before it is decoded.
    with pytest.raises(Refused) as refused:
        processing.process(generated.encoded(Image.new("L", (8000, 7000)), "PNG"))
    assert refused.value.code == "too_many_pixels"


@pytest.mark.slow
def test_damaged_files_are_refused_and_never_crash_the_pipeline() -> None:
    """Real photos with bytes flipped, cut, or spliced: each is a photo still, or a refusal; never another error."""
    import random

    rng = random.Random(23)
    sources = [photos.phone_jpeg(11, (320, 240)), generated.encoded(generated.scene(12, (320, 240)), "PNG"),
               generated.encoded(generated.scene(13, (320, 240)), "WEBP"), photos.heic(14, (320, 240))]
    for n in range(60):
        data = bytearray(sources[n % len(sources)])
        for _ in range(rng.randint(1, 20)):
            data[rng.randrange(8, len(data))] = rng.randrange(256)
        if n % 3 == 0:
            data = data[: rng.randrange(16, len(data))]
        try:
            processing.process(bytes(data))
        except Refused:
            pass
