"""Drive the real dispatcher with real `Update` objects and read what the bot sent.

The bot talks to `LocalBotSession` (an in-process Bot API): every request is recorded, so a
test asserts on the exact Bot API methods and texts, FIFO, as aiogram's own tests do.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from aiogram import Bot, Dispatcher
from aiogram.methods import (
    AnswerCallbackQuery,
    EditMessageText,
    SendMessage,
    SendPhoto,
    TelegramMethod,
)
from aiogram.types import Chat, Message, Update, User

from src.bot.local_session import LocalBotSession
from src.bot.updates import UpdateBuilder, telegram_user


class BotHarness:
    def __init__(self, dispatcher: Dispatcher, bot: Bot, session: LocalBotSession) -> None:
        self.dispatcher = dispatcher
        self.bot = bot
        self.session = session
        self.updates = UpdateBuilder()

    @staticmethod
    def user(user_id: int, language_code: str = "en", **fields: Any) -> User:
        return telegram_user(user_id, language_code, **fields)

    def message_update(
        self,
        text: str,
        *,
        user_id: int,
        language_code: str = "en",
        message_id: int | None = None,
        **user_fields: Any,
    ) -> Update:
        user = self.user(user_id, language_code, **user_fields)
        return self.updates.message(text, user=user, message_id=message_id)

    async def feed(self, update: Update) -> list[TelegramMethod[Any]]:
        self.session.take()
        await self.dispatcher.feed_update(self.bot, update)
        return self.session.take()

    async def send(
        self, text: str, *, user_id: int, language_code: str = "en", **fields: Any
    ) -> list[TelegramMethod[Any]]:
        return await self.feed(
            self.message_update(text, user_id=user_id, language_code=language_code, **fields)
        )

    async def press(
        self,
        data: str,
        *,
        user_id: int,
        language_code: str = "en",
        message_text: str = "menu",
        message_id: int = 1,
    ) -> list[TelegramMethod[Any]]:
        message = Message(
            message_id=message_id,
            date=datetime.now(UTC),
            chat=Chat(id=user_id, type="private"),
            from_user=self.session.bot_user,
            text=message_text,
        )
        update = self.updates.callback(
            data, user=self.user(user_id, language_code), message=message
        )
        return await self.feed(update)


def texts(requests: list[TelegramMethod[Any]]) -> list[str]:
    """Texts the bot sent or edited, in order."""
    out: list[str] = []
    for r in requests:
        if isinstance(r, SendMessage | EditMessageText):
            out.append(r.text)
        elif isinstance(r, SendPhoto):
            out.append(r.caption or "")
    return out


def only(requests: list[TelegramMethod[Any]], kind: type[Any]) -> list[Any]:
    return [r for r in requests if isinstance(r, kind)]


def alerts(requests: list[TelegramMethod[Any]]) -> list[AnswerCallbackQuery]:
    return only(requests, AnswerCallbackQuery)


def buttons(request: TelegramMethod[Any]) -> list[tuple[str, str]]:
    markup = getattr(request, "reply_markup", None)
    if markup is None:
        return []
    return [(b.text, b.callback_data or b.url or "") for row in markup.inline_keyboard for b in row]
