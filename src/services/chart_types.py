"""Plain data of the chart feature: timeframes, candles, the figures of an analysis, errors.

Everything here is a frozen dataclass of numbers and strings, so it crosses into the render
processes by pickling and up to the handlers without any library type attached.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class Timeframe(StrEnum):
    M15 = "15m"
    H1 = "1h"
    H4 = "4h"
    D1 = "1d"

    @property
    def seconds(self) -> int:
        return {"15m": 900, "1h": 3600, "4h": 14_400, "1d": 86_400}[self.value]

    @classmethod
    def parse(cls, text: str) -> Timeframe | None:
        try:
            return cls(text.strip().lower())
        except ValueError:
            return None


DEFAULT_TIMEFRAME = Timeframe.H4


@dataclass(frozen=True)
class Candles:
    """OHLCV, oldest first; `open_candle`: the last one is still forming."""

    symbol: str  # unified, e.g. "BTC/USDT"
    timeframe: Timeframe
    exchange: str  # the exchange's name as shown to users, e.g. "OKX"
    timestamps: tuple[int, ...]  # candle open times, ms since the epoch (UTC)
    open: tuple[float, ...]
    high: tuple[float, ...]
    low: tuple[float, ...]
    close: tuple[float, ...]
    volume: tuple[float, ...]
    open_candle: bool
    fetched_at: datetime


class Trend(StrEnum):
    UP = "up"
    DOWN = "down"
    SIDEWAYS = "sideways"


class RsiZone(StrEnum):
    OVERBOUGHT = "overbought"
    OVERSOLD = "oversold"
    NEUTRAL = "neutral"


@dataclass(frozen=True)
class Analysis:
    """The figures of the last candle; None where the history is too short for an indicator."""

    price: float
    change_pct: float  # last close against the previous candle's close
    rsi: float | None
    rsi_zone: RsiZone
    macd: float | None
    macd_signal: float | None
    macd_hist: float | None
    ema20: float | None
    ema50: float | None
    ema200: float | None
    bb_upper: float | None
    bb_middle: float | None
    bb_lower: float | None
    support: float
    resistance: float
    volume_ratio: float | None  # last volume / its 20-candle average
    trend: Trend
    open_candle: bool


@dataclass(frozen=True)
class ChartResult:
    """A served chart: the PNG and what the caption and the AI commentary are made of."""

    candles: Candles
    analysis: Analysis
    png: bytes


class ChartError(Exception):
    """Base of what a chart request can end in instead of a chart."""


class UnknownSymbolError(ChartError):
    """The text is not a symbol, or the exchange lists no such spot market."""


class ExchangeUnavailableError(ChartError):
    """The exchange is down, answered too slowly or refused us; `reason` says which."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason  # "down" | "timeout" | "rate_limited"


class NotEnoughHistoryError(ChartError):
    """Too few candles to analyse (a market listed minutes ago)."""
