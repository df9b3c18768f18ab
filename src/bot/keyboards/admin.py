"""Inline keyboards and callback data of the admin panel.

Every admin prefix starts with `adm` (see `is_admin_callback`), so the refusal router can tell
an admin button pressed (or forged) by a non-admin from any other stale button.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Final

from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup

from src.bot.keyboards.fields import Page
from src.locales import Translator

ADMIN_PREFIX: Final = "adm"
QUICK_GRANTS: Final = (100, 1000)
QUICK_DEDUCTS: Final = (100, 1000)
CHART_DAYS: Final = 30


class AnalyticsSection(StrEnum):
    OVERVIEW = "overview"
    DAY = "day"
    TYPES = "types"
    LEVELS = "levels"
    STREAKS = "streaks"
    TOP = "top"
    PAYMENTS = "payments"


class ConfigSection(StrEnum):
    RATES = "rates"
    TIERS = "tiers"
    STREAKS = "streaks"
    LIMITS = "limits"
    LEVELS = "levels"


class UsageTopic(StrEnum):
    GRANT = "grant"
    DEDUCT = "deduct"
    USER = "user"


class AdminMenuCb(CallbackData, prefix="adm"):
    pass


class AnalyticsCb(CallbackData, prefix="adm_an"):
    section: AnalyticsSection
    refresh: bool = False


class ChartCb(CallbackData, prefix="adm_ch"):
    days: int = CHART_DAYS


class ConfigCb(CallbackData, prefix="adm_cf"):
    section: ConfigSection


class UsageCb(CallbackData, prefix="adm_hp"):
    topic: UsageTopic


class UserCardCb(CallbackData, prefix="adm_us"):
    user_id: int  # the admin service answers "unknown user" to any id, however forged
    page: Page = 0
    fresh: bool = False  # True: send the card as a new message (keeps a result message intact)


class QuickGrantCb(CallbackData, prefix="adm_qg"):
    user_id: int  # the admin service answers "unknown user" to any id, however forged
    amount: int


class QuickDeductCb(CallbackData, prefix="adm_qd"):
    user_id: int  # the admin service answers "unknown user" to any id, however forged
    amount: int


class ConfirmCb(CallbackData, prefix="adm_ok"):
    action_id: int  # unknown or forged ids get the service's "no such action" alert


class CancelCb(CallbackData, prefix="adm_no"):
    action_id: int  # unknown or forged ids get the service's "no such action" alert


def is_admin_callback(data: str | None) -> bool:
    head = (data or "").split(":", 1)[0]
    return head == ADMIN_PREFIX or head.startswith(ADMIN_PREFIX + "_")


def _button(text: str, data: CallbackData) -> InlineKeyboardButton:
    return InlineKeyboardButton(text=text, callback_data=data.pack())


def _menu_row(t: Translator) -> list[InlineKeyboardButton]:
    return [_button(t("admin-button-menu"), AdminMenuCb())]


def menu_keyboard(t: Translator) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [
                _button(t("admin-menu-analytics"), AnalyticsCb(section=AnalyticsSection.OVERVIEW)),
                _button(t("admin-menu-chart"), ChartCb()),
            ],
            [_button(t("admin-menu-config"), ConfigCb(section=ConfigSection.RATES))],
            [
                _button(t("admin-menu-grant"), UsageCb(topic=UsageTopic.GRANT)),
                _button(t("admin-menu-deduct"), UsageCb(topic=UsageTopic.DEDUCT)),
                _button(t("admin-menu-user"), UsageCb(topic=UsageTopic.USER)),
            ],
        ]
    )


def back_to_menu_keyboard(t: Translator) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(inline_keyboard=[_menu_row(t)])


def _marked(t: Translator, key: str, current: bool) -> str:
    return f"• {t(key)}" if current else t(key)


def analytics_keyboard(t: Translator, section: AnalyticsSection) -> InlineKeyboardMarkup:
    tabs = [
        _button(_marked(t, f"admin-an-tab-{s.value}", s is section), AnalyticsCb(section=s))
        for s in AnalyticsSection
    ]
    return InlineKeyboardMarkup(
        inline_keyboard=[
            tabs[:4],
            tabs[4:],
            [
                _button(t("admin-button-refresh"), AnalyticsCb(section=section, refresh=True)),
                _button(t("admin-menu-chart"), ChartCb()),
            ],
            _menu_row(t),
        ]
    )


def config_keyboard(t: Translator, section: ConfigSection) -> InlineKeyboardMarkup:
    tabs = [
        _button(_marked(t, f"admin-config-tab-{s.value}", s is section), ConfigCb(section=s))
        for s in ConfigSection
    ]
    return InlineKeyboardMarkup(inline_keyboard=[tabs[:3], tabs[3:], _menu_row(t)])


def user_card_keyboard(t: Translator, user_id: int, page: int, pages: int) -> InlineKeyboardMarkup:
    rows: list[list[InlineKeyboardButton]] = []
    nav: list[InlineKeyboardButton] = []
    if page > 0:
        nav.append(_button("◀", UserCardCb(user_id=user_id, page=page - 1)))
    if page + 1 < pages:
        nav.append(_button("▶", UserCardCb(user_id=user_id, page=page + 1)))
    if nav:
        rows.append(nav)
    rows.append(
        [_button(f"+{a}", QuickGrantCb(user_id=user_id, amount=a)) for a in QUICK_GRANTS]
        + [_button(f"−{a}", QuickDeductCb(user_id=user_id, amount=a)) for a in QUICK_DEDUCTS]
    )
    rows.append(
        [
            _button(t("admin-button-refresh"), UserCardCb(user_id=user_id, page=page)),
            *_menu_row(t),
        ]
    )
    return InlineKeyboardMarkup(inline_keyboard=rows)


def confirm_keyboard(t: Translator, action_id: int) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [
                _button(t("admin-button-confirm"), ConfirmCb(action_id=action_id)),
                _button(t("admin-button-cancel"), CancelCb(action_id=action_id)),
            ]
        ]
    )


def open_card_keyboard(t: Translator, user_id: int) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [_button(t("admin-button-user-card"), UserCardCb(user_id=user_id, fresh=True))]
        ]
    )
