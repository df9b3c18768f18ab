"""Buttons nobody handles (an old layout, forged data): a polite alert, never a spinner."""

from __future__ import annotations

import structlog
from aiogram import Router
from aiogram.types import CallbackQuery

from src.bot.screens import alert
from src.locales import Translator

log = structlog.get_logger(__name__)


async def on_stale_callback(query: CallbackQuery, t: Translator) -> None:
    log.info("stale or malformed callback", user_id=query.from_user.id, data=query.data)
    await alert(query, t("button-stale"))


def create_router() -> Router:
    router = Router(name=__name__)
    router.callback_query.register(on_stale_callback)
    return router
