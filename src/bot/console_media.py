"""The console's `:photo PATH [CAPTION]`: a file from disk, sent to the bot as a user would.

A .jpg/.jpeg/.png/.webp file goes as a photo, anything else as a document (so the bot's
refusals can be tried too). The file is handed to the in-process Bot API, which serves it to
the bot's download exactly as Telegram serves a user's file.
"""

from __future__ import annotations

import mimetypes
from pathlib import Path

from aiogram.types import Document, PhotoSize, Update, User
from PIL import Image, UnidentifiedImageError

from src.bot.local_session import LocalBotSession
from src.bot.updates import UpdateBuilder

PHOTO_SUFFIXES = frozenset({".jpg", ".jpeg", ".png", ".webp"})
USAGE = ':photo PATH [CAPTION]  (quote a PATH with spaces: :photo "my chart.png" what now?)'


class ConsoleFileError(ValueError):
    """What to tell the console user (no such file, no path given)."""


def split_path(args: str) -> tuple[Path, str | None]:
    """`PATH rest of the caption` or `"PATH with spaces" caption` -> (path, caption or None)."""
    args = args.strip()
    if not args:
        raise ConsoleFileError(f"Usage: {USAGE}")
    if args[0] in "\"'":
        end = args.find(args[0], 1)
        if end < 0:
            raise ConsoleFileError(f"The path's closing quote is missing. Usage: {USAGE}")
        path, rest = args[1:end], args[end + 1 :]
    else:
        path, _, rest = args.partition(" ")
    return Path(path).expanduser(), rest.strip() or None


def picture_update(
    updates: UpdateBuilder, session: LocalBotSession, user: User, args: str
) -> Update:
    path, caption = split_path(args)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ConsoleFileError(f"Cannot read {path}: {exc.strerror or exc}.") from exc
    file_id = session.add_file(data)
    if path.suffix.lower() in PHOTO_SUFFIXES:
        width, height = _dimensions(path)
        photo = PhotoSize(
            file_id=file_id,
            file_unique_id=file_id[-8:],
            width=width,
            height=height,
            file_size=len(data),
        )
        return updates.media(user=user, caption=caption, photo=[photo])
    document = Document(
        file_id=file_id,
        file_unique_id=file_id[-8:],
        file_name=path.name,
        mime_type=mimetypes.guess_type(path.name)[0] or "application/octet-stream",
        file_size=len(data),
    )
    return updates.media(user=user, caption=caption, document=document)


def _dimensions(path: Path) -> tuple[int, int]:
    """The picture's size as Telegram would report it (0 x 0 when it does not open)."""
    try:
        with Image.open(path) as image:
            return image.size
    except (OSError, UnidentifiedImageError, ValueError):
        return 0, 0
