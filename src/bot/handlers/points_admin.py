"""The admin panel: /admin, /points_analytics, /points_config, /points_grant, /points_deduct,
/points_user and the buttons behind them (docs/ADMIN_PANEL.md).

Two routers. `create_router()` holds the panel; its admin filter is set on the router for
messages and callback queries alike, so no handler can forget it. `create_refusal_router()`
comes right after it and catches what the filter let through: a non-admin's admin command gets
exactly the unknown-command answer (the panel's existence is not advertised), a non-admin's
admin button gets a refusal alert; both are logged with the user id.

Handlers stay thin: rules live in AdminService / AnalyticsService, texts in views/admin*.py.
"""

from __future__ import annotations

import asyncio

import structlog
from aiogram import Bot, F, Router
from aiogram.exceptions import TelegramBadRequest
from aiogram.filters import Command, CommandObject
from aiogram.types import BufferedInputFile, CallbackQuery, InlineKeyboardMarkup, Message

from config.points_config import PointsRules
from config.settings import Settings
from src.bot import charts
from src.bot.filters.admin import AdminFilter
from src.bot.handlers.chat import on_unknown_command
from src.bot.keyboards.admin import (
    AdminMenuCb,
    AnalyticsCb,
    AnalyticsSection,
    CancelCb,
    ChartCb,
    ConfigCb,
    ConfigSection,
    ConfirmCb,
    QuickDeductCb,
    QuickGrantCb,
    UsageCb,
    UsageTopic,
    UserCardCb,
    analytics_keyboard,
    back_to_menu_keyboard,
    config_keyboard,
    confirm_keyboard,
    is_admin_callback,
    menu_keyboard,
    open_card_keyboard,
    user_card_keyboard,
)
from src.bot.replies import notify
from src.bot.views.admin import (
    config_text,
    decision_alert,
    decision_text,
    error_text,
    executed_text,
    menu_text,
    notification_text,
    pending_text,
    usage_text,
    user_card_text,
)
from src.bot.views.admin_analytics import (
    SERVICE_SECTION,
    analytics_text,
    chart_caption,
    day_lines,
    levels_lines,
    overview_lines,
    streaks_lines,
    top_lines,
    types_lines,
)
from src.bot.views.points import level_up_text
from src.locales import Translator, translator
from src.services.admin_service import (
    AdminInputError,
    AdminOp,
    AdminService,
    DecisionStatus,
    Executed,
    PendingAction,
)
from src.services.analytics_service import MAX_SERIES_DAYS, AnalyticsService
from src.services.points_service import PointsService

log = structlog.get_logger(__name__)

ADMIN_COMMANDS = (
    "admin",
    "points_admin",
    "points_analytics",
    "points_config",
    "points_grant",
    "points_deduct",
    "points_user",
)
USER_CARD_PAGE = 5
TOP_SIZE = 5


# ---------------------------------------------------------------------------- helpers


async def _render(
    query: CallbackQuery, bot: Bot, text: str, markup: InlineKeyboardMarkup | None
) -> None:
    """Show a screen in the message the button belongs to (or a new one if it is gone)."""
    message = query.message
    if not isinstance(message, Message):  # too old to edit: Telegram sent no content
        await bot.send_message(query.from_user.id, text, reply_markup=markup)
        return
    try:
        await message.edit_text(text, reply_markup=markup)
    except TelegramBadRequest as exc:
        if "message is not modified" not in exc.message:  # ↻ with nothing new: fine
            raise


async def _notify_user(bot: Bot, executed: Executed, rules: PointsRules) -> bool:
    """Tell the user, in their own language, that points moved (and of a level-up)."""
    t_user = translator(executed.user.language)
    user_id = executed.user.telegram_id
    delivered = await notify(bot, user_id, notification_text(t_user, executed))
    if delivered and executed.outcome.leveled_up:
        await notify(bot, user_id, level_up_text(t_user, executed.outcome, rules))
    return delivered


def _error_alert(t: Translator, error: AdminInputError) -> str:
    return t(f"admin-error-{error.code.value}", **error.args_)


# ---------------------------------------------------------------------------- menu


async def cmd_admin(message: Message, t: Translator) -> None:
    await message.answer(menu_text(t), reply_markup=menu_keyboard(t))


async def on_menu(query: CallbackQuery, bot: Bot, t: Translator) -> None:
    await query.answer()
    await _render(query, bot, menu_text(t), menu_keyboard(t))


async def on_usage(
    query: CallbackQuery, callback_data: UsageCb, bot: Bot, t: Translator, points: PointsService
) -> None:
    await query.answer()
    text = usage_text(t, callback_data.topic, points.rules)
    await _render(query, bot, text, back_to_menu_keyboard(t))


# ---------------------------------------------------------------------------- analytics


