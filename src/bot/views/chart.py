"""The chart's caption: the figures of the analysis in the user's language (HTML)."""

from __future__ import annotations

import math
from datetime import UTC

from src.locales import Translator
from src.locales.dates import day_month_time
from src.locales.numbers import MINUS, NBSP
from src.services.chart_types import Analysis, ChartResult, RsiZone, Trend

_TREND = {
    Trend.UP: "chart-trend-up",
    Trend.DOWN: "chart-trend-down",
    Trend.SIDEWAYS: "chart-trend-sideways",
}
_RSI = {
    RsiZone.OVERBOUGHT: "chart-rsi-overbought",
    RsiZone.OVERSOLD: "chart-rsi-oversold",
    RsiZone.NEUTRAL: "chart-rsi-neutral",
}


def price(value: float | None, language: str) -> str:
    """A price with about five significant digits: 128,884 / 3.4521 / 0.00001234."""
    if value is None or math.isnan(value):
        return "—"
    magnitude = math.floor(math.log10(abs(value))) if value else 0
    digits = min(8, max(0, 4 - magnitude))
    text = f"{abs(value):,.{digits}f}"
    if language == "ru":
        text = text.replace(",", NBSP).replace(".", ",")
    return (MINUS if value < 0 else "") + text


def _fixed(value: float, language: str, digits: int, *, sign: bool = False) -> str:
    text = f"{abs(value):.{digits}f}"
    if language == "ru":
        text = text.replace(".", ",")
    prefix = MINUS if value < 0 else ("+" if sign and value > 0 else "")
    return prefix + text


def _macd_line(t: Translator, a: Analysis) -> str | None:
    if a.macd is None or a.macd_signal is None:
        return None
    key = "chart-macd-bullish" if a.macd >= a.macd_signal else "chart-macd-bearish"
    return t(key, macd=price(a.macd, t.language), signal=price(a.macd_signal, t.language))


def chart_caption(t: Translator, result: ChartResult) -> str:
    a, candles, lang = result.analysis, result.candles, t.language
    lines = [
        t(
            "chart-title",
            symbol=candles.symbol,
            timeframe=candles.timeframe.value,
            exchange=candles.exchange,
        ),
        t(
            "chart-price",
            price=price(a.price, lang),
            change=_fixed(a.change_pct, lang, 2, sign=True),
        ),
        t(_TREND[a.trend]),
    ]
    if a.rsi is not None:
        lines.append(t(_RSI[a.rsi_zone], rsi=_fixed(a.rsi, lang, 1)))
    if (macd := _macd_line(t, a)) is not None:
        lines.append(macd)
    lines.append(
        t(
            "chart-ema",
            ema20=price(a.ema20, lang),
            ema50=price(a.ema50, lang),
            ema200=price(a.ema200, lang),
        )
    )
    if a.bb_lower is not None and a.bb_upper is not None:
        lines.append(
            t("chart-bollinger", lower=price(a.bb_lower, lang), upper=price(a.bb_upper, lang))
        )
    lines.append(
        t("chart-levels", support=price(a.support, lang), resistance=price(a.resistance, lang))
    )
    if a.volume_ratio is not None:
        lines.append(t("chart-volume", ratio=_fixed(a.volume_ratio, lang, 2)))
    moment = day_month_time(candles.fetched_at.astimezone(UTC), lang)
    lines.append(t("chart-open-candle" if a.open_candle else "chart-closed-candle", time=moment))
    return "\n".join(lines)
