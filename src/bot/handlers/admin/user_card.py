"""/points_user <id|@username>: a user's card with paged history and quick grant/deduct buttons."""

from __future__ import annotations

from aiogram import Router
from aiogram.filters import Command, CommandObject
from aiogram.types import CallbackQuery, Message

from config.points_config import PointsRules
from src.bot.keyboards.admin import UsageTopic, UserCardCb, user_card_keyboard
from src.bot.screens import alert, send_screen, show_screen
from src.bot.views.admin import error_alert, error_text, user_card_text
from src.bot.views.admin_payments import user_payments_lines
from src.locales import Translator
from src.services.admin_commands import AdminInputError
from src.services.admin_service import AdminService
from src.services.admin_types import UserCard
from src.services.payment_service import PaymentService

USER_CARD_PAGE = 5
PAYMENTS_SHOWN = 5


async def _with_payments(
    t: Translator,
    card: UserCard,
    rules: PointsRules,
    admin_service: AdminService,
    payments: PaymentService,
) -> str:
    """The card, then the user's latest payments (if any)."""
    text = user_card_text(t, card, rules, timezone=admin_service.timezone)
    bought = await payments.user_payments(card.user.telegram_id, limit=PAYMENTS_SHOWN)
    return "\n".join([text, *user_payments_lines(t, bought, admin_service.timezone)])


async def cmd_user(
    message: Message,
    command: CommandObject,
    t: Translator,
    admin_service: AdminService,
    rules: PointsRules,
    payments: PaymentService,
) -> None:
    try:
        card = await admin_service.user_card(user_ref=command.args or "", page_size=USER_CARD_PAGE)
    except AdminInputError as error:
        await message.answer(error_text(t, error, usage=UsageTopic.USER))
        return
    text = await _with_payments(t, card, rules, admin_service, payments)
    uid = card.user.telegram_id
    await message.answer(text, reply_markup=user_card_keyboard(t, uid, card.page, card.pages))


async def on_user_card(
    query: CallbackQuery,
    callback_data: UserCardCb,
    t: Translator,
    admin_service: AdminService,
    rules: PointsRules,
    payments: PaymentService,
) -> None:
    try:
        card = await admin_service.user_card(
            user_ref=callback_data.user_id, page=callback_data.page, page_size=USER_CARD_PAGE
        )
    except AdminInputError as error:
        await alert(query, error_alert(t, error))
        return
    text = await _with_payments(t, card, rules, admin_service, payments)
    markup = user_card_keyboard(t, card.user.telegram_id, card.page, card.pages)
    if callback_data.fresh:  # opened from another screen: the card is a message of its own
        await send_screen(query, text, markup)
    else:
        await show_screen(query, text, markup)


def create_router() -> Router:
    router = Router(name=__name__)
    router.message.register(cmd_user, Command("points_user"))
    router.callback_query.register(on_user_card, UserCardCb.filter())
    return router
