"""The question put to the AI after a chart: the figures as context, a short answer wanted.

The assistant answers in the user's language (LLMClient's system prompt says which); the
figures go in as plain numbers so the model comments on exactly what the caption shows.
"""

from __future__ import annotations

from src.services.chart_types import ChartResult


def _figure(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.6g}"


def commentary_question(result: ChartResult) -> str:
    a, c = result.analysis, result.candles
    state = "still open (forming)" if a.open_candle else "closed"
    return "\n".join(
        [
            f"Technical snapshot of {c.symbol} on {c.exchange} spot, {c.timeframe.value} candles.",
            f"Price {_figure(a.price)}, {a.change_pct:+.2f}% on the last candle ({state}).",
            f"Trend by EMAs: {a.trend.value}. EMA20 {_figure(a.ema20)}, EMA50 {_figure(a.ema50)},"
            f" EMA200 {_figure(a.ema200)}.",
            f"RSI(14) {_figure(a.rsi)} ({a.rsi_zone.value}).",
            f"MACD(12,26,9) {_figure(a.macd)}, signal {_figure(a.macd_signal)},"
            f" histogram {_figure(a.macd_hist)}.",
            f"Bollinger(20,2) {_figure(a.bb_lower)} to {_figure(a.bb_upper)}.",
            f"Support {_figure(a.support)}, resistance {_figure(a.resistance)} (last 50 candles).",
            f"Volume {_figure(a.volume_ratio)} times its 20-candle average.",
            "",
            "In 3-4 short sentences for a trader: what these indicators say together and which"
            " levels to watch. Use only the figures above; no tables, no financial advice.",
        ]
    )
