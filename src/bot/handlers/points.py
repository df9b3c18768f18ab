"""/points (card with History, Leaderboard, How to earn, Daily buttons), /level and /daily."""

from __future__ import annotations

import math

from aiogram import Bot, Router
from aiogram.filters import Command
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message

from src.bot.keyboards.points import (
    PointsAction,
    PointsCb,
    back_keyboard,
    history_keyboard,
    points_keyboard,
)
from src.bot.replies import congratulate_level_up, invite_link
from src.bot.views.points import (
    daily_text,
    history_text,
    how_to_earn_text,
    leaderboard_text,
    levels_text,
    points_card,
)
from src.database.models import User
from src.locales import Translator
from src.services.points_service import PointsService
from src.services.points_types import PointsOutcome

HISTORY_PAGE = 5
LEADERBOARD_SIZE = 10


async def _card(bot: Bot, user: User, points: PointsService, t: Translator) -> str:
    balance = await points.get_balance(user_id=user.telegram_id, language=t.language)
    stats = await points.get_stats(user_id=user.telegram_id)
    link = await invite_link(bot, user.referral_code)
    return points_card(t, balance=balance, stats=stats, rules=points.rules, invite_link=link)


async def cmd_points(
    message: Message, bot: Bot, db_user: User | None, points: PointsService, t: Translator
) -> None:
    if db_user is None:
        await message.answer(t("error-unavailable"))
        return
    await message.answer(await _card(bot, db_user, points, t), reply_markup=points_keyboard(t))


async def cmd_level(
    message: Message, db_user: User | None, points: PointsService, t: Translator
) -> None:
    if db_user is None:
        await message.answer(t("error-unavailable"))
        return
    balance = await points.get_balance(user_id=db_user.telegram_id, language=t.language)
    await message.answer(levels_text(t, points.rules, balance))


async def _claim_daily(
    user: User, points: PointsService, t: Translator
) -> tuple[str, PointsOutcome]:
    """The claim and its text; the caller congratulates on a level-up AFTER showing it."""
    outcome = await points.claim_daily_login(user_id=user.telegram_id)
    text = daily_text(t, outcome, points.rules, now=points.now(), timezone=points.timezone)
    return text, outcome


async def cmd_daily(
    message: Message, bot: Bot, db_user: User | None, points: PointsService, t: Translator
) -> None:
    if db_user is None:
        await message.answer(t("error-unavailable"))
        return
    text, outcome = await _claim_daily(db_user, points, t)
    await message.answer(text)
    await congratulate_level_up(bot, db_user.telegram_id, outcome, t, points.rules)


async def on_points_button(
    query: CallbackQuery,
    callback_data: PointsCb,
    bot: Bot,
    db_user: User | None,
    points: PointsService,
    t: Translator,
) -> None:
    if not isinstance(query.message, Message):  # too old to edit (InaccessibleMessage)
        await query.answer(t("button-stale"), show_alert=True)
        return
    if db_user is None:
        await query.answer(t("error-unavailable"), show_alert=True)
        return
    user_id = db_user.telegram_id
    markup: InlineKeyboardMarkup = back_keyboard(t)
    claimed: PointsOutcome | None = None
    match callback_data.action:
        case PointsAction.MAIN:
            text, markup = await _card(bot, db_user, points, t), points_keyboard(t)
        case PointsAction.HISTORY:
            page = max(0, callback_data.page)
            history = await points.get_history(
                user_id=user_id, limit=HISTORY_PAGE, offset=page * HISTORY_PAGE
            )
            pages = max(1, math.ceil(history.total / HISTORY_PAGE))
            if page >= pages and history.total:  # a stale page button: show the last page
                page = pages - 1
                history = await points.get_history(
                    user_id=user_id, limit=HISTORY_PAGE, offset=page * HISTORY_PAGE
                )
            text = history_text(t, history, timezone=points.timezone)
            markup = history_keyboard(t, page, pages)
        case PointsAction.TOP:
            board = await points.get_leaderboard(limit=LEADERBOARD_SIZE, user_id=user_id)
            text = leaderboard_text(t, board, points.rules)
        case PointsAction.EARN:
            rates = await points.personal_rates(user_id=user_id)
            text = how_to_earn_text(t, rates, points.rules)
        case PointsAction.DAILY:
            text, claimed = await _claim_daily(db_user, points, t)
    await query.answer()
    if query.message.text != text or query.message.reply_markup != markup:
        await query.message.edit_text(text, reply_markup=markup)
    await congratulate_level_up(bot, user_id, claimed, t, points.rules)


def create_router() -> Router:
    router = Router(name=__name__)
    router.message.register(cmd_points, Command("points"))
    router.message.register(cmd_level, Command("level"))
    router.message.register(cmd_daily, Command("daily"))
    router.callback_query.register(on_points_button, PointsCb.filter())
    return router
