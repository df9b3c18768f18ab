"""What the panel turns away: stale admin buttons, and admin commands or buttons of non-admins."""

from __future__ import annotations

import structlog
from aiogram import F, Router
from aiogram.filters import Command
from aiogram.types import CallbackQuery, Message

from src.bot.handlers.chat import on_unknown_command
from src.bot.keyboards.admin import is_admin_callback
from src.bot.screens import alert
from src.locales import Translator

log = structlog.get_logger(__name__)

ADMIN_COMMANDS = (
    "admin",
    "points_admin",
    "points_analytics",
    "points_config",
    "points_grant",
    "points_deduct",
    "points_user",
    "points_refund",
)


async def on_admin_stale(query: CallbackQuery, t: Translator) -> None:
    """An admin button whose data no longer parses (an old layout, a forged value)."""
    log.info("stale admin callback", user_id=query.from_user.id, data=query.data)
    await alert(query, t("admin-stale"))


async def on_refused_command(message: Message, t: Translator) -> None:
    log.warning(
        "admin command refused",
        user_id=message.from_user.id if message.from_user else None,
        command=(message.text or "").split(maxsplit=1)[0],
    )
    await on_unknown_command(message, t)


async def on_refused_callback(query: CallbackQuery, t: Translator) -> None:
    log.warning("admin callback refused", user_id=query.from_user.id, data=query.data)
    await alert(query, t("admin-only"))


def create_stale_router() -> Router:
    """Inside the panel, after every screen: admin-prefixed data none of them could parse."""
    router = Router(name=f"{__name__}.stale")
    router.callback_query.register(on_admin_stale, F.data.func(is_admin_callback))
    return router


def create_refusal_router() -> Router:
    """Placed right after the panel: sees only what the admin filter turned away."""
    router = Router(name=__name__)
    router.message.register(on_refused_command, Command(*ADMIN_COMMANDS))
    router.callback_query.register(on_refused_callback, F.data.func(is_admin_callback))
    return router
