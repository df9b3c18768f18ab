"""/subscribe (plan → period → method), Telegram Stars invoices and their payments, /paysupport.

Stars: `sendInvoice` in XTR with an empty provider token (one-off), or `createInvoiceLink` with
`subscription_period` (the monthly plan, renewed by Telegram). The `pre_checkout_query` is
checked against the pending purchase and answered at once; `successful_payment` (also each
renewal, `is_recurring`) completes it through PaymentService, keyed by
`telegram_payment_charge_id`; a `refunded_payment` reverses it. Other methods (TON,
NOWPayments) are gateways from the context: their invoice is a URL button.
"""

from __future__ import annotations

from decimal import Decimal

import structlog
from aiogram import Bot, F, Router
from aiogram.exceptions import TelegramAPIError
from aiogram.filters import Command
from aiogram.types import (
    CallbackQuery,
    InlineKeyboardMarkup,
    LabeledPrice,
    Message,
    PreCheckoutQuery,
)

from config.payment_rules import PAID_TIERS, PERIODS
from config.points_config import PointsRules
from config.settings import Settings
from src.bot.keyboards.payments import (
    SubAction,
    SubCb,
    methods_keyboard,
    pay_keyboard,
    periods_keyboard,
    tiers_keyboard,
)
from src.bot.middlewares.user import NEEDS_USER
from src.bot.payment_notifier import PaymentNotifier
from src.bot.screens import alert, show_screen
from src.bot.views.payments import (
    method_button,
    price_text,
    subscribe_text,
    transfer_details,
    until,
)
from src.locales import Translator
from src.services.payment_providers import Gateway, GatewayError
from src.services.payment_service import PaymentService
from src.services.payment_types import (
    DowngradeRefusedError,
    PaymentError,
    PendingPurchase,
    Provider,
)
from src.services.user_types import UserProfile

log = structlog.get_logger(__name__)

STARS_SUBSCRIPTION_PERIOD = 2_592_000  # 30 days: the only period Telegram accepts
STARS_MONTHLY = "stars_monthly"
Gateways = dict[Provider, Gateway]


async def _menu(
    user: UserProfile, payments: PaymentService, t: Translator, rules: PointsRules, tz: str
) -> tuple[str, InlineKeyboardMarkup]:
    state = await payments.subscription_state(user.telegram_id)
    renewal = None
    if state.stars_subscription is not None:
        renewal = not state.stars_subscription_canceled
    stars = payments.monthly_prices(Provider.STARS)
    return subscribe_text(t, state, rules, tz), tiers_keyboard(t, stars, renewal)


async def cmd_subscribe(
    message: Message,
    user: UserProfile,
    payments: PaymentService,
    t: Translator,
    rules: PointsRules,
    settings: Settings,
) -> None:
    text, markup = await _menu(user, payments, t, rules, settings.timezone)
    await message.answer(text, reply_markup=markup)


async def on_menu(
    query: CallbackQuery,
    user: UserProfile,
    payments: PaymentService,
    t: Translator,
    rules: PointsRules,
    settings: Settings,
) -> None:
    text, markup = await _menu(user, payments, t, rules, settings.timezone)
    await show_screen(query, text, markup)


async def on_tier(
    query: CallbackQuery,
    callback_data: SubCb,
    user: UserProfile,
    payments: PaymentService,
    t: Translator,
    settings: Settings,
) -> None:
    tier = callback_data.tier
    if tier not in PAID_TIERS:
        await alert(query, t("sub-plan-unavailable"))
        return
    if payments.downgrade_refused(
        tier=tier, current_tier=user.tier, current_expires=user.tier_expires_at
    ):
        assert user.tier_expires_at is not None
        when = until(user.tier_expires_at, t.language, settings.timezone)
        await alert(query, t("sub-downgrade", current=user.tier, until=when))
        return
    stars = {m: payments.price(Provider.STARS, tier, m)[0] for m in PERIODS}
    await show_screen(query, t("sub-period-title", tier=tier), periods_keyboard(t, tier, stars))


