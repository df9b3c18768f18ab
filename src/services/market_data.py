"""Market data through ccxt (async): one exchange client per process, spot markets only.

- `normalise_symbol("btcusdt")` -> "BTC/USDT": the forms users type (btc, BTC, btcusdt,
  BTC/USDT, eth-usdt) become ccxt's unified symbol; a bare coin is quoted in USDT.
- `MarketData.candles(symbol, timeframe)`: OHLCV oldest first, the last candle marked open
  when its period has not ended. Cached per (symbol, timeframe) for EXCHANGE_CACHE_SECONDS,
  and concurrent requests for the same pair share one exchange call.
- Only the spot market list is loaded (okx: one `public/instruments?instType=SPOT` call), once
  per process and again after MARKETS_TTL; a failed load is retried by the next request.
- Every exchange failure becomes `ExchangeUnavailableError` with reason "down", "timeout" or
  "rate_limited", logged once here; a symbol the exchange does not list is `UnknownSymbolError`.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any, TypeVar
from urllib.parse import urlsplit

import structlog

from src.services.chart_types import (
    Candles,
    ExchangeUnavailableError,
    NotEnoughHistoryError,
    Timeframe,
    UnknownSymbolError,
)

log = structlog.get_logger(__name__)
T = TypeVar("T")

HISTORY = 300  # candles per request: EMA 200 needs 200, okx serves up to 300 at once
MARKETS_TTL = 3600.0
QUOTES = ("USDT", "USDC", "USD", "EUR", "BTC", "ETH")
_SYMBOL = re.compile(r"[A-Z0-9]{1,20}(/[A-Z0-9]{2,10})?")
# Spot only: ccxt's okx loads spot, futures, swaps and options by default (four calls).
SPOT_ONLY: dict[str, Any] = {"fetchMarkets": {"types": ["spot"]}, "defaultType": "spot"}
# ccxt's limiter with its own rate per exchange, counted over any one second instead of as a
# leaky bucket: the same requests per second, but a burst (eight charts at once) goes out
# together instead of one every 55 ms. On okx that is at most 18 candle requests in any
# second, under OKX's own 40 per 2 s.
RATE_LIMITER: dict[str, Any] = {"rateLimiterAlgorithm": "rollingWindow", "rollingWindowSize": 1000}


def normalise_symbol(text: str) -> str | None:
    """The unified spot symbol for what a user typed, or None if it cannot be one."""
    raw = text.strip().upper().replace("-", "/").replace("_", "/")
    if not _SYMBOL.fullmatch(raw):
        return None
    if "/" in raw:
        return raw
    for quote in QUOTES:
        if raw.endswith(quote) and len(raw) > len(quote):
            return f"{raw[: -len(quote)]}/{quote}"
    return f"{raw}/USDT"


def build_exchange(
    exchange_id: str, *, api_url: str | None, timeout_seconds: float
) -> Any:  # a ccxt.async_support.Exchange; ccxt ships no type hints
    import ccxt.async_support as ccxt

    exchange_class = getattr(ccxt, exchange_id)
    exchange = exchange_class(
        {
            "enableRateLimit": True,
            **RATE_LIMITER,
            "timeout": int(timeout_seconds * 1000),
            "options": SPOT_ONLY,
        }
    )
    if api_url:
        exchange.urls["api"] = _rebased(exchange.urls["api"], api_url.rstrip("/"))
    return exchange


def _rebased(urls: Any, root: str) -> Any:
    """The exchange's API URLs with their scheme and host replaced by `root` (paths kept)."""
    if isinstance(urls, dict):
        return {key: _rebased(value, root) for key, value in urls.items()}
    if isinstance(urls, str):
        return root + urlsplit(urls).path
    return urls


def _reason(exc: Exception) -> str | None:
    import ccxt.async_support as ccxt

    if isinstance(exc, ccxt.RateLimitExceeded | ccxt.DDoSProtection):
        return "rate_limited"
    if isinstance(exc, ccxt.RequestTimeout | TimeoutError):
        return "timeout"
    if isinstance(exc, ccxt.BaseError):
        return "down"
    return None