async def _analytics_screen(
    section: AnalyticsSection, t: Translator, analytics: AnalyticsService, rules: PointsRules
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
    return analytics_text(
        t,
        section,
        body,
        approximate=SERVICE_SECTION[section] in analytics.approximate_sections,
        now=analytics.now(),
        timezone=analytics.timezone,
    )


async def cmd_analytics(
    message: Message, t: Translator, analytics: AnalyticsService, points: PointsService
) -> None:
    section = AnalyticsSection.OVERVIEW
    text = await _analytics_screen(section, t, analytics, points.rules)
    await message.answer(text, reply_markup=analytics_keyboard(t, section))


async def on_analytics(
    query: CallbackQuery,
    callback_data: AnalyticsCb,
    bot: Bot,
    t: Translator,
    analytics: AnalyticsService,
    points: PointsService,
) -> None:
    section = callback_data.section
    text = await _analytics_screen(section, t, analytics, points.rules)
    await query.answer(t("admin-an-refreshed") if callback_data.refresh else None)
    await _render(query, bot, text, analytics_keyboard(t, section))


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
    )
    await bot.send_photo(
        query.from_user.id,
        BufferedInputFile(png, filename=f"points-{days}d.png"),
        caption=chart_caption(t, series, days=days, timezone=analytics.timezone),
    )


# ---------------------------------------------------------------------------- rules in force


async def cmd_config(
    message: Message, t: Translator, points: PointsService, settings: Settings
) -> None:
    section = ConfigSection.RATES
    text = config_text(t, section, points.rules, override=settings.points_config_file)
    await message.answer(text, reply_markup=config_keyboard(t, section))


async def on_config(
    query: CallbackQuery,
    callback_data: ConfigCb,
    bot: Bot,
    t: Translator,
    points: PointsService,
    settings: Settings,
) -> None:
    section = callback_data.section
    await query.answer()
    text = config_text(t, section, points.rules, override=settings.points_config_file)
    await _render(query, bot, text, config_keyboard(t, section))


# ---------------------------------------------------------------------------- grant / deduct


async def _amount_command(
    message: Message,
    command: CommandObject,
    op: AdminOp,
    bot: Bot,
    t: Translator,
    admin_service: AdminService,
) -> None:
    assert message.from_user is not None
    admin_id = message.from_user.id
    try:
        parsed = admin_service.parse(command.args)
        result = await admin_service.request(
            admin_id=admin_id,
            op=op,
            command=parsed,
            source_key=f"admin_cmd:{message.chat.id}:{message.message_id}",
        )
    except AdminInputError as error:
        log.info("admin input refused", admin_id=admin_id, op=op.value, code=error.code.value)
        await message.answer(error_text(t, error, usage=op))
        return
    if isinstance(result, PendingAction):
        await message.answer(pending_text(t, result), reply_markup=confirm_keyboard(t, result.id))
        return
    notified = None
    if not result.outcome.duplicate:  # a redelivered command already told the user
        notified = await _notify_user(bot, result, admin_service.rules)
    await message.answer(
        executed_text(t, result, notified=notified),
        reply_markup=open_card_keyboard(t, result.user.telegram_id),
    )


async def cmd_grant(
    message: Message, command: CommandObject, bot: Bot, t: Translator, admin_service: AdminService
) -> None:
    await _amount_command(message, command, AdminOp.GRANT, bot, t, admin_service)


async def cmd_deduct(
    message: Message, command: CommandObject, bot: Bot, t: Translator, admin_service: AdminService
) -> None:
    await _amount_command(message, command, AdminOp.DEDUCT, bot, t, admin_service)


async def _quick(
    query: CallbackQuery,
    op: AdminOp,
    user_id: int,
    amount: int,
    bot: Bot,
    t: Translator,
    admin_service: AdminService,
) -> None:
    try:
        pending = await admin_service.request_quick(
            admin_id=query.from_user.id, op=op, user_id=user_id, amount=amount
        )
    except AdminInputError as error:
        log.info("admin quick action refused", admin_id=query.from_user.id, code=error.code.value)
        await query.answer(_error_alert(t, error), show_alert=True)
        return
    await query.answer()
    # A new message: the card stays where it is, the confirmation is its own record.
    await bot.send_message(
        query.from_user.id, pending_text(t, pending), reply_markup=confirm_keyboard(t, pending.id)
    )


async def on_quick_action(
    query: CallbackQuery,
    callback_data: QuickGrantCb | QuickDeductCb,
    bot: Bot,
    t: Translator,
    admin_service: AdminService,
) -> None:
    op = AdminOp.GRANT if isinstance(callback_data, QuickGrantCb) else AdminOp.DEDUCT
    await _quick(query, op, callback_data.user_id, callback_data.amount, bot, t, admin_service)


async def on_confirm(
    query: CallbackQuery,
    callback_data: ConfirmCb,
    bot: Bot,
    t: Translator,
    admin_service: AdminService,
) -> None:
    decision = await admin_service.confirm(
        action_id=callback_data.action_id, admin_id=query.from_user.id
    )
    match decision.status:
        case DecisionStatus.DONE:
            assert decision.executed is not None
            await query.answer(decision_alert(t, decision))
            notified = await _notify_user(bot, decision.executed, admin_service.rules)
            markup = open_card_keyboard(t, decision.executed.user.telegram_id)
            await _render(query, bot, decision_text(t, decision, notified=notified), markup)
        case DecisionStatus.REFUSED | DecisionStatus.EXPIRED:
            await query.answer(decision_alert(t, decision), show_alert=True)
            await _render(query, bot, decision_text(t, decision), None)
        case _:  # a double press, another admin's button, a forged or vanished id
            log.info(
                "admin confirmation not applicable",
                admin_id=query.from_user.id,
                action_id=callback_data.action_id,
                status=decision.status.value,
            )
            await query.answer(decision_alert(t, decision), show_alert=True)


