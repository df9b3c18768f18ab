"""The pure parts of /chart: symbols as users type them, timeframes, the exchange root
replaced for a proxy, the EXCHANGE setting, prices as each language writes them, and the
indicators of the recorded candles (TA-Lib) with the picture they make (mplfinance)."""

from __future__ import annotations

import asyncio
import os
import time
from datetime import UTC, datetime

import pytest

from config.settings import SettingsError, load_settings
from src.bot.views.chart import price
from src.services.chart_render import RENDER_NICENESS, ChartRenderer, analyse_and_render
from src.services.chart_types import Candles, RsiZone, Timeframe, Trend
from src.services.indicators import analyse
from src.services.market_data import _rebased, build_exchange, normalise_symbol
from tests.support.fake_exchange import load_fixture


@pytest.mark.parametrize(
    ("typed", "symbol"),
    [
        ("btc", "BTC/USDT"),
        ("BTC", "BTC/USDT"),
        ("btcusdt", "BTC/USDT"),
        ("BTC/USDT", "BTC/USDT"),
        (" eth-usdt ", "ETH/USDT"),
        ("sol_usdc", "SOL/USDC"),
        ("ethbtc", "ETH/BTC"),
        ("1000sats", "1000SATS/USDT"),
        ("usdt", "USDT/USDT"),  # a symbol in form; the exchange then says it has no such market
    ],
)
def test_symbols_are_normalised(typed: str, symbol: str) -> None:
    assert normalise_symbol(typed) == symbol


@pytest.mark.parametrize("typed", ["", "btc usdt", "<b>", "a/b/c", "x" * 30, "btc/", "$btc"])
def test_what_cannot_be_a_symbol_is_refused(typed: str) -> None:
    assert normalise_symbol(typed) is None


def test_timeframes() -> None:
    assert [Timeframe.parse(x) for x in ("15m", "1H", " 4h", "1d")] == list(Timeframe)
    assert Timeframe.parse("2h") is None and Timeframe.parse("1w") is None
    assert Timeframe.H4.seconds == 14_400


def test_exchange_api_url_replaces_the_public_root_and_keeps_paths() -> None:
    assert _rebased({"rest": "https://{hostname}"}, "http://127.0.0.1:9") == {
        "rest": "http://127.0.0.1:9"
    }
    binance_like = {
        "public": "https://api.binance.com/api/v3",
        "sapi": "https://api.binance.com/sapi/v1",
    }
    assert _rebased(binance_like, "http://proxy:8080") == {
        "public": "http://proxy:8080/api/v3",
        "sapi": "http://proxy:8080/sapi/v1",
    }
    exchange = build_exchange("okx", api_url="http://127.0.0.1:9/", timeout_seconds=3)
    assert exchange.urls["api"] == {"rest": "http://127.0.0.1:9"}
    assert exchange.timeout == 3000
    assert exchange.options["fetchMarkets"] == {"types": ["spot"]}


def test_the_exchange_setting_is_a_ccxt_id() -> None:
    assert load_settings(_env_file=None, EXCHANGE=" Binance ").exchange == "binance"
    for bad in ("nope", "base", "__init__", "okx.py"):
        with pytest.raises(SettingsError, match="EXCHANGE"):
            load_settings(_env_file=None, EXCHANGE=bad)
    with pytest.raises(SettingsError, match="EXCHANGE_API_URL"):
        load_settings(_env_file=None, EXCHANGE_API_URL="ftp://x")
    with pytest.raises(SettingsError, match="CHART_RENDER_PROCESSES"):
        load_settings(_env_file=None, CHART_RENDER_PROCESSES="-1")


@pytest.mark.parametrize(
    ("value", "en", "ru"),
    [
        (128883.7, "128,884", "128\xa0884"),
        (3.45212, "3.4521", "3,4521"),
        (0.0000123456, "0.00001235", "0,00001235"),
        (-1961.4, "−1,961.4", "−1\xa0961,4"),
        (None, "—", "—"),
    ],
)
def test_prices_keep_about_five_significant_digits(value: float | None, en: str, ru: str) -> None:
    assert price(value, "en") == en and price(value, "ru") == ru


