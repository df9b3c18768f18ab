"""/paysupport: how to get help with a payment (Telegram requires bots that take payments to
answer it); `/paysupport <question>` hands the question to the administrators."""

from __future__ import annotations

from html import escape

import structlog
from aiogram import Bot, Router
from aiogram.exceptions import TelegramAPIError
from aiogram.filters import Command, CommandObject
from aiogram.types import Message

from config.settings import Settings
from src.bot.middlewares.user import NEEDS_USER
from src.locales import Translator, translator
from src.services.user_service import UserService
from src.services.user_types import UserProfile

log = structlog.get_logger(__name__)

MAX_QUESTION = 1500  # characters passed on; a Telegram message holds 4096


async def cmd_paysupport(
    message: Message,
    command: CommandObject,
    bot: Bot,
    user: UserProfile,
    t: Translator,
    settings: Settings,
    users: UserService,
) -> None:
    question = (command.args or "").strip()
    if not question:
        contact = settings.payment_support_contact
        extra = t("paysupport-contact", contact=escape(contact)) if contact else ""
        await message.answer(t("paysupport-text", contact=extra))
        return
    delivered = 0
    for admin_id in sorted(settings.admin_ids):
        admin = await users.get(admin_id)
        at = translator(admin.language if admin else "en")
        text = at(
            "paysupport-admin",
            user=escape(user.name),
            user_id=user.telegram_id,
            question=escape(question[:MAX_QUESTION]),
        )
        try:
            await bot.send_message(admin_id, text)
            delivered += 1
        except TelegramAPIError as exc:
            log.warning("support question not delivered", admin_id=admin_id, reason=str(exc))
    log.info("payment support question", user_id=user.telegram_id, delivered=delivered)
    await message.answer(t("paysupport-sent"))


def create_router() -> Router:
    router = Router(name=__name__)
    router.message.register(cmd_paysupport, Command("paysupport"), flags=NEEDS_USER)
    return router
