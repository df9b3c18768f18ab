"""Preparing pictures for the AI: decode, orient, downscale, flatten, refuse what cannot be read."""

from __future__ import annotations

import base64
import io

import pytest
from PIL import Image

from src.services.vision_images import (
    ImageTooLargeError,
    ImageUnreadableError,
    prepare_image,
    prepare_images,
)
from tests.support.pictures import GARBAGE_PNG, picture, truncated_jpeg


def decoded(uri: str) -> Image.Image:
    header, _, payload = uri.partition(",")
    assert header == "data:image/jpeg;base64"
    image = Image.open(io.BytesIO(base64.b64decode(payload)))
    image.load()
    return image


@pytest.mark.parametrize(
    ("size", "expected"),
    [((640, 480), (640, 480)), ((4096, 1024), (2048, 512)), ((1000, 5000), (410, 2048))],
)
def test_only_large_pictures_are_downscaled(
    size: tuple[int, int], expected: tuple[int, int]
) -> None:
    assert decoded(prepare_image(picture(*size, "PNG"))).size == expected


def test_exif_orientation_is_applied() -> None:
    image = Image.new("RGB", (300, 100), "white")
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90° clockwise to display
    out = io.BytesIO()
    image.save(out, format="JPEG", exif=exif)

    assert decoded(prepare_image(out.getvalue())).size == (100, 300)


def test_transparency_becomes_white_not_black() -> None:
    out = io.BytesIO()
    Image.new("RGBA", (10, 10), (0, 0, 0, 0)).save(out, format="PNG")

    pixel = decoded(prepare_image(out.getvalue())).getpixel((5, 5))

    assert isinstance(pixel, tuple) and min(pixel) > 240


@pytest.mark.parametrize(
    "data",
    [GARBAGE_PNG, truncated_jpeg(), b"", b"GIF89a" + bytes(100), picture(20, 20, "GIF")],
    ids=["garbage", "truncated", "empty", "gif-header", "real-gif"],
)
def test_what_does_not_decode_as_jpeg_png_or_webp_is_refused(data: bytes) -> None:
    with pytest.raises(ImageUnreadableError):
        prepare_image(data)


def test_a_decompression_bomb_is_refused_before_decoding() -> None:
    out = io.BytesIO()
    Image.new("1", (8_000, 7_500)).save(out, format="PNG")  # a tiny file of 60 M pixels

    with pytest.raises(ImageTooLargeError):
        prepare_image(out.getvalue())


async def test_prepare_images_runs_off_the_event_loop() -> None:
    uris = await prepare_images([picture(100, 50), picture(50, 100, "WEBP")])

    assert [decoded(uri).size for uri in uris] == [(100, 50), (50, 100)]
