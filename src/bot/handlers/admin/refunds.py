"""/points_refund <charge id>: refund a Telegram Stars payment, after a confirmation button.

The confirmation calls `refundStarPayment`; when Telegram has refunded (or had already
refunded: CHARGE_ALREADY_REFUNDED) the payment, PaymentService.refund ends the span it bought
and takes the bonus back (never below zero). A second press finds the payment refunded.
"""

from __future__ import annotations

import structlog
from aiogram import Bot, Router
from aiogram.exceptions import TelegramBadRequest
from aiogram.filters import Command, CommandObject
from aiogram.types import CallbackQuery, Message

from config.settings import Settings
from src.bot.keyboards.payments import RefundCb, refund_keyboard
from src.bot.payment_notifier import PaymentNotifier
from src.bot.screens import alert, show_screen
from src.bot.views.admin_payments import refund_prompt
from src.locales import Translator
from src.services.payment_service import PaymentService
from src.services.payment_types import Provider, RefundStatus

log = structlog.get_logger(__name__)

ALREADY_REFUNDED = "CHARGE_ALREADY_REFUNDED"


async def cmd_refund(
    message: Message,
    command: CommandObject,
    t: Translator,
    payments: PaymentService,
    settings: Settings,
) -> None:
    charge_id = (command.args or "").strip()
    if not charge_id:
        await message.answer(t("admin-refund-usage"))
        return
    line = await payments.payment(provider=Provider.STARS, provider_payment_id=charge_id)
    if line is None:
        await message.answer(t("admin-refund-unknown", id=charge_id[:64]))
        return
    if line.status != "credited":
        await message.answer(t("admin-refund-not-credited", status=line.status))
        return
    text = refund_prompt(t, line, settings.timezone)
    await message.answer(text, reply_markup=refund_keyboard(t, line.id))


async def on_refund(
    query: CallbackQuery,
    callback_data: RefundCb,
    bot: Bot,
    t: Translator,
    payments: PaymentService,
    settings: Settings,
) -> None:
    line = await payments.payment(payment_id=callback_data.payment_id)
    if line is None or line.provider != Provider.STARS or line.user_id is None:
        await alert(query, t("admin-refund-gone"))
        return
    if not callback_data.confirm:
        await show_screen(query, t("admin-refund-cancelled"), None)
        return
    if line.status != "credited":
        await alert(query, t("admin-refund-not-credited", status=line.status))
        return
    try:
        await bot.refund_star_payment(line.user_id, line.provider_payment_id)
    except TelegramBadRequest as exc:
        if ALREADY_REFUNDED not in exc.message:
            log.warning("star refund refused", payment_id=line.id, reason=exc.message)
            await alert(query, t("admin-refund-refused", reason=exc.message[:150]))
            return
    outcome = await payments.refund(
        provider=Provider.STARS,
        provider_payment_id=line.provider_payment_id,
        raw={"admin_id": query.from_user.id},
    )
    log.info("admin refund", admin_id=query.from_user.id, payment_id=line.id)
    if outcome.status is RefundStatus.REFUNDED:
        await PaymentNotifier(bot, timezone=settings.timezone).refunded(outcome)
    text = t(
        "admin-refund-done",
        clawed=outcome.clawed_back,
        unrecovered=outcome.unrecovered,
    )
    await show_screen(query, text, None)


def create_router() -> Router:
    router = Router(name=__name__)
    router.message.register(cmd_refund, Command("points_refund"))
    router.callback_query.register(on_refund, RefundCb.filter())
    return router