def _methods(
    t: Translator, payments: PaymentService, gateways: Gateways, tier: str, months: int
) -> list[tuple[str, str]]:
    """(method, button text): Stars always, its monthly subscription for one month, then every
    configured gateway."""
    price, currency = payments.price(Provider.STARS, tier, months)
    methods = [(Provider.STARS.value, method_button(t, Provider.STARS, price, currency))]
    if months == 1:
        methods.append((STARS_MONTHLY, method_button(t, STARS_MONTHLY, price, currency)))
    for provider in (Provider.TON, Provider.NOWPAYMENTS):
        if provider in gateways:
            price, currency = payments.price(provider, tier, months)
            methods.append((provider.value, method_button(t, provider, price, currency)))
    return methods


async def on_period(
    query: CallbackQuery,
    callback_data: SubCb,
    payments: PaymentService,
    t: Translator,
    gateways: Gateways,
) -> None:
    tier, months = callback_data.tier, callback_data.months
    if tier not in PAID_TIERS or months not in PERIODS:
        await alert(query, t("sub-plan-unavailable"))
        return
    title = t("sub-method-title", tier=tier, months=t("months", count=months))
    methods = _methods(t, payments, gateways, tier, months)
    await show_screen(query, title, methods_keyboard(t, tier, months, methods))


async def on_pay(
    query: CallbackQuery,
    callback_data: SubCb,
    bot: Bot,
    user: UserProfile,
    payments: PaymentService,
    t: Translator,
    gateways: Gateways,
    settings: Settings,
) -> None:
    method, tier, months = callback_data.method, callback_data.tier, callback_data.months
    monthly = method == STARS_MONTHLY
    try:
        provider = Provider.STARS if monthly else Provider(method)
    except ValueError:
        provider = None
    if provider is None or (provider is not Provider.STARS and provider not in gateways):
        await alert(query, t("sub-method-unavailable"))
        return
    try:
        purchase = await payments.create_purchase(
            user.telegram_id, tier, months, provider, recurring=monthly
        )
    except DowngradeRefusedError as exc:
        when = until(exc.expires_at, t.language, settings.timezone)
        await alert(query, t("sub-downgrade", current=exc.current, until=when))
        return
    except PaymentError:
        await alert(query, t("sub-plan-unavailable"))
        return
    await query.answer()
    await _send_invoice(bot, user.telegram_id, purchase, t, gateways, payments)


async def _send_invoice(
    bot: Bot,
    chat_id: int,
    purchase: PendingPurchase,
    t: Translator,
    gateways: Gateways,
    payments: PaymentService,
) -> None:
    months = t("months", count=purchase.months)
    if purchase.provider is Provider.STARS:
        bonus = payments.bonus_for(purchase.tier, purchase.months)
        title = t("sub-invoice-title", tier=purchase.tier, months=months)
        description = t("sub-invoice-description", tier=purchase.tier, months=months, bonus=bonus)
        prices = [
            LabeledPrice(
                label=t("sub-invoice-label", tier=purchase.tier, months=months),
                amount=int(purchase.price),
            )
        ]
        if not purchase.recurring:
            await bot.send_invoice(
                chat_id, title, description, purchase.reference, "XTR", prices, provider_token=""
            )
            return
        url = await bot.create_invoice_link(
            title,
            description,
            purchase.reference,
            "XTR",
            prices,
            provider_token="",
            subscription_period=STARS_SUBSCRIPTION_PERIOD,
        )
        price = price_text(purchase.price, t.language)
        text = t("sub-subscription-link", tier=purchase.tier, price=price)
        await bot.send_message(chat_id, text, reply_markup=pay_keyboard(t, url))
        return
    try:
        invoice = await gateways[purchase.provider].create_invoice(purchase, language=t.language)
    except GatewayError as exc:
        log.warning("invoice not created", provider=purchase.provider.value, reason=str(exc))
        await bot.send_message(chat_id, t("sub-gateway-failed"))
        return
    text = t(
        "sub-pay-link",
        price=price_text(invoice.amount or purchase.price, t.language),
        currency=invoice.currency or purchase.currency,
        tier=purchase.tier,
        months=months,
        minutes=payments.offer_minutes,
    )
    text += transfer_details(t, invoice)  # TON: the address and the comment, for any wallet
    await bot.send_message(chat_id, text, reply_markup=pay_keyboard(t, invoice.url))


