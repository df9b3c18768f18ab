"""Serving a chart: one call, `serve(symbol_text, timeframe)`, from what the user typed to a
PNG and its figures. The handlers (and whatever decides whether a request may be served)
need nothing else.

Fetching is async I/O on the event loop (MarketData); indicators and drawing are CPU work in
the render processes (ChartRenderer), so charts never stall other users' updates.
"""

from __future__ import annotations

import time

import structlog

from src.services.chart_render import ChartRenderer
from src.services.chart_types import ChartResult, Timeframe
from src.services.market_data import MarketData

log = structlog.get_logger(__name__)


class ChartService:
    def __init__(self, *, market: MarketData, renderer: ChartRenderer) -> None:
        self.market = market
        self.renderer = renderer

    @property
    def exchange_name(self) -> str:
        return self.market.exchange_name

    async def serve(self, symbol_text: str, timeframe: Timeframe) -> ChartResult:
        """Raises UnknownSymbolError, ExchangeUnavailableError or NotEnoughHistoryError."""
        started = time.perf_counter()
        symbol = await self.market.resolve(symbol_text)
        candles = await self.market.candles(symbol, timeframe)
        fetched = time.perf_counter()
        analysis, png = await self.renderer.render(candles)
        log.info(
            "chart rendered",
            symbol=symbol,
            timeframe=timeframe.value,
            fetch_ms=round((fetched - started) * 1000, 1),
            render_ms=round((time.perf_counter() - fetched) * 1000, 1),
            png_bytes=len(png),
        )
        return ChartResult(candles=candles, analysis=analysis, png=png)

    def start(self) -> None:
        """Start the render workers in the background (see ChartRenderer.start)."""
        self.renderer.start()

    async def aclose(self) -> None:
        await self.market.aclose()
        await self.renderer.aclose()
