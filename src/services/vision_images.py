"""Pictures for the AI: decode and check with Pillow, downscale, encode as a `data:` URI.

CPU work: callers run `prepare_images` (a thread) so the event loop never decodes. Only JPEG,
PNG and WEBP are opened; anything else, a truncated file or a decompression bomb is refused
before the AI sees it. Every picture goes out as a JPEG (quality 90) at most `MAX_SIDE` px on
its long side: small enough to upload quickly, sharp enough for chart labels.
"""

from __future__ import annotations

import asyncio
import base64
import io
from collections.abc import Sequence

from PIL import Image, ImageOps

MAX_SIDE = 2048
FORMATS = ("JPEG", "PNG", "WEBP")
IMAGE_MIME_TYPES = frozenset({"image/jpeg", "image/png", "image/webp"})
MAX_PIXELS = 50_000_000  # ~7000 x 7000: larger pictures are refused, not decoded
JPEG_QUALITY = 90


class ImageRejectedError(ValueError):
    """The picture cannot be analysed."""


class ImageUnreadableError(ImageRejectedError):
    """Not a JPEG, PNG or WEBP that decodes (damaged, truncated, another format)."""


class ImageTooLargeError(ImageRejectedError):
    """More pixels than MAX_PIXELS: refused before decoding (a decompression bomb, or a scan)."""


def prepare_image(data: bytes) -> str:
    """`data` as a `data:image/jpeg;base64,...` URI, at most MAX_SIDE px on its long side."""
    try:
        with Image.open(io.BytesIO(data), formats=FORMATS) as opened:
            if opened.width * opened.height > MAX_PIXELS:
                raise ImageTooLargeError(f"{opened.width}x{opened.height} px")
            opened.draft("RGB", (MAX_SIDE, MAX_SIDE))  # JPEG: decode at a reduced scale
            opened.load()  # a truncated or damaged file fails here, not later
            image = ImageOps.exif_transpose(opened)
            image = _flatten(image)
            image.thumbnail((MAX_SIDE, MAX_SIDE), Image.Resampling.LANCZOS)
            out = io.BytesIO()
            image.save(out, format="JPEG", quality=JPEG_QUALITY, optimize=True)
    except ImageRejectedError:
        raise
    except Image.DecompressionBombError as exc:  # Pillow's own limit, checked on opening
        raise ImageTooLargeError(str(exc)[:120]) from exc
    except (OSError, SyntaxError, ValueError) as exc:
        raise ImageUnreadableError(f"{type(exc).__name__}: {exc}"[:120]) from exc
    return "data:image/jpeg;base64," + base64.b64encode(out.getvalue()).decode("ascii")


async def prepare_images(pictures: Sequence[bytes]) -> list[str]:
    """`prepare_image` for each picture, in one worker thread."""
    return await asyncio.to_thread(lambda: [prepare_image(data) for data in pictures])


def _flatten(image: Image.Image) -> Image.Image:
    """RGB; transparency over white (a transparent screenshot would turn black in JPEG)."""
    if image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info:
        rgba = image.convert("RGBA")
        background = Image.new("RGB", rgba.size, "white")
        background.paste(rgba, mask=rgba.getchannel("A"))
        return background
    return image.convert("RGB") if image.mode != "RGB" else image
