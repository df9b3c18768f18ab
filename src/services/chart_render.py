"""The candlestick picture (mplfinance, Agg) and the processes that draw it off the event loop.

`analyse_and_render(candles)` is the whole CPU-bound half of a chart request: TA-Lib's
indicators and a PNG with candles, EMA 20/50/200, support and resistance, volume and an RSI
panel; the open candle is drawn grey. It runs in a `ChartRenderer`: a process pool of
CHART_RENDER_PROCESSES workers (spawned, each imports matplotlib once), so a render never
stalls the bot's event loop; 0 renders in a thread of this process instead (one at a time:
pyplot's state is global), for the console and tests where a process start costs more than
the render.

Each process builds its figure (three panels, their axes and ticks) once and empties it for
the next chart; volume is one collection of bars. That keeps a render at ~85 ms of CPU where
mplfinance's own panels (a new figure, six axes, a patch per volume bar) cost ~200 ms.

The picture carries no words, only numbers and the symbol, so it reads the same in every
language; the caption says the rest.
"""

from __future__ import annotations

import asyncio
import io
import multiprocessing
import os
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
MARGINS = {"left": 0.02, "right": 0.92, "top": 0.94, "bottom": 0.06}
BAR_HALF_WIDTH = 0.35
PNG_COMPRESSION = 1  # zlib level: 1 costs ~12 ms less than 3 for a file ~3 % larger
EMA_COLORS = {20: "#f9a825", 50: "#1e88e5", 200: "#8e24aa"}
OPEN_CANDLE_COLOR = "#9e9e9e"
RENDER_NICENESS = 10  # render processes yield the CPU to the bot's event loop
_pyplot = threading.Lock()


def _warm_up() -> None:
    """Pay the imports once per process (or thread), not on the first chart."""
    import matplotlib

    matplotlib.use("Agg")
    _blank_figure()  # imports mplfinance; the first chart finds its figure ready


def _start_render_process() -> None:
    """Pool initializer of a render process: a lower priority than the bot, so a burst of
    charts waits for CPU rather than the event loop that serves every other update; then the
    imports."""
    os.nice(RENDER_NICENESS)
    _warm_up()


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

    shown = slice(-SHOWN_CANDLES, None)
    frame = _frame(candles).iloc[shown]
    figure, (price, volume, rsi) = _figure()
    extra = [
        mpf.make_addplot(line[shown], color=EMA_COLORS[n], width=1.0, ax=price)
        for n, line in series.ema.items()
        if (~_nan(line[shown])).any()
    ]
    extra.append(mpf.make_addplot(series.rsi[shown], color="#6d4c41", ax=rsi, ylim=(0, 100)))
    overrides: list[str | None] = [None] * len(frame)
    if candles.open_candle:
        overrides[-1] = OPEN_CANDLE_COLOR
    mpf.plot(
        frame,
        type="candle",
        ax=price,
        addplot=extra,
        hlines={
            "hlines": [analysis.support, analysis.resistance],
            "colors": ["#2e7d32", "#c62828"],
            "linestyle": "--",
            "linewidths": 0.8,
        },
        marketcolor_overrides=overrides,
        ylabel="",
        datetime_format="%d.%m %H:%M" if candles.timeframe.seconds < 86_400 else "%d.%m.%y",
        xrotation=0,
    )
    _volume_bars(volume, frame, overrides)
    _rsi_guides(rsi)
    _tidy_axes(price, volume, rsi)
    figure.suptitle(_title(candles), fontweight="bold")
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=DPI, pil_kwargs={"compress_level": PNG_COMPRESSION})
    return buffer.getvalue()


def _figure() -> Any:
    """The process's figure, emptied of the last chart: its axes and their ticks are built
    once (building them is a third of a fresh figure's cost)."""
    figure, axes = _blank_figure()
    for ax in axes:
        for artist in [*ax.lines, *ax.collections, *ax.patches, *ax.texts]:
            artist.remove()
        ax.relim()
        ax.autoscale()
    return figure, axes


@cache
def _blank_figure() -> Any:
    """One figure, three panels sharing the time axis: price 5, volume 1.4, RSI 1.6."""
    import mplfinance as mpf

    figure = mpf.figure(style=_style(), figsize=FIGURE_SIZE)
    grid = figure.add_gridspec(3, 1, height_ratios=(5, 1.4, 1.6), hspace=0.06, **MARGINS)
    price = figure.add_subplot(grid[0])
    volume = figure.add_subplot(grid[1], sharex=price)
    rsi = figure.add_subplot(grid[2], sharex=price)
    for ax in (price, volume, rsi):
        # The axes carry no label; a fixed label position spares matplotlib measuring every
        # tick label of the three shared axes to place it, on each draw (~17 ms a chart).
        ax.xaxis.set_label_coords(0.5, 0.0)
        ax.yaxis.set_label_coords(1.0, 0.5)
    return figure, (price, volume, rsi)


def _volume_bars(ax: Any, frame: Any, overrides: list[str | None]) -> None:
    """Volume as one collection of bars (not a patch per bar: a tenth of the drawing cost)."""
    import numpy as np
    from matplotlib.collections import PolyCollection

    colors = _style()["marketcolors"]["volume"]
    values = frame["Volume"].to_numpy()
    rising = frame["Close"].to_numpy() >= frame["Open"].to_numpy()
    faces = [
        override or (colors["up"] if up else colors["down"])
        for override, up in zip(overrides, rising, strict=True)
    ]
    x = np.arange(len(values), dtype=np.float64)
    left, right = x - BAR_HALF_WIDTH, x + BAR_HALF_WIDTH
    zero = np.zeros_like(values)
    verts = np.stack(
        [np.c_[left, zero], np.c_[left, values], np.c_[right, values], np.c_[right, zero]], axis=1
    )
    ax.add_collection(PolyCollection(list(verts), facecolors=faces, linewidths=0))
    ax.set_ylim(0, float(values.max()) * 1.08 or 1.0)


def _rsi_guides(ax: Any) -> None:
    for level in (30, 70):
        ax.axhline(level, color="#bdbdbd", linestyle="--", linewidth=0.8)
    ax.set_ylim(0, 100)
    ax.set_yticks([30, 70])


def _tidy_axes(price: Any, volume: Any, rsi: Any) -> None:
    """Values on the right as in the price panel, dates under the last panel only."""
    from matplotlib.ticker import FuncFormatter, MaxNLocator

    for ax in (volume, rsi):
        ax.yaxis.tick_right()
    volume.yaxis.set_major_locator(MaxNLocator(2))
    volume.yaxis.set_major_formatter(FuncFormatter(_compact))
    for ax in (price, volume):
        ax.tick_params(axis="x", labelbottom=False)


def _compact(value: float, _position: object = None) -> str:
    for limit, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "K")):
        if abs(value) >= limit:
            return f"{value / limit:.3g}{suffix}"
    return f"{value:.3g}"


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
                    initializer=_start_render_process,
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
