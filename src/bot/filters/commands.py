"""Commands meant for another bot: `/points@other_bot` in a group the bot shares with others.

aiogram's `Command` filter already refuses a command whose @mention names another bot, so such
a message falls through to the catch-all; this filter lets the chat router drop it there
instead of answering "I don't know that command" to a message that was never ours.
"""

from __future__ import annotations

from aiogram import Bot
from aiogram.filters import Filter
from aiogram.types import Message


class ForAnotherBot(Filter):
    async def __call__(self, message: Message, bot: Bot) -> bool:
        text = message.text or ""
        if not text.startswith("/"):
            return False
        _, at, mention = text.split(maxsplit=1)[0].partition("@")
        if not at:
            return False
        me = await bot.me()  # cached by aiogram after the first call
        return mention.lower() != (me.username or "").lower()
