"""The buttons under a chart: the four timeframes (the shown one marked) and Refresh."""

from __future__ import annotations

from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup

from src.locales import Translator
from src.services.chart_types import Timeframe


class ChartCb(CallbackData, prefix="chart"):
    """`chart:BTC/USDT:4h`; aiogram refuses a timeframe outside Timeframe (a forged or old
    button then meets the stale-button alert), the handler checks the symbol."""

    symbol: str
    tf: Timeframe


def chart_keyboard(t: Translator, symbol: str, shown: Timeframe) -> InlineKeyboardMarkup:
    frames = [
        InlineKeyboardButton(
            text=f"• {tf.value}" if tf is shown else tf.value,
            callback_data=ChartCb(symbol=symbol, tf=tf).pack(),
        )
        for tf in Timeframe
    ]
    refresh = InlineKeyboardButton(
        text=t("chart-refresh"), callback_data=ChartCb(symbol=symbol, tf=shown).pack()
    )
    return InlineKeyboardMarkup(inline_keyboard=[frames, [refresh]])
