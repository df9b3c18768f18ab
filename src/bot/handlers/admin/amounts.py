"""/points_grant and /points_deduct, the card's quick buttons, and the ✅ / ❌ confirmations."""

from __future__ import annotations

import structlog
from aiogram import Bot, Router
from aiogram.filters import Command, CommandObject
from aiogram.types import CallbackQuery, Message

from config.points_config import PointsRules
from src.bot.keyboards.admin import (
    CancelCb,
    ConfirmCb,
    QuickDeductCb,
    QuickGrantCb,
    confirm_keyboard,
    open_card_keyboard,
)
from src.bot.replies import congratulate_level_up, notify
from src.bot.screens import alert, replace_screen, send_screen, show_screen
from src.bot.views.admin import (
    decision_alert,
    decision_text,
    error_alert,
    error_text,
    executed_text,
    notification_text,
    pending_text,
)
from src.locales import Translator, translator
from src.services.admin_commands import AdminInputError, AdminOp
from src.services.admin_service import AdminService
from src.services.admin_types import DecisionStatus, Executed, PendingAction

log = structlog.get_logger(__name__)


async def _notify_user(bot: Bot, executed: Executed, rules: PointsRules) -> bool:
    """Tell the user, in their own language, that points moved (and of a level-up)."""
    t_user = translator(executed.user.language)
    user_id = executed.user.telegram_id
    delivered = await notify(bot, user_id, notification_text(t_user, executed))
    if delivered:
        await congratulate_level_up(bot, user_id, executed.outcome, t_user, rules)
    return delivered


async def _amount_command(
    message: Message,
    command: CommandObject,
    op: AdminOp,
    bot: Bot,
    t: Translator,
    admin: AdminService,
) -> None:
    assert message.from_user is not None
    admin_id = message.from_user.id
    try:
        result = await admin.request(
            admin_id=admin_id,
            op=op,
            command=admin.parse(command.args),
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
        notified = await _notify_user(bot, result, admin.rules)
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


async def on_quick_action(
    query: CallbackQuery,
    callback_data: QuickGrantCb | QuickDeductCb,
    t: Translator,
    admin_service: AdminService,
) -> None:
    op = AdminOp.GRANT if isinstance(callback_data, QuickGrantCb) else AdminOp.DEDUCT
    admin_id = query.from_user.id
    try:
        pending = await admin_service.request_quick(
            admin_id=admin_id, op=op, user_id=callback_data.user_id, amount=callback_data.amount
        )
    except AdminInputError as error:
        log.info("admin quick action refused", admin_id=admin_id, code=error.code.value)
        await alert(query, error_alert(t, error))
        return
    # A new message: the card stays where it is, the confirmation is its own record.
    await send_screen(query, pending_text(t, pending), confirm_keyboard(t, pending.id))


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
            await replace_screen(query, decision_text(t, decision, notified=notified), markup)
        case DecisionStatus.REFUSED | DecisionStatus.EXPIRED:
            await alert(query, decision_alert(t, decision))
            await replace_screen(query, decision_text(t, decision), None)
        case _:  # a double press, another admin's button, a forged or vanished id
            log.info(
                "admin confirmation not applicable",
                admin_id=query.from_user.id,
                action_id=callback_data.action_id,
                status=decision.status.value,
            )
            await alert(query, decision_alert(t, decision))


async def on_cancel(
    query: CallbackQuery,
    callback_data: CancelCb,
    t: Translator,
    admin_service: AdminService,
) -> None:
    decision = await admin_service.cancel(
        action_id=callback_data.action_id, admin_id=query.from_user.id
    )
    if decision.status in {DecisionStatus.CANCELLED, DecisionStatus.EXPIRED}:
        text = decision_text(t, decision)
        await show_screen(query, text, None, notice=decision_alert(t, decision))
        return
    await alert(query, decision_alert(t, decision))


def create_router() -> Router:
    router = Router(name=__name__)
    router.message.register(cmd_grant, Command("points_grant"))
    router.message.register(cmd_deduct, Command("points_deduct"))
    router.callback_query.register(on_quick_action, QuickGrantCb.filter())
    router.callback_query.register(on_quick_action, QuickDeductCb.filter())
    router.callback_query.register(on_confirm, ConfirmCb.filter())
    router.callback_query.register(on_cancel, CancelCb.filter())
    return router
