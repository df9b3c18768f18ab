"""Which updates the bot acts on, and whose buttons are whose (docs/BOT.md, "Groups").

- Private chats: every message.
- Groups: commands (`/cmd`, `/cmd@this_bot`), messages that mention the bot, replies to the
  bot's messages. Everything else, service messages included (new members, titles, pins), is
  ignored before anyone is registered: a member who joins is not a user, so a referral link
  still works for them later.
- Senders that are no person: an anonymous group admin (GroupAnonymousBot, `sender_chat` =
  the group), a channel writing in its discussion group, another bot. They are not registered
  and reach no handler; when they address the bot they get one clear reply: "send it from your
  own account". Channel posts (`channel_post`) have no handler: ignored.
- Buttons in groups: the bot's messages there are replies to the message they answer
  (`ReplyInGroups`), so a button belongs to the author of that message. Anyone else pressing
  it gets an alert and nothing changes. A button whose message no longer shows whom it answers
  (the asker deleted their message) is open to anyone, as in a private chat.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from typing import Any

import structlog
from aiogram import BaseMiddleware, Bot
from aiogram.client.session.middlewares.base import (
    BaseRequestMiddleware,
    NextRequestMiddlewareType,
)
from aiogram.enums import ChatType
from aiogram.methods import TelegramMethod
from aiogram.methods.base import Response, TelegramType
from aiogram.types import CallbackQuery, Message, ReplyParameters, TelegramObject, Update

from src.locales import translator
from src.services.user_service import language_from_telegram

log = structlog.get_logger(__name__)

Handler = Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]]
# (chat id, message id) the bot's messages in a group chat reply to, for the current update.
_ANSWERING: ContextVar[tuple[int, int] | None] = ContextVar("answering", default=None)


def is_group(message: Message) -> bool:
    return message.chat.type != ChatType.PRIVATE


def is_person(message: Message) -> bool:
    """False for anonymous admins, channels and bots (they have no account of their own)."""
    sender = message.from_user
    return message.sender_chat is None and sender is not None and not sender.is_bot


async def addressed_to_bot(message: Message, bot: Bot) -> bool:
    """A command for this bot, a mention of it, or a reply to one of its messages."""
    me = await bot.me()  # cached by aiogram after the first call
    replied = message.reply_to_message
    if replied is not None and replied.from_user is not None and replied.from_user.id == me.id:
        return True
    text = message.text or message.caption or ""
    username = (me.username or "").lower()
    if text.startswith("/"):
        _, at, mention = text.split(maxsplit=1)[0].partition("@")
        return not at or mention.lower() == username
    mentions = (e for e in message.entities or message.caption_entities or [])
    for entity in mentions:
        if entity.type == "mention" and entity.extract_from(text).lower() == f"@{username}":
            return True
        if entity.type == "text_mention" and entity.user is not None and entity.user.id == me.id:
            return True
    return False


def without_mention(text: str, username: str | None) -> str:
    """`@this_bot what is DeFi?` -> `what is DeFi?` (what the user asks, not whom)."""
    if not username:
        return text
    return " ".join(w for w in text.split(" ") if w.lower() != f"@{username.lower()}").strip()


class AudienceGate(BaseMiddleware):
    """Outer update middleware, before registration: drops what is not for the bot."""

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        if not isinstance(event, Update):
            return await handler(event, data)
        bot: Bot = data["bot"]
        if event.message is not None:
            return await self._message(handler, event, event.message, bot, data)
        if isinstance(event.callback_query, CallbackQuery):
            return await self._callback(handler, event, event.callback_query, data)
        return await handler(event, data)

    async def _message(
        self, handler: Handler, event: Update, message: Message, bot: Bot, data: dict[str, Any]
    ) -> Any:
        addressed = not is_group(message) or await addressed_to_bot(message, bot)
        if not addressed:
            log.debug("group message not for the bot", chat_id=message.chat.id)
            return None
        token = _ANSWERING.set((message.chat.id, message.message_id) if is_group(message) else None)
        try:
            if not is_person(message):
                log.info("message from no person", chat_id=message.chat.id)
                language = language_from_telegram(
                    message.from_user.language_code if message.from_user else None
                )
                await message.answer(translator(language)("anonymous-sender"))
                return None
            return await handler(event, data)
        finally:
            _ANSWERING.reset(token)

    async def _callback(
        self, handler: Handler, event: Update, query: CallbackQuery, data: dict[str, Any]
    ) -> Any:
        message = query.message
        if not isinstance(message, Message) or not is_group(message):
            return await handler(event, data)
        asked = message.reply_to_message
        owner = asked.from_user if asked is not None else None
        if owner is not None and not owner.is_bot and owner.id != query.from_user.id:
            log.info("button of another user", user_id=query.from_user.id, owner_id=owner.id)
            t = translator(language_from_telegram(query.from_user.language_code))
            await query.answer(t("button-not-yours"), show_alert=True)
            return None
        token = _ANSWERING.set((message.chat.id, asked.message_id) if asked else None)
        try:
            return await handler(event, data)
        finally:
            _ANSWERING.reset(token)


class ReplyInGroups(BaseRequestMiddleware):
    """A message the bot sends to the group chat of the update it handles is a reply to the
    message it answers: people see whom it answers, and its buttons know their owner."""

    async def __call__(
        self,
        make_request: NextRequestMiddlewareType[TelegramType],
        bot: Bot,
        method: TelegramMethod[TelegramType],
    ) -> Response[TelegramType]:
        answering = _ANSWERING.get()
        if answering is not None and _replies_to_nothing(method, answering[0]):
            method.reply_parameters = ReplyParameters(  # type: ignore[attr-defined]
                message_id=answering[1], allow_sending_without_reply=True
            )
        return await make_request(bot, method)


def _replies_to_nothing(method: TelegramMethod[Any], chat_id: int) -> bool:
    fields = type(method).model_fields
    return (
        "reply_parameters" in fields
        and getattr(method, "chat_id", None) == chat_id
        and getattr(method, "reply_parameters", None) is None
        and getattr(method, "reply_to_message_id", None) is None
    )
