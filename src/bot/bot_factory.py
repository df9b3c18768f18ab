"""The one place a `Bot` is built: token, Bot API server and the defaults every message uses."""

from __future__ import annotations

from aiogram import Bot
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.session.base import BaseSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.enums import ParseMode

from src.bot.middlewares.audience import ReplyInGroups


def create_bot(
    token: str, *, api_base: str | None = None, session: BaseSession | None = None
) -> Bot:
    """Texts are HTML everywhere (views escape what users typed).

    `api_base` points at a self-hosted or local Bot API server (TELEGRAM_API_BASE); `session`
    replaces the network entirely (the console's and the tests' in-process Bot API).
    """
    if session is None and api_base:
        session = AiohttpSession(api=TelegramAPIServer.from_base(api_base))
    bot = Bot(token, session=session, default=DefaultBotProperties(parse_mode=ParseMode.HTML))
    bot.session.middleware(ReplyInGroups())  # in groups, answers reply to what they answer
    return bot
