"""Which file of a message is the picture to analyse, and fetching it through the Bot API.

The checks that need no download come first (is it an image at all, is it too big by the size
Telegram reports); the download goes through `bot.download`, so a self-hosted Bot API server
(TELEGRAM_API_BASE) serves the files too. Every refusal is a `PictureRefused` carrying the text
key of the reply the user gets.
"""

from __future__ import annotations

import io
import mimetypes
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import structlog
from aiogram import Bot
from aiogram.exceptions import TelegramAPIError, TelegramBadRequest
from aiogram.types import Document, Message, PhotoSize

from src.services.vision_images import IMAGE_MIME_TYPES, MAX_SIDE

log = structlog.get_logger(__name__)

DOWNLOAD_TIMEOUT_SECONDS = 30
TELEGRAM_TOO_BIG = "file is too big"  # getFile's refusal above the Bot API's 20 MB


@dataclass(frozen=True)
class Picture:
    file_id: str
    size: int | None  # as Telegram reported it (it may be missing)


@dataclass
class PictureRefused(Exception):
    key: str  # the reply's text key
    args_: dict[str, Any] = field(default_factory=dict)


def picture_in(message: Message, max_bytes: int) -> Picture:
    """The picture `message` carries; PictureRefused when it carries none or it is too big."""
    if message.photo:
        photo = best_photo(message.photo)
        picture = Picture(photo.file_id, photo.file_size)
    elif message.document is not None and is_image(message.document):
        picture = Picture(message.document.file_id, message.document.file_size)
    else:
        raise PictureRefused("vision-not-image")
    if picture.size is not None and picture.size > max_bytes:
        raise too_big(max_bytes)
    return picture


def best_photo(sizes: list[PhotoSize]) -> PhotoSize:
    """The smallest size that still fills MAX_SIDE, else the largest there is."""
    by_side = sorted(sizes, key=lambda size: max(size.width, size.height))
    return next((s for s in by_side if max(s.width, s.height) >= MAX_SIDE), by_side[-1])


def is_image(document: Document) -> bool:
    mime = document.mime_type or mimetypes.guess_type(document.file_name or "")[0]
    return mime in IMAGE_MIME_TYPES


def too_big(max_bytes: int) -> PictureRefused:
    return PictureRefused("vision-too-big", {"limit": max_bytes // (1024 * 1024)})


async def fetch(bot: Bot, picture: Picture, max_bytes: int) -> bytes:
    """The picture's bytes (getFile, then the file path on the same Bot API server)."""
    buffer = io.BytesIO()
    try:
        await bot.download(picture.file_id, destination=buffer, timeout=DOWNLOAD_TIMEOUT_SECONDS)
    except TelegramBadRequest as exc:
        if TELEGRAM_TOO_BIG in exc.message.lower():
            raise too_big(max_bytes) from exc
        log.warning("picture download refused", file_id=picture.file_id, reason=exc.message)
        raise PictureRefused("vision-download-failed") from exc
    except (TelegramAPIError, aiohttp.ClientError, TimeoutError) as exc:
        log.warning("picture download failed", file_id=picture.file_id, reason=repr(exc))
        raise PictureRefused("vision-download-failed") from exc
    data = buffer.getvalue()
    if len(data) > max_bytes:  # Telegram did not say how big it was
        raise too_big(max_bytes)
    return data
