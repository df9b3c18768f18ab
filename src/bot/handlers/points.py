"""/points (card with History, Leaderboard, How to earn, Daily buttons), /level and /daily."""

from __future__ import annotations

import math

from aiogram import Bot, Router
from aiogram.enums import ChatType
from aiogram.filters import Command
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message

from config.points_config import PointsRules
from config.settings import Settings
from src.bot.keyboards.points import (
    PointsAction,
    PointsCb,
    back_keyboard,
    history_keyboard,
    points_keyboard,
)
from src.bot.middlewares.user import NEEDS_USER
from src.bot.replies import congratulate_level_up, invite_link
from src.bot.screens import alert, show_screen
from src.bot.views.points import (
    daily_text,
    history_text,
    how_to_earn_text,
    leaderboard_text,
    levels_text,
    points_card,
)
from src.locales import Translator
from src.services.points_service import PointsService
from src.services.points_types import PointsOutcome
from src.services.quota_service import QuotaService
from src.services.user_types import UserProfile

HISTORY_PAGE = 5
LEADERBOARD_SIZE = 10


async def _card(
    bot: Bot, user: UserProfile, points: PointsService, quotas: QuotaService, t: Translator
) -> str:
    balance = await points.get_balance(user_id=user.telegram_id, language=t.language)
    stats = await points.get_stats(user_id=user.telegram_id)
    quota = await quotas.usage(user)
    link = await invite_link(bot, user.referral_code)
    return points_card(
        t, balance=balance, stats=stats, rules=points.rules, invite_link=link, quota=quota
    )


def _app_url(settings: Settings, message: Message) -> str | None:
    """The Mini App's address for the card's button: only where Telegram can open it."""
    return settings.mini_app_url if message.chat.type == ChatType.PRIVATE else None


async def cmd_points(
    message: Message,
    bot: Bot,
    user: UserProfile,
    points: PointsService,
    quotas: QuotaService,
    t: Translator,
    settings: Settings,
) -> None:
    text = await _card(bot, user, points, quotas, t)
    await message.answer(text, reply_markup=points_keyboard(t, _app_url(settings, message)))


async def cmd_level(
    message: Message, user: UserProfile, points: PointsService, t: Translator, rules: PointsRules
) -> None:
    balance = await points.get_balance(user_id=user.telegram_id, language=t.language)
    await message.answer(levels_text(t, rules, balance))


async def _claim_daily(
    user: UserProfile, points: PointsService, t: Translator, rules: PointsRules
) -> tuple[str, PointsOutcome]:
    """The claim and its text; the caller congratulates on a level-up AFTER showing it."""
    outcome = await points.claim_daily_login(user_id=user.telegram_id)
    return daily_text(t, outcome, rules, next_day_in=points.until_next_day()), outcome


async def cmd_daily(
    message: Message,
    bot: Bot,
    user: UserProfile,
    points: PointsService,
    t: Translator,
    rules: PointsRules,
) -> None:
    text, outcome = await _claim_daily(user, points, t, rules)
    await message.answer(text)
    await congratulate_level_up(bot, user.telegram_id, outcome, t, rules)


async def _history_screen(
    user: UserProfile, page: int, points: PointsService, t: Translator
) -> tuple[str, InlineKeyboardMarkup]:
    page = max(0, page)
    history = await points.get_history(
        user_id=user.telegram_id, limit=HISTORY_PAGE, offset=page * HISTORY_PAGE
    )
    pages = max(1, math.ceil(history.total / HISTORY_PAGE))
    if page >= pages and history.total:  # a stale page button: show the last page
        page = pages - 1
        history = await points.get_history(
            user_id=user.telegram_id, limit=HISTORY_PAGE, offset=page * HISTORY_PAGE
        )
    text = history_text(t, history, timezone=points.timezone)
    return text, history_keyboard(t, page, pages)


async def on_points_button(
    query: CallbackQuery,
    callback_data: PointsCb,
    bot: Bot,
    user: UserProfile,
    points: PointsService,
    quotas: QuotaService,
    t: Translator,
    settings: Settings,
) -> None:
    if not isinstance(query.message, Message):  # too old to edit (InaccessibleMessage)
        await alert(query, t("button-stale"))
        return
    rules = points.rules
    markup: InlineKeyboardMarkup = back_keyboard(t)
    claimed: PointsOutcome | None = None
    match callback_data.action:
        case PointsAction.MAIN:
            text = await _card(bot, user, points, quotas, t)
            markup = points_keyboard(t, _app_url(settings, query.message))
        case PointsAction.HISTORY:
            text, markup = await _history_screen(user, callback_data.page, points, t)
        case PointsAction.TOP:
            board = await points.get_leaderboard(limit=LEADERBOARD_SIZE, user_id=user.telegram_id)
            text = leaderboard_text(t, board, rules)
        case PointsAction.EARN:
            rates = await points.personal_rates(user_id=user.telegram_id)
            text = how_to_earn_text(t, rates, rules)
        case PointsAction.DAILY:
            text, claimed = await _claim_daily(user, points, t, rules)
    await show_screen(query, text, markup)
    await congratulate_level_up(bot, user.telegram_id, claimed, t, rules)


def create_router() -> Router:
    router = Router(name=__name__)
    router.message.register(cmd_points, Command("points"), flags=NEEDS_USER)
    router.message.register(cmd_level, Command("level"), flags=NEEDS_USER)
    router.message.register(cmd_daily, Command("daily"), flags=NEEDS_USER)
    router.callback_query.register(on_points_button, PointsCb.filter(), flags=NEEDS_USER)
    return router