class MarketData:
    def __init__(
        self,
        exchange: Any,
        *,
        timeout_seconds: float,
        cache_seconds: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._exchange = exchange
        self._timeout = timeout_seconds
        self._cache_seconds = cache_seconds
        self._clock = clock
        self._cache: dict[tuple[str, Timeframe], tuple[float, Candles]] = {}
        self._inflight: dict[tuple[str, Timeframe], asyncio.Task[Candles]] = {}
        self._markets_at: float | None = None

    @property
    def exchange_name(self) -> str:
        return str(getattr(self._exchange, "name", None) or self._exchange.id)

    async def aclose(self) -> None:
        for task in self._inflight.values():
            task.cancel()
        await self._exchange.close()

    async def resolve(self, text: str) -> str:
        """The exchange's spot symbol for `text`; UnknownSymbolError if it lists none."""
        symbol = normalise_symbol(text)
        if symbol is None:
            raise UnknownSymbolError(text)
        markets = await self._markets()
        market = markets.get(symbol)
        if market is None or not market.get("spot") or market.get("active") is False:
            raise UnknownSymbolError(text)
        return symbol

    async def candles(self, symbol: str, timeframe: Timeframe) -> Candles:
        key = (symbol, timeframe)
        cached = self._cache.get(key)
        if cached is not None and self._clock() - cached[0] < self._cache_seconds:
            return cached[1]
        task = self._inflight.get(key)
        if task is None:
            task = asyncio.create_task(self._fetch(symbol, timeframe))
            self._inflight[key] = task
            task.add_done_callback(lambda _: self._inflight.pop(key, None))
        return await asyncio.shield(task)  # one caller giving up does not cancel the others

    async def _markets(self) -> dict[str, Any]:
        stale = self._markets_at is None or self._clock() - self._markets_at > MARKETS_TTL
        if stale:
            try:
                await self._call("load_markets", lambda: self._exchange.load_markets(reload=True))
                self._markets_at = self._clock()
            except ExchangeUnavailableError:
                if not self._exchange.markets:
                    raise  # nothing to fall back to; the next request tries again
        return dict(self._exchange.markets or {})

    async def _fetch(self, symbol: str, timeframe: Timeframe) -> Candles:
        rows = await self._call(
            "fetch_ohlcv",
            lambda: self._exchange.fetch_ohlcv(symbol, timeframe.value, limit=HISTORY),
            symbol=symbol,
            timeframe=timeframe.value,
        )
        rows = [row for row in rows if None not in row[:6]]
        if len(rows) < 30:
            raise NotEnoughHistoryError(symbol)
        candles = _candles(symbol, timeframe, self.exchange_name, rows)
        self._prune()
        self._cache[(symbol, timeframe)] = (self._clock(), candles)
        return candles

    def _prune(self) -> None:
        now = self._clock()
        for key in [k for k, (at, _) in self._cache.items() if now - at >= self._cache_seconds]:
            del self._cache[key]

    async def _call(self, what: str, call: Callable[[], Awaitable[T]], **context: Any) -> T:
        started = time.perf_counter()
        try:
            async with asyncio.timeout(self._timeout):
                return await call()
        except Exception as exc:
            reason = _reason(exc)
            if reason is None:
                raise
            log.warning(
                "exchange request failed",
                exchange=self._exchange.id,
                call=what,
                reason=reason,
                error=f"{type(exc).__name__}: {str(exc)[:200]}",
                seconds=round(time.perf_counter() - started, 3),
                **context,
            )
            raise ExchangeUnavailableError(reason, type(exc).__name__) from exc


def _candles(symbol: str, timeframe: Timeframe, exchange: str, rows: list[list[Any]]) -> Candles:
    rows = sorted(rows, key=lambda row: row[0])
    now_ms = time.time() * 1000
    last_open = rows[-1][0]
    return Candles(
        symbol=symbol,
        timeframe=timeframe,
        exchange=exchange,
        timestamps=tuple(int(r[0]) for r in rows),
        open=tuple(float(r[1]) for r in rows),
        high=tuple(float(r[2]) for r in rows),
        low=tuple(float(r[3]) for r in rows),
        close=tuple(float(r[4]) for r in rows),
        volume=tuple(float(r[5]) for r in rows),
        open_candle=last_open + timeframe.seconds * 1000 > now_ms,
        fetched_at=datetime.now(UTC),
    )
