"""The indicators of a chart, from TA-Lib (no indicator maths of our own).

RSI(14), MACD(12, 26, 9), EMA 20/50/200, Bollinger Bands(20, 2), the recent support and
resistance (the lowest low and highest high of the last LEVELS_WINDOW candles, TA-Lib's MIN and
MAX), and volume against its 20-candle average (TA-Lib's SMA). The open candle is included, as
trading terminals do; the caption says it is still forming.

Runs in the render processes (src/services/chart_render.py), never on the event loop.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np
import talib

from src.services.chart_types import Analysis, Candles, RsiZone, Trend

if TYPE_CHECKING:
    from numpy.typing import NDArray

LEVELS_WINDOW = 50
RSI_OVERBOUGHT = 70.0
RSI_OVERSOLD = 30.0
MIN_CANDLES = 30  # fewer: MACD and Bollinger would be mostly warm-up


class Series:
    """The indicator lines over the whole history (NaN during each one's warm-up)."""

    def __init__(self, candles: Candles) -> None:
        self.close = np.asarray(candles.close, dtype=np.float64)
        high = np.asarray(candles.high, dtype=np.float64)
        low = np.asarray(candles.low, dtype=np.float64)
        volume = np.asarray(candles.volume, dtype=np.float64)
        self.rsi = talib.RSI(self.close, timeperiod=14)
        self.macd, self.macd_signal, self.macd_hist = talib.MACD(
            self.close, fastperiod=12, slowperiod=26, signalperiod=9
        )
        self.ema = {n: talib.EMA(self.close, timeperiod=n) for n in (20, 50, 200)}
        self.bb_upper, self.bb_middle, self.bb_lower = talib.BBANDS(
            self.close, timeperiod=20, nbdevup=2, nbdevdn=2
        )
        window = min(LEVELS_WINDOW, len(self.close))
        self.support = talib.MIN(low, timeperiod=window)
        self.resistance = talib.MAX(high, timeperiod=window)
        self.volume_average = talib.SMA(volume, timeperiod=20)
        self.volume = volume


def _last(values: NDArray[np.float64]) -> float | None:
    value = float(values[-1])
    return None if math.isnan(value) else value


def _trend(close: float, ema20: float | None, ema50: float | None) -> Trend:
    if ema20 is None or ema50 is None:
        return Trend.SIDEWAYS
    if close > ema50 and ema20 > ema50:
        return Trend.UP
    if close < ema50 and ema20 < ema50:
        return Trend.DOWN
    return Trend.SIDEWAYS


def _zone(rsi: float | None) -> RsiZone:
    if rsi is not None and rsi >= RSI_OVERBOUGHT:
        return RsiZone.OVERBOUGHT
    if rsi is not None and rsi <= RSI_OVERSOLD:
        return RsiZone.OVERSOLD
    return RsiZone.NEUTRAL


def analyse(candles: Candles, series: Series | None = None) -> Analysis:
    s = series or Series(candles)
    price, previous = float(s.close[-1]), float(s.close[-2])
    rsi = _last(s.rsi)
    ema20, ema50 = _last(s.ema[20]), _last(s.ema[50])
    volume_average = _last(s.volume_average)
    return Analysis(
        price=price,
        change_pct=(price / previous - 1.0) * 100.0 if previous else 0.0,
        rsi=rsi,
        rsi_zone=_zone(rsi),
        macd=_last(s.macd),
        macd_signal=_last(s.macd_signal),
        macd_hist=_last(s.macd_hist),
        ema20=ema20,
        ema50=ema50,
        ema200=_last(s.ema[200]),
        bb_upper=_last(s.bb_upper),
        bb_middle=_last(s.bb_middle),
        bb_lower=_last(s.bb_lower),
        support=float(s.support[-1]),
        resistance=float(s.resistance[-1]),
        volume_ratio=(float(s.volume[-1]) / volume_average) if volume_average else None,
        trend=_trend(price, ema20, ema50),
        open_candle=candles.open_candle,
    )
