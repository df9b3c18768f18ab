"""/help: what the bot does, its commands, and the user's own invite link."""

from __future__ import annotations

from aiogram import Bot, Router
from aiogram.filters import Command
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup, Message

from config.points_config import PointsRules
from src.bot.keyboards.payments import SubAction, SubCb
from src.bot.replies import invite_link
from src.locales import Translator
from src.services.user_types import UserProfile


async def cmd_help(
    message: Message, bot: Bot, user: UserProfile | None, t: Translator, rules: PointsRules
) -> None:
    # Without the user's row (database unreachable) help still works, minus the invite link.
    link = await invite_link(bot, user.referral_code) if user else "—"
    markup = InlineKeyboardMarkup(
        inline_keyboard=[
            [
                InlineKeyboardButton(
                    text=t("menu-subscribe"), callback_data=SubCb(action=SubAction.MENU).pack()
                )
            ]
        ]
    )
    text = t("help-text", signup=rules.referral_signup_points, link=link)
    await message.answer(text, reply_markup=markup)


def create_router() -> Router:
    router = Router(name=__name__)
    router.message.register(cmd_help, Command("help"))
    return router
