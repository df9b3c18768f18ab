"""An in-process Bot API: a session that answers aiogram's requests the way Telegram would.

The console (`./manage.sh console`) and the handler tests use it instead of Telegram: every
request is recorded, and sendMessage / editMessageText / sendPhoto / getMe / ... return objects
shaped like Telegram's answers (message ids count up, edits keep their message id). It
remembers the text and keyboard of every message it sent or edited and, like Telegram, refuses
an edit that changes nothing with 400 "message is not modified" (src/bot/telegram_rules.py).
"""

from __future__ import annotations

import itertools
import json
from collections.abc import AsyncGenerator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, cast

from aiogram import Bot
from aiogram.client.default import Default
from aiogram.client.session.base import BaseSession
from aiogram.methods import (
    CreateInvoiceLink,
    EditMessageReplyMarkup,
    EditMessageText,
    GetMe,
    SendInvoice,
    SendMessage,
    SendPhoto,
    TelegramMethod,
)
from aiogram.methods.base import TelegramType
from aiogram.types import (
    BufferedInputFile,
    Chat,
    FSInputFile,
    Invoice,
    Message,
    PhotoSize,
    User,
)

from src.bot.telegram_rules import MessageStore, message_content

BOT_USER = User(id=1_000_000_001, is_bot=True, first_name="Syntra", username="syntra_bot")


@dataclass
class SentPhoto:
    chat_id: int
    data: bytes
    filename: str | None
    caption: str | None