def fixture_candles(*, open_candle: bool = True) -> Candles:
    rows = list(reversed(load_fixture()))  # OKX sends newest first
    return Candles(
        symbol="BTC/USDT",
        timeframe=Timeframe.H4,
        exchange="OKX",
        timestamps=tuple(int(r[0]) for r in rows),
        open=tuple(float(r[1]) for r in rows),
        high=tuple(float(r[2]) for r in rows),
        low=tuple(float(r[3]) for r in rows),
        close=tuple(float(r[4]) for r in rows),
        volume=tuple(float(r[5]) for r in rows),
        open_candle=open_candle,
        fetched_at=datetime(2026, 3, 10, 12, 5, tzinfo=UTC),
    )


def test_indicators_of_the_recorded_candles() -> None:
    a = analyse(fixture_candles())
    assert a.price == 128883.7 and a.trend is Trend.UP and a.rsi_zone is RsiZone.NEUTRAL
    assert a.rsi == pytest.approx(51.16, abs=0.01)
    assert a.ema20 and a.ema50 and a.ema200 and a.ema20 > a.ema50 > a.ema200
    assert a.macd is not None and a.macd_signal is not None and a.macd < a.macd_signal
    assert a.bb_lower is not None and a.bb_upper is not None and a.bb_lower < a.price < a.bb_upper
    assert a.support < a.price < a.resistance
    assert a.open_candle


def test_short_history_leaves_the_long_indicators_out() -> None:
    full = fixture_candles()
    short = Candles(
        **{
            **full.__dict__,
            **{
                k: getattr(full, k)[-60:]
                for k in ("timestamps", "open", "high", "low", "close", "volume")
            },
        }
    )
    a = analyse(short)
    assert a.ema200 is None and a.ema50 is not None and a.rsi is not None


def test_the_reused_figure_keeps_nothing_of_the_last_chart() -> None:
    full = fixture_candles()
    short = Candles(
        **{
            **full.__dict__,
            "timeframe": Timeframe.D1,
            **{
                k: getattr(full, k)[-40:]
                for k in ("timestamps", "open", "high", "low", "close", "volume")
            },
        }
    )
    first = analyse_and_render(full)[1]
    analyse_and_render(short)
    assert analyse_and_render(full)[1] == first


def test_the_picture_is_a_png_of_a_sensible_size() -> None:
    analysis, png = analyse_and_render(fixture_candles())
    assert png.startswith(b"\x89PNG\r\n\x1a\n") and 20_000 < len(png) < 400_000
    assert analysis.price == 128883.7


async def test_render_processes_yield_the_cpu_to_the_bot() -> None:
    """A burst of charts must not starve the event loop: the render processes run niced."""
    renderer = ChartRenderer(processes=1)
    try:
        _, png = await renderer.render(fixture_candles())
        assert png.startswith(b"\x89PNG")
        loop = asyncio.get_running_loop()
        theirs = await loop.run_in_executor(renderer._pool(), os.nice, 0)
        assert theirs >= os.nice(0) + RENDER_NICENESS or theirs == 19  # 19: the ceiling
    finally:
        await renderer.aclose()


async def test_the_rate_limiter_lets_a_burst_out_and_keeps_okx_under_its_limit() -> None:
    exchange = build_exchange("okx", api_url=None, timeout_seconds=5)
    try:
        started = time.perf_counter()
        for _ in range(8):  # eight charts at once: no queueing
            await exchange.throttle(0.5)  # okx's cost of a market/candles call
        assert time.perf_counter() - started < 0.05
        # any one second: at most 18 candle calls (OKX allows 40 per 2 s)
        assert exchange.throttler.config["maxWeight"] / 0.5 <= 20
    finally:
        await exchange.close()
