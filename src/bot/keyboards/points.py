"""Inline keyboards and callback data of the user-facing screens."""

from __future__ import annotations

from enum import StrEnum

from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup, WebAppInfo

from src.bot.keyboards.fields import Page
from src.bot.keyboards.payments import SubAction, SubCb
from src.locales import Translator


class PointsAction(StrEnum):
    MAIN = "main"
    HISTORY = "history"
    TOP = "top"
    EARN = "earn"
    DAILY = "daily"


class PointsCb(CallbackData, prefix="pts"):
    action: PointsAction
    page: Page = 0


class LanguageCb(CallbackData, prefix="lang"):
    code: str


class MenuCb(CallbackData, prefix="menu"):
    item: str  # "language"


def _button(text: str, data: CallbackData) -> InlineKeyboardButton:
    return InlineKeyboardButton(text=text, callback_data=data.pack())


def points_keyboard(t: Translator, mini_app_url: str | None = None) -> InlineKeyboardMarkup:
    """The /points card's buttons; "📱 Open app" on top when the Mini App is configured
    (MINI_APP_URL) and the chat is private (Telegram refuses web_app buttons elsewhere)."""
    rows = [
        [
            _button(t("menu-history"), PointsCb(action=PointsAction.HISTORY)),
            _button(t("menu-top"), PointsCb(action=PointsAction.TOP)),
        ],
        [
            _button(t("menu-earn"), PointsCb(action=PointsAction.EARN)),
            _button(t("menu-daily"), PointsCb(action=PointsAction.DAILY)),
        ],
        [_button(t("menu-subscribe"), SubCb(action=SubAction.MENU))],
    ]
    if mini_app_url:
        app = InlineKeyboardButton(text=t("menu-app"), web_app=WebAppInfo(url=mini_app_url))
        rows.insert(0, [app])
    return InlineKeyboardMarkup(inline_keyboard=rows)


def welcome_keyboard(t: Translator) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [
                _button(t("menu-points"), PointsCb(action=PointsAction.MAIN)),
                _button(t("menu-daily"), PointsCb(action=PointsAction.DAILY)),
            ],
            [
                _button(t("menu-earn"), PointsCb(action=PointsAction.EARN)),
                _button(t("menu-language"), MenuCb(item="language")),
            ],
        ]
    )


def back_keyboard(t: Translator) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[[_button(t("button-back"), PointsCb(action=PointsAction.MAIN))]]
    )


def history_keyboard(t: Translator, page: int, pages: int) -> InlineKeyboardMarkup:
    nav: list[InlineKeyboardButton] = []
    if page > 0:
        nav.append(_button("◀", PointsCb(action=PointsAction.HISTORY, page=page - 1)))
    if page + 1 < pages:
        nav.append(_button("▶", PointsCb(action=PointsAction.HISTORY, page=page + 1)))
    rows = [nav] if nav else []
    rows.append([_button(t("button-back"), PointsCb(action=PointsAction.MAIN))])
    return InlineKeyboardMarkup(inline_keyboard=rows)


def language_keyboard() -> InlineKeyboardMarkup:
    # Language names are written in their own language on purpose, so anyone can find theirs.
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [
                _button("🇷🇺 Русский", LanguageCb(code="ru")),
                _button("🇬🇧 English", LanguageCb(code="en")),
            ]
        ]
    )
