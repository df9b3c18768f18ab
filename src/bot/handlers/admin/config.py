"""/points_config: the rules in force, by section, and whether an override file is active."""

from __future__ import annotations

from aiogram import Router
from aiogram.filters import Command
from aiogram.types import CallbackQuery, Message

from config.points_config import PointsRules
from config.settings import Settings
from src.bot.keyboards.admin import ConfigCb, ConfigSection, config_keyboard
from src.bot.screens import show_screen
from src.bot.views.admin_config import config_text
from src.locales import Translator


async def cmd_config(
    message: Message, t: Translator, rules: PointsRules, settings: Settings
) -> None:
    section = ConfigSection.RATES
    text = config_text(t, section, rules, override=settings.points_config_file)
    await message.answer(text, reply_markup=config_keyboard(t, section))


async def on_config(
    query: CallbackQuery,
    callback_data: ConfigCb,
    t: Translator,
    rules: PointsRules,
    settings: Settings,
) -> None:
    section = callback_data.section
    text = config_text(t, section, rules, override=settings.points_config_file)
    await show_screen(query, text, config_keyboard(t, section))


def create_router() -> Router:
    router = Router(name=__name__)
    router.message.register(cmd_config, Command("points_config"))
    router.callback_query.register(on_config, ConfigCb.filter())
    return router