async def on_pre_checkout(
    pre_checkout_query: PreCheckoutQuery, payments: PaymentService, t: Translator
) -> None:
    """Answered at once (Telegram cancels the payment after 10 s without an answer)."""
    verdict = await payments.check_checkout(
        reference=pre_checkout_query.invoice_payload,
        user_id=pre_checkout_query.from_user.id,
        amount=Decimal(pre_checkout_query.total_amount),
        currency=pre_checkout_query.currency,
    )
    if verdict.ok:
        await pre_checkout_query.answer(ok=True)
    else:
        await pre_checkout_query.answer(
            ok=False, error_message=t(f"checkout-refused-{verdict.reason}")
        )


async def on_successful_payment(
    message: Message, bot: Bot, payments: PaymentService, settings: Settings
) -> None:
    paid = message.successful_payment
    assert paid is not None
    outcome = await payments.complete_purchase(
        provider=Provider.STARS,
        provider_payment_id=paid.telegram_payment_charge_id,
        reference=paid.invoice_payload,
        amount=Decimal(paid.total_amount),
        currency=paid.currency,
        raw=paid.model_dump(mode="json", exclude_none=True),
    )
    await PaymentNotifier(bot, timezone=settings.timezone).completed(outcome)


async def on_refunded_payment(
    message: Message, bot: Bot, payments: PaymentService, settings: Settings
) -> None:
    """Telegram tells the bot about a refund (also one made by an admin's /points_refund:
    then the refund is already recorded and this changes nothing)."""
    refunded = message.refunded_payment
    assert refunded is not None
    outcome = await payments.refund(
        provider=Provider.STARS,
        provider_payment_id=refunded.telegram_payment_charge_id,
        raw=refunded.model_dump(mode="json", exclude_none=True),
    )
    await PaymentNotifier(bot, timezone=settings.timezone).refunded(outcome)


async def on_renewal(
    query: CallbackQuery,
    callback_data: SubCb,
    bot: Bot,
    user: UserProfile,
    payments: PaymentService,
    t: Translator,
    rules: PointsRules,
    settings: Settings,
) -> None:
    """Turn a Stars subscription's monthly renewal off (on=0) or back on (on=1)."""
    state = await payments.subscription_state(user.telegram_id)
    sub, charge = state.stars_subscription, state.stars_charge_id
    if sub is None or charge is None:
        await alert(query, t("button-stale"))
        return
    cancel = not callback_data.on
    try:
        await bot.edit_user_star_subscription(user.telegram_id, charge, is_canceled=cancel)
    except TelegramAPIError as exc:
        log.warning("star subscription not changed", user_id=user.telegram_id, reason=str(exc))
        await alert(query, t("sub-renewal-failed"))
        return
    await payments.set_subscription_canceled(purchase_id=sub.id, canceled=cancel)
    text, markup = await _menu(user, payments, t, rules, settings.timezone)
    notice = t("sub-renewal-off" if cancel else "sub-renewal-on")
    await show_screen(query, text, markup, notice=notice)


def create_router() -> Router:
    router = Router(name=__name__)
    router.message.register(cmd_subscribe, Command("subscribe"), flags=NEEDS_USER)
    router.callback_query.register(
        on_menu, SubCb.filter(F.action == SubAction.MENU), flags=NEEDS_USER
    )
    router.callback_query.register(
        on_tier, SubCb.filter(F.action == SubAction.TIER), flags=NEEDS_USER
    )
    router.callback_query.register(on_period, SubCb.filter(F.action == SubAction.PERIOD))
    router.callback_query.register(
        on_pay, SubCb.filter(F.action == SubAction.PAY), flags=NEEDS_USER
    )
    router.callback_query.register(
        on_renewal, SubCb.filter(F.action == SubAction.RENEWAL), flags=NEEDS_USER
    )
    router.pre_checkout_query.register(on_pre_checkout)
    router.message.register(on_successful_payment, F.successful_payment)
    router.message.register(on_refunded_payment, F.refunded_payment)
    return router