async def on_cancel(
    query: CallbackQuery,
    callback_data: CancelCb,
    bot: Bot,
    t: Translator,
    admin_service: AdminService,
) -> None:
    decision = await admin_service.cancel(
        action_id=callback_data.action_id, admin_id=query.from_user.id
    )
    if decision.status in {DecisionStatus.CANCELLED, DecisionStatus.EXPIRED}:
        await query.answer(decision_alert(t, decision))
        await _render(query, bot, decision_text(t, decision), None)
        return
    await query.answer(decision_alert(t, decision), show_alert=True)


# ---------------------------------------------------------------------------- user card


async def cmd_user(
    message: Message,
    command: CommandObject,
    t: Translator,
    admin_service: AdminService,
    points: PointsService,
) -> None:
    try:
        card = await admin_service.user_card(user_ref=command.args or "", page_size=USER_CARD_PAGE)
    except AdminInputError as error:
        await message.answer(error_text(t, error, usage=UsageTopic.USER))
        return
    text = user_card_text(t, card, points.rules, timezone=points.timezone)
    uid = card.user.telegram_id
    await message.answer(text, reply_markup=user_card_keyboard(t, uid, card.page, card.pages))


async def on_user_card(
    query: CallbackQuery,
    callback_data: UserCardCb,
    bot: Bot,
    t: Translator,
    admin_service: AdminService,
    points: PointsService,
) -> None:
    try:
        card = await admin_service.user_card(
            user_ref=callback_data.user_id, page=callback_data.page, page_size=USER_CARD_PAGE
        )
    except AdminInputError as error:
        await query.answer(_error_alert(t, error), show_alert=True)
        return
    await query.answer()
    text = user_card_text(t, card, points.rules, timezone=points.timezone)
    markup = user_card_keyboard(t, card.user.telegram_id, card.page, card.pages)
    if callback_data.fresh:
        await bot.send_message(query.from_user.id, text, reply_markup=markup)
    else:
        await _render(query, bot, text, markup)


# ---------------------------------------------------------------------------- stale and refused


async def on_admin_stale(query: CallbackQuery, t: Translator) -> None:
    """An admin button whose data no longer parses (an old layout, a forged value)."""
    log.info("stale admin callback", user_id=query.from_user.id, data=query.data)
    await query.answer(t("admin-stale"), show_alert=True)


async def on_refused_command(message: Message, t: Translator) -> None:
    log.warning(
        "admin command refused",
        user_id=message.from_user.id if message.from_user else None,
        command=(message.text or "").split(maxsplit=1)[0],
    )
    await on_unknown_command(message, t)


async def on_refused_callback(query: CallbackQuery, t: Translator) -> None:
    log.warning("admin callback refused", user_id=query.from_user.id, data=query.data)
    await query.answer(t("admin-only"), show_alert=True)


def create_router() -> Router:
    router = Router(name=__name__)
    router.message.filter(AdminFilter())
    router.callback_query.filter(AdminFilter())

    router.message.register(cmd_admin, Command("admin", "points_admin"))
    router.message.register(cmd_analytics, Command("points_analytics"))
    router.message.register(cmd_config, Command("points_config"))
    router.message.register(cmd_grant, Command("points_grant"))
    router.message.register(cmd_deduct, Command("points_deduct"))
    router.message.register(cmd_user, Command("points_user"))

    router.callback_query.register(on_menu, AdminMenuCb.filter())
    router.callback_query.register(on_usage, UsageCb.filter())
    router.callback_query.register(on_analytics, AnalyticsCb.filter())
    router.callback_query.register(on_chart, ChartCb.filter())
    router.callback_query.register(on_config, ConfigCb.filter())
    router.callback_query.register(on_user_card, UserCardCb.filter())
    router.callback_query.register(on_quick_action, QuickGrantCb.filter())
    router.callback_query.register(on_quick_action, QuickDeductCb.filter())
    router.callback_query.register(on_confirm, ConfirmCb.filter())
    router.callback_query.register(on_cancel, CancelCb.filter())
    # Last: admin-prefixed data none of the factories above could parse.
    router.callback_query.register(on_admin_stale, F.data.func(is_admin_callback))
    return router


def create_refusal_router() -> Router:
    """Placed right after the admin router: sees only what the admin filter turned away."""
    router = Router(name=f"{__name__}.refusals")
    router.message.register(on_refused_command, Command(*ADMIN_COMMANDS))
    router.callback_query.register(on_refused_callback, F.data.func(is_admin_callback))
    return router
