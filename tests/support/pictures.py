"""Pictures for the vision tests, made with Pillow on the spot (no binary fixtures)."""

from __future__ import annotations

import io

from PIL import Image


def picture(width: int, height: int, fmt: str = "JPEG", *, mode: str = "RGB") -> bytes:
    """A `fmt` picture with some structure (a gradient and a band), not a flat colour."""
    image = Image.new(mode, (width, height), "white")
    band = Image.new(mode, (max(1, width // 3), max(1, height // 5)), "navy")
    image.paste(band, (width // 4, height // 2))
    out = io.BytesIO()
    image.save(out, format=fmt)
    return out.getvalue()


def truncated_jpeg() -> bytes:
    """A JPEG cut in the middle: the header reads, the pixels do not."""
    data = picture(800, 600)
    return data[: len(data) // 3]


GARBAGE_PNG = b"\x89PNG\r\n\x1a\n" + b"not really a png " * 64
