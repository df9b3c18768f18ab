"""/language: an inline choice between Russian and English, stored on the user."""

from __future__ import annotations

from aiogram import Router
from aiogram.filters import Command
from aiogram.types import CallbackQuery, Message

from src.bot.keyboards.points import LanguageCb, MenuCb, language_keyboard
from src.bot.middlewares.user import NEEDS_USER
from src.bot.screens import alert, send_screen, show_screen
from src.locales import LANGUAGES, Translator, translator
from src.services.user_service import UserService
from src.services.user_types import UserProfile


async def cmd_language(message: Message, t: Translator) -> None:
    await message.answer(t("language-choose"), reply_markup=language_keyboard())


async def on_language_menu(query: CallbackQuery, t: Translator) -> None:
    await send_screen(query, t("language-choose"), language_keyboard())


async def on_language_chosen(
    query: CallbackQuery,
    callback_data: LanguageCb,
    user: UserProfile,
    users: UserService,
    t: Translator,
) -> None:
    if callback_data.code not in LANGUAGES:  # forged or from a retired layout
        await alert(query, t("button-stale"))
        return
    await users.set_language(user_id=user.telegram_id, language=callback_data.code)
    done = translator(callback_data.code)("language-set")
    await show_screen(query, done, None, notice=done)


def create_router() -> Router:
    router = Router(name=__name__)
    router.message.register(cmd_language, Command("language"))
    router.callback_query.register(on_language_menu, MenuCb.filter())
    router.callback_query.register(on_language_chosen, LanguageCb.filter(), flags=NEEDS_USER)
    return router
