"""A bot for the vision tests that talks HTTP to the fake Bot API (tests/support/fake_telegram.py).

The pictures are downloaded the way production downloads them: getFile, then the file path on
the server TELEGRAM_API_BASE names, through the `Bot` that `create_bot` builds from settings.
Updates are fed to the production dispatcher; what the bot sent is read from the fake's calls.
"""

from __future__ import annotations

import asyncio
from typing import Any

from aiogram.types import Document, PhotoSize, Update

from src.bootstrap import AppContext
from src.bot.bot_factory import create_bot
from src.bot.dispatcher import create_dispatcher
from src.bot.updates import UpdateBuilder, telegram_user
from tests.support.fake_telegram import FakeTelegram, TelegramCall

TOKEN = "123456:TEST"


class VisionBot:
    def __init__(self, context: AppContext, fake: FakeTelegram) -> None:
        assert context.settings.telegram_api_base == fake.base_url
        self.context = context
        self.fake = fake
        self.bot = create_bot(TOKEN, api_base=context.settings.telegram_api_base)
        self.dispatcher = create_dispatcher(context)
        self.updates = UpdateBuilder()

    async def feed(self, *updates: Update) -> list[TelegramCall]:
        """Feed the updates at once (as polling does) and return the Bot API calls they made."""
        start = len(self.fake.calls)
        await asyncio.gather(*(self.dispatcher.feed_update(self.bot, u) for u in updates))
        return self.fake.calls[start:]

    def photo(
        self,
        data: bytes,
        *,
        user_id: int,
        lang: str = "en",
        size: int | None = None,
        dimensions: tuple[int, int] = (1280, 720),
        **fields: Any,
    ) -> Update:
        """A photo message: Telegram's sizes, the largest one being `data`."""
        stored = self.fake.add_file(data, size=size)
        width, height = dimensions
        thumb = self.fake.add_file(data[:100])
        sizes = [
            PhotoSize(
                file_id=thumb.file_id,
                file_unique_id=thumb.file_unique_id,
                width=max(1, width // 16),
                height=max(1, height // 16),
                file_size=100,
            ),
            PhotoSize(
                file_id=stored.file_id,
                file_unique_id=stored.file_unique_id,
                width=width,
                height=height,
                file_size=stored.size,
            ),
        ]
        user = telegram_user(user_id, lang)
        return self.updates.media(user=user, photo=sizes, **fields)

    def document(
        self,
        data: bytes,
        *,
        user_id: int,
        mime: str,
        name: str,
        lang: str = "en",
        size: int | None = None,
        report_size: bool = True,
        **fields: Any,
    ) -> Update:
        stored = self.fake.add_file(data, suffix=name.rsplit(".", 1)[-1], size=size)
        document = Document(
            file_id=stored.file_id,
            file_unique_id=stored.file_unique_id,
            file_name=name,
            mime_type=mime,
            file_size=stored.size if report_size else None,
        )
        user = telegram_user(user_id, lang)
        return self.updates.media(user=user, document=document, **fields)


def sent(calls: list[TelegramCall]) -> list[tuple[Any, ...]]:
    """The calls as comparable tuples; getMe and the typing action left out."""
    out: list[tuple[Any, ...]] = []
    for call in calls:
        if call.method in {"getMe", "sendChatAction"}:
            continue
        if call.method == "sendMessage":
            out.append(("send", int(call.params["chat_id"]), call.params["text"]))
        else:
            out.append((call.method,))
    return out
