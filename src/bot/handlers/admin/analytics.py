"""/points_analytics: six sections with ↻, and a 30-day earned-vs-spent chart."""

from __future__ import annotations

import asyncio

from aiogram import Bot, Router
from aiogram.filters import Command
from aiogram.types import BufferedInputFile, CallbackQuery, Message

from config.points_config import PointsRules
from src.bot import charts
from src.bot.handlers.admin.refusals import on_admin_stale
from src.bot.keyboards.admin import AnalyticsCb, AnalyticsSection, ChartCb, analytics_keyboard
from src.bot.screens import show_screen
from src.bot.views.admin_analytics import (
    analytics_text,
    chart_caption,
    day_lines,
    levels_lines,
    overview_lines,
    streaks_lines,
    top_lines,
    types_lines,
)
from src.bot.views.admin_payments import summary_lines
from src.locales import Translator
from src.services.analytics_service import MAX_SERIES_DAYS, AnalyticsService
from src.services.payment_service import PaymentService

TOP_SIZE = 5


async def _screen(
    section: AnalyticsSection,
    t: Translator,
    analytics: AnalyticsService,
    rules: PointsRules,
    payments: PaymentService,
) -> str:
    match section:
        case AnalyticsSection.OVERVIEW:
            body = overview_lines(t, await analytics.overview())
        case AnalyticsSection.DAY:
            body = day_lines(t, await analytics.last_24h())
        case AnalyticsSection.TYPES:
            body = types_lines(t, await analytics.by_type())
        case AnalyticsSection.LEVELS:
            body = levels_lines(t, await analytics.levels(), rules)
        case AnalyticsSection.STREAKS:
            body = streaks_lines(t, await analytics.streaks())
        case AnalyticsSection.TOP:
            body = top_lines(t, await analytics.top(TOP_SIZE), rules)
        case AnalyticsSection.PAYMENTS:
            body = summary_lines(t, await payments.summary(), analytics.timezone)
    return analytics_text(t, section, body, now=analytics.now(), timezone=analytics.timezone)


async def cmd_analytics(
    message: Message,
    t: Translator,
    analytics: AnalyticsService,
    rules: PointsRules,
    payments: PaymentService,
) -> None:
    section = AnalyticsSection.OVERVIEW
    text = await _screen(section, t, analytics, rules, payments)
    await message.answer(text, reply_markup=analytics_keyboard(t, section))


async def on_analytics(
    query: CallbackQuery,
    callback_data: AnalyticsCb,
    t: Translator,
    analytics: AnalyticsService,
    rules: PointsRules,
    payments: PaymentService,
) -> None:
    section = callback_data.section
    text = await _screen(section, t, analytics, rules, payments)
    notice = t("admin-an-refreshed") if callback_data.refresh else None
    await show_screen(query, text, analytics_keyboard(t, section), notice=notice)


async def on_chart(
    query: CallbackQuery,
    callback_data: ChartCb,
    bot: Bot,
    t: Translator,
    analytics: AnalyticsService,
) -> None:
    days = callback_data.days
    if not 1 <= days <= MAX_SERIES_DAYS:  # forged: the buttons only ever say 30
        await on_admin_stale(query, t)
        return
    await query.answer()
    series = await analytics.daily_series(days)
    # Rendering is CPU-bound (100-300 ms): keep the event loop serving other updates.
    png = await asyncio.to_thread(
        charts.earned_vs_spent_png,
        series,
        title=t("admin-chart-title", days=days),
        earned_label=t("admin-chart-earned"),
        spent_label=t("admin-chart-spent"),
        language=t.language,
    )
    await bot.send_photo(
        query.from_user.id,
        BufferedInputFile(png, filename=f"points-{days}d.png"),
        caption=chart_caption(t, series, days=days, timezone=analytics.timezone),
    )


def create_router() -> Router:
    router = Router(name=__name__)
    router.message.register(cmd_analytics, Command("points_analytics"))
    router.callback_query.register(on_analytics, AnalyticsCb.filter())
    router.callback_query.register(on_chart, ChartCb.filter())
    return router
