"""The candlestick picture (mplfinance, Agg) and the processes that draw it off the event loop.

`analyse_and_render(candles)` is the whole CPU-bound half of a chart request: TA-Lib's
indicators and a PNG with candles, EMA 20/50/200, support and resistance, volume and an RSI
panel; the open candle is drawn grey. It runs in a `ChartRenderer`: a process pool of
CHART_RENDER_PROCESSES workers (spawned, each imports matplotlib once), so a render never
stalls the bot's event loop; 0 renders in a thread of this process instead (one at a time:
pyplot's state is global), for the console and tests where a process start costs more than
the render.

The picture carries no words, only numbers and the symbol, so it reads the same in every
language; the caption says the rest.
"""

from __future__ import annotations

import asyncio
import io
import multiprocessing
import threading
from concurrent.futures import Executor, ProcessPoolExecutor, ThreadPoolExecutor
from datetime import UTC, datetime
from functools import cache
from typing import Any

from src.services.chart_types import Analysis, Candles
from src.services.indicators import Series, analyse

SHOWN_CANDLES = 100  # drawn; the indicators see the whole history
FIGURE_SIZE = (10.0, 7.0)
DPI = 90
EMA_COLORS = {20: "#f9a825", 50: "#1e88e5", 200: "#8e24aa"}
OPEN_CANDLE_COLOR = "#9e9e9e"
_pyplot = threading.Lock()


def _warm_up() -> None:
    """Pool initializer: pay the imports once per process, not on the first chart."""
    import matplotlib

    matplotlib.use("Agg")
    import mplfinance  # noqa: F401


def analyse_and_render(candles: Candles) -> tuple[Analysis, bytes]:
    series = Series(candles)
    analysis = analyse(candles, series)
    with _pyplot:
        png = _render(candles, series, analysis)
    return analysis, png


def _frame(candles: Candles) -> Any:
    import pandas as pd

    index = pd.to_datetime(list(candles.timestamps), unit="ms", utc=True).tz_localize(None)
    return pd.DataFrame(
        {
            "Open": candles.open,
            "High": candles.high,
            "Low": candles.low,
            "Close": candles.close,
            "Volume": candles.volume,
        },
        index=index,
    )


def _render(candles: Candles, series: Series, analysis: Analysis) -> bytes:
    _warm_up()
    import mplfinance as mpf
    from matplotlib import pyplot

    shown = slice(-SHOWN_CANDLES, None)
    frame = _frame(candles).iloc[shown]
    extra = [
        mpf.make_addplot(line[shown], color=EMA_COLORS[n], width=1.0)
        for n, line in series.ema.items()
        if (~_nan(line[shown])).any()
    ]
    extra.append(mpf.make_addplot(series.rsi[shown], panel=2, color="#6d4c41", ylim=(0, 100)))
    for level in (30, 70):
        extra.append(
            mpf.make_addplot(
                [level] * len(frame), panel=2, color="#bdbdbd", linestyle="--", secondary_y=False
            )
        )
    overrides: list[str | None] = [None] * len(frame)
    if candles.open_candle:
        overrides[-1] = OPEN_CANDLE_COLOR
    figure, _ = mpf.plot(
        frame,
        type="candle",
        style=_style(),
        volume=True,
        addplot=extra,
        panel_ratios=(5, 1.4, 1.6),
        hlines={
            "hlines": [analysis.support, analysis.resistance],
            "colors": ["#2e7d32", "#c62828"],
            "linestyle": "--",
            "linewidths": 0.8,
        },
        marketcolor_overrides=overrides,
        title=_title(candles),
        ylabel="",
        ylabel_lower="",
        figsize=FIGURE_SIZE,
        datetime_format="%d.%m %H:%M" if candles.timeframe.seconds < 86_400 else "%d.%m.%y",
        xrotation=0,
        returnfig=True,
        scale_padding={"left": 0.2, "right": 0.9, "top": 0.6, "bottom": 0.6},
    )
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=DPI)
    pyplot.close(figure)
    return buffer.getvalue()


@cache
def _style() -> Any:
    import mplfinance as mpf

    # yahoo's look; its title weight "semibold" is not in the bundled font (a warning each time)
    return mpf.make_mpf_style(base_mpf_style="yahoo", rc={"figure.titleweight": "bold"})


def _nan(values: Any) -> Any:
    import numpy as np

    return np.isnan(values)


def _title(candles: Candles) -> str:
    moment = datetime.fromtimestamp(candles.timestamps[-1] / 1000, tz=UTC)
    return f"{candles.symbol} · {candles.timeframe.value} · {candles.exchange} · {moment:%Y-%m-%d %H:%M} UTC"


class ChartRenderer:
    """Where charts are drawn: `processes` spawned workers, or a thread when 0.

    Nothing starts until the first chart (or `start()`); `aclose()` stops the workers.
    """

    def __init__(self, processes: int) -> None:
        self.processes = processes
        self._executor: Executor | None = None

    def _pool(self) -> Executor:
        if self._executor is None:
            if self.processes > 0:
                self._executor = ProcessPoolExecutor(
                    max_workers=self.processes,
                    mp_context=multiprocessing.get_context("spawn"),
                    initializer=_warm_up,
                )
            else:
                self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="chart")
        return self._executor

    def start(self) -> None:
        """Start the workers in the background now, so the first chart does not wait for a
        process start and matplotlib's import (the benchmark does; the bot lets the first
        chart start them, not to load every start of the bot with ~1.5 s of imports each)."""
        pool = self._pool()
        for _ in range(max(1, self.processes)):
            pool.submit(_warm_up)

    async def render(self, candles: Candles) -> tuple[Analysis, bytes]:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._pool(), analyse_and_render, candles)

    async def aclose(self) -> None:
        executor, self._executor = self._executor, None
        if executor is not None:
            await asyncio.to_thread(executor.shutdown, wait=True, cancel_futures=True)
