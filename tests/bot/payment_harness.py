"""The production dispatcher against the HTTP fake of the Bot API, for the payment tests.

Updates are fed as Telegram's JSON (what getUpdates would return); every Bot API call goes over
HTTP to FakeTelegram, which refuses what Telegram refuses (tests/support/fake_telegram*.py).
A test ends with `assert_clean()`: no handler failed and nothing was refused.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest
from aiogram import Bot, Dispatcher

from src.bootstrap import AppContext
from src.bot.bot_factory import create_bot
from src.bot.dispatcher import create_dispatcher
from tests.conftest import ContextFactory
from tests.support.fake_telegram import FakeTelegram, TelegramCall

TOKEN = "123456:TEST"


@dataclass
class PayBot:
    fake: FakeTelegram
    bot: Bot
    dispatcher: Dispatcher
    context: AppContext

    async def feed(self, update: dict[str, Any]) -> list[TelegramCall]:
        start = len(self.fake.calls)
        await self.dispatcher.feed_raw_update(self.bot, update)
        return self.fake.calls[start:]

    async def feed_queued(self) -> list[TelegramCall]:
        """Hand over what Telegram queued (pre-checkout queries, payment messages)."""
        start = len(self.fake.calls)
        queued, self.fake._updates = self.fake._updates, []
        for update in queued:
            await self.dispatcher.feed_raw_update(self.bot, update)
        return self.fake.calls[start:]

    async def send(self, text: str, *, user_id: int, lang: str = "en") -> list[TelegramCall]:
        return await self.feed(self.fake.message_update(text, user_id=user_id, language_code=lang))

    async def press(self, data: str, *, user_id: int, lang: str = "en") -> list[TelegramCall]:
        """Press a button under the latest message the bot sent to `user_id`."""
        ids = [mid for chat, mid in self.fake.messages._messages if chat == user_id]
        update = self.fake.callback_update(
            data, user_id=user_id, message_id=max(ids), language_code=lang
        )
        return await self.feed(update)

    def assert_clean(self) -> None:
        assert self.context.failures.get("handler") == 0


def texts(calls: list[TelegramCall], chat_id: int | None = None) -> list[str]:
    return [
        c.params["text"]
        for c in calls
        if c.method in ("sendMessage", "editMessageText")
        and (chat_id is None or int(c.params["chat_id"]) == chat_id)
    ]


def button_data(call: TelegramCall) -> list[str]:
    markup = call.params.get("reply_markup") or {}
    return [
        b.get("callback_data") or b.get("url") or ""
        for row in markup.get("inline_keyboard", [])
        for b in row
    ]


@pytest.fixture
async def paybot(make_context: ContextFactory) -> AsyncIterator[PayBot]:
    async with FakeTelegram(token=TOKEN) as fake:
        context = make_context()
        bot = create_bot(TOKEN, api_base=fake.base_url)
        try:
            yield PayBot(fake, bot, create_dispatcher(context), context)
        finally:
            await bot.session.close()
