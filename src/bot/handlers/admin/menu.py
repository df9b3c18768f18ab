"""/admin: the panel's menu, and the usage screens behind its buttons."""

from __future__ import annotations

from aiogram import Router
from aiogram.filters import Command
from aiogram.types import CallbackQuery, Message

from config.points_config import PointsRules
from src.bot.keyboards.admin import AdminMenuCb, UsageCb, back_to_menu_keyboard, menu_keyboard
from src.bot.screens import show_screen
from src.bot.views.admin import menu_text, usage_text
from src.locales import Translator


async def cmd_admin(message: Message, t: Translator) -> None:
    await message.answer(menu_text(t), reply_markup=menu_keyboard(t))


async def on_menu(query: CallbackQuery, t: Translator) -> None:
    await show_screen(query, menu_text(t), menu_keyboard(t))


async def on_usage(
    query: CallbackQuery, callback_data: UsageCb, t: Translator, rules: PointsRules
) -> None:
    text = usage_text(t, callback_data.topic, rules)
    await show_screen(query, text, back_to_menu_keyboard(t))


def create_router() -> Router:
    router = Router(name=__name__)
    router.message.register(cmd_admin, Command("admin", "points_admin"))
    router.callback_query.register(on_menu, AdminMenuCb.filter())
    router.callback_query.register(on_usage, UsageCb.filter())
    return router