@dataclass
class LocalBotSession(BaseSession):
    """Records requests in `requests`; photos' bytes in `photos`.

    `refuse_no_op_edits=False` accepts edits that change nothing (Telegram does not).
    """

    requests: list[TelegramMethod[Any]] = field(default_factory=list)
    photos: list[SentPhoto] = field(default_factory=list)
    bot_user: User = BOT_USER
    refuse_no_op_edits: bool = True

    def __post_init__(self) -> None:
        super().__init__()
        self._message_ids = itertools.count(1)
        self.messages = MessageStore(refuse_no_op_edits=self.refuse_no_op_edits)

    async def close(self) -> None:
        return None

    async def make_request(
        self, bot: Bot, method: TelegramMethod[TelegramType], timeout: int | None = None
    ) -> TelegramType:
        self.requests.append(method)
        if (refusal := self._refusal(bot, method)) is not None:
            # The very exception aiogram raises for Telegram's answer (TelegramBadRequest).
            body = json.dumps({"ok": False, "error_code": 400, "description": refusal})
            self.check_response(bot, method, 400, body)
        answer = self._answer(method)
        self._remember(bot, method, answer)
        return cast(TelegramType, answer)

    @staticmethod
    def _text(bot: Bot, method: Any, text: str | None) -> Any:
        if text is None:
            return None
        parse_mode = method.parse_mode
        if isinstance(parse_mode, Default):
            parse_mode = bot.default[parse_mode.name]
        entities = getattr(method, "entities", None) or getattr(method, "caption_entities", None)
        return message_content(text, parse_mode, entities)

    def _refusal(self, bot: Bot, method: TelegramMethod[Any]) -> str | None:
        if isinstance(method, EditMessageText) and method.message_id is not None:
            content = self._text(bot, method, method.text)
            return self.messages.refusal(
                int(method.chat_id or 0), method.message_id, content, method.reply_markup
            )
        if isinstance(method, EditMessageReplyMarkup) and method.message_id is not None:
            return self.messages.refusal(
                int(method.chat_id or 0), method.message_id, None, method.reply_markup
            )
        return None

    def _remember(self, bot: Bot, method: TelegramMethod[Any], answer: Any) -> None:
        if not isinstance(answer, Message):
            return
        chat_id, message_id = answer.chat.id, answer.message_id
        if isinstance(method, SendMessage):
            content = self._text(bot, method, method.text)
            self.messages.remember(chat_id, message_id, content, method.reply_markup)
        elif isinstance(method, SendPhoto):
            content = self._text(bot, method, method.caption)
            self.messages.remember(chat_id, message_id, content, method.reply_markup)
        elif isinstance(method, EditMessageText):
            content = self._text(bot, method, method.text)
            self.messages.edited(chat_id, message_id, content, method.reply_markup)
        elif isinstance(method, EditMessageReplyMarkup):
            self.messages.edited(chat_id, message_id, None, method.reply_markup)

    async def stream_content(
        self,
        url: str,
        headers: dict[str, Any] | None = None,
        timeout: int = 30,
        chunk_size: int = 65536,
        raise_for_status: bool = True,
    ) -> AsyncGenerator[bytes, None]:
        raise NotImplementedError("the local Bot API serves no files")
        yield b""  # pragma: no cover

    def _message(self, chat_id: int | str, message_id: int | None = None, **fields: Any) -> Message:
        return Message(
            message_id=message_id or next(self._message_ids),
            date=datetime.now(UTC),
            chat=Chat(id=int(chat_id), type="private"),
            from_user=self.bot_user,
            **fields,
        )

    def _answer(self, method: TelegramMethod[Any]) -> Any:
        if isinstance(method, GetMe):
            return self.bot_user
        if isinstance(method, SendMessage):
            return self._message(method.chat_id, text=method.text, reply_markup=method.reply_markup)
        if isinstance(method, EditMessageText):
            return self._message(
                method.chat_id or 0,
                method.message_id,
                text=method.text,
                reply_markup=method.reply_markup,
            )
        if isinstance(method, EditMessageReplyMarkup):
            return self._message(
                method.chat_id or 0, method.message_id, reply_markup=method.reply_markup
            )
        if isinstance(method, SendPhoto):
            data, name = self._photo_bytes(method.photo)
            self.photos.append(SentPhoto(int(method.chat_id), data, name, method.caption))
            photo = PhotoSize(
                file_id=f"local-{len(self.photos)}", file_unique_id="u", width=1, height=1
            )
            return self._message(method.chat_id, photo=[photo], caption=method.caption)
        if isinstance(method, SendInvoice):
            total = sum(p.amount for p in method.prices)
            invoice = Invoice(
                title=method.title,
                description=method.description,
                start_parameter="",
                currency=method.currency,
                total_amount=total,
            )
            return self._message(method.chat_id, invoice=invoice)
        if isinstance(method, CreateInvoiceLink):
            return f"https://t.me/$local-{len(self.requests)}"
        # setMyCommands, answerCallbackQuery, sendChatAction, deleteWebhook, ... answer True.
        return True

    @staticmethod
    def _photo_bytes(photo: Any) -> tuple[bytes, str | None]:
        if isinstance(photo, BufferedInputFile):
            return photo.data, photo.filename
        if isinstance(photo, FSInputFile):
            with open(photo.path, "rb") as handle:
                return handle.read(), photo.filename
        return b"", None

    # Conveniences for tests and the console.
    def take(self) -> list[TelegramMethod[Any]]:
        taken, self.requests = self.requests, []
        return taken


@dataclass
class RecordingBotSession(LocalBotSession):
    """Also keeps each request with its answer (the console needs the sent messages' ids)."""

    answered: list[tuple[TelegramMethod[Any], Any]] = field(default_factory=list)

    async def make_request(
        self, bot: Bot, method: TelegramMethod[TelegramType], timeout: int | None = None
    ) -> TelegramType:
        result = await super().make_request(bot, method, timeout)
        self.answered.append((method, result))
        return result


def local_bot(
    token: str = "42:LOCAL", *, refuse_no_op_edits: bool = True
) -> tuple[Bot, LocalBotSession]:
    from src.bot.bot_factory import create_bot

    session = LocalBotSession(refuse_no_op_edits=refuse_no_op_edits)
    return create_bot(token, session=session), session
