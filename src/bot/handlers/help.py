"""/help: what the bot does, its commands, and the user's own invite link."""

from __future__ import annotations

from aiogram import Bot, Router
from aiogram.filters import Command
from aiogram.types import Message

from src.bot.replies import invite_link
from src.database.models import User
from src.locales import Translator
from src.services.points_service import PointsService


async def cmd_help(
    message: Message, bot: Bot, db_user: User | None, points: PointsService, t: Translator
) -> None:
    link = await invite_link(bot, db_user.referral_code) if db_user else "—"
    await message.answer(t("help-text", signup=points.rules.referral_signup_points, link=link))


def create_router() -> Router:
    router = Router(name=__name__)
    router.message.register(cmd_help, Command("help"))
    return router
