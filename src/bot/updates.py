"""Build `Update` objects the way Telegram delivers them from a private chat.

Used by the console (`./manage.sh console`) and the handler tests to feed the real dispatcher.
"""

from __future__ import annotations

import itertools
from datetime import UTC, datetime
from typing import Any

from aiogram.types import CallbackQuery, Chat, Message, Update, User


def telegram_user(user_id: int, language_code: str = "en", **fields: Any) -> User:
    """A human Telegram user; `first_name` defaults to `User<id>`."""
    fields.setdefault("first_name", f"User{user_id}")
    return User(id=user_id, is_bot=False, language_code=language_code, **fields)


class UpdateBuilder:
    """Numbers updates and the user's messages as Telegram would (both only ever count up)."""

    def __init__(self, *, first_update_id: int = 1, first_message_id: int = 10_000) -> None:
        self._update_ids = itertools.count(first_update_id)
        self._message_ids = itertools.count(first_message_id)

    def message(self, text: str, *, user: User, message_id: int | None = None) -> Update:
        """The user sent `text` (a command if it starts with "/") in their private chat."""
        message = Message(
            message_id=message_id or next(self._message_ids),
            date=datetime.now(UTC),
            chat=Chat(id=user.id, type="private"),
            from_user=user,
            text=text,
        )
        return Update(update_id=next(self._update_ids), message=message)

    def media(
        self,
        *,
        user: User,
        caption: str | None = None,
        message_id: int | None = None,
        media_group_id: str | None = None,
        **content: Any,
    ) -> Update:
        """The user sent a photo, document, ... (`content`: `photo=[PhotoSize]`, `document=`)."""
        message = Message(
            message_id=message_id or next(self._message_ids),
            date=datetime.now(UTC),
            chat=Chat(id=user.id, type="private"),
            from_user=user,
            caption=caption,
            media_group_id=media_group_id,
            **content,
        )
        return Update(update_id=next(self._update_ids), message=message)

    def callback(self, data: str, *, user: User, message: Message) -> Update:
        """The user pressed an inline button with callback `data` under the bot's `message`."""
        query = CallbackQuery(
            id=str(next(self._update_ids)),
            from_user=user,
            chat_instance="ci",
            message=message,
            data=data,
        )
        return Update(update_id=next(self._update_ids), callback_query=query)
