"""Buttons of /subscribe: plan, then period, then method; and the admin's refund confirmation."""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from enum import StrEnum

from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup

from config.payment_rules import PAID_TIERS, PERIODS
from src.locales import Translator


class SubAction(StrEnum):
    MENU = "menu"
    TIER = "tier"
    PERIOD = "period"
    PAY = "pay"
    RENEWAL = "renewal"  # turn a Stars subscription's renewal off (on=0) or on (on=1)


class SubCb(CallbackData, prefix="sub"):
    action: SubAction
    tier: str = ""
    months: int = 0
    method: str = ""  # "stars", "stars_monthly", "nowpayments", "ton"
    on: int = 0


class RefundCb(CallbackData, prefix="adm_rf"):  # "adm": admins only (is_admin_callback)
    payment_id: int
    confirm: bool


def _button(text: str, data: CallbackData) -> InlineKeyboardButton:
    return InlineKeyboardButton(text=text, callback_data=data.pack())


def back(t: Translator, data: SubCb) -> list[InlineKeyboardButton]:
    return [_button(t("button-back"), data)]


def tiers_keyboard(
    t: Translator, monthly_stars: dict[str, Decimal], renewal: bool | None
) -> InlineKeyboardMarkup:
    """One button per paid tier; `renewal` True/False adds turn-off/turn-on of a Stars
    subscription (None: the user has none)."""
    rows = [
        [
            _button(
                t("sub-tier-button", tier=tier, price=int(monthly_stars[tier])),
                SubCb(action=SubAction.TIER, tier=tier),
            )
        ]
        for tier in PAID_TIERS
    ]
    if renewal is not None:
        key, on = ("sub-cancel-renewal", 0) if renewal else ("sub-resume-renewal", 1)
        rows.append([_button(t(key), SubCb(action=SubAction.RENEWAL, on=on))])
    return InlineKeyboardMarkup(inline_keyboard=rows)


def periods_keyboard(t: Translator, tier: str, stars: dict[int, Decimal]) -> InlineKeyboardMarkup:
    rows = [
        [
            _button(
                t("sub-period-button", months=t("months", count=m), price=int(stars[m])),
                SubCb(action=SubAction.PERIOD, tier=tier, months=m),
            )
        ]
        for m in PERIODS
    ]
    rows.append(back(t, SubCb(action=SubAction.MENU)))
    return InlineKeyboardMarkup(inline_keyboard=rows)


def methods_keyboard(
    t: Translator, tier: str, months: int, methods: Iterable[tuple[str, str]]
) -> InlineKeyboardMarkup:
    """`methods`: (method, button text) in the order shown."""
    rows = [
        [_button(text, SubCb(action=SubAction.PAY, tier=tier, months=months, method=method))]
        for method, text in methods
    ]
    rows.append(back(t, SubCb(action=SubAction.TIER, tier=tier)))
    return InlineKeyboardMarkup(inline_keyboard=rows)


def pay_keyboard(t: Translator, url: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[[InlineKeyboardButton(text=t("sub-pay-button"), url=url)]]
    )


def refund_keyboard(t: Translator, payment_id: int) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [
                _button(t("admin-refund-confirm"), RefundCb(payment_id=payment_id, confirm=True)),
                _button(t("admin-refund-cancel"), RefundCb(payment_id=payment_id, confirm=False)),
            ]
        ]
    )
