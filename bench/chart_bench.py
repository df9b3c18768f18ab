"""/chart end to end, 8 at once: fetch (ccxt against the local fake OKX), indicators (TA-Lib),
render (mplfinance in the render processes) and send (sendPhoto, multipart, to the local fake
Bot API over HTTP), while a probe on the event loop measures its largest stall.

    ./manage.sh bench chart [--rounds 10] [--concurrency 8] [--processes 2] [--interval 1] [--json FILE]

Targets (issue: charts): p95 per chart <= 500 ms with 8 concurrent, no loop stall > 50 ms.
Baseline measured in the same run: one chart at a time (its p50), so the report gives the
ratio too. `--processes 0` draws in a thread of the bot instead (the stall that avoids).
The loop probe also runs 3 s with no chart at all: the machine's own scheduling noise, the
baseline of the stall figure. Candles are fetched every time (EXCHANGE_CACHE_SECONDS=0) across
distinct symbol/timeframe pairs: the cold path, the worst case; cached candles skip the fetch.

A burst starts every `--interval` seconds (default 1): eight candle calls a second, within
OKX's 20 a second for market/candles. Back to back (`--interval 0`) the bursts ask for more
than OKX allows, and ccxt's rate limiter rightly holds the excess back: that measures the
exchange's limit, not the bot.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import statistics
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from aiogram import Bot
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.types import BufferedInputFile

from config.settings import load_settings
from src.bootstrap import build_charts
from src.bot.keyboards.chart import chart_keyboard
from src.bot.views.chart import chart_caption
from src.locales import translator
from src.services.chart_service import ChartService
from src.services.chart_types import Timeframe
from tests.support.fake_exchange import INSTRUMENTS, FakeExchange
from tests.support.fake_telegram import FakeTelegram

TOKEN = "123456:BENCH"
PAIRS = [
    (inst.replace("-", "/"), tf)
    for inst, scale in INSTRUMENTS.items()
    if scale is not None
    for tf in Timeframe
]


class StallProbe:
    """Sleeps `tick` seconds over and over; how late it wakes is how long the loop was busy."""

    def __init__(self, tick: float = 0.005) -> None:
        self.tick = tick
        self.worst = 0.0
        self._task: asyncio.Task[None] | None = None

    async def _run(self) -> None:
        while True:
            started = time.perf_counter()
            await asyncio.sleep(self.tick)
            self.worst = max(self.worst, time.perf_counter() - started - self.tick)

    def __enter__(self) -> StallProbe:
        self._task = asyncio.get_running_loop().create_task(self._run())
        return self

    def __exit__(self, *_: object) -> None:
        if self._task is not None:
            self._task.cancel()


async def one_chart(charts: ChartService, bot: Bot, pair: tuple[str, Timeframe]) -> float:
    started = time.perf_counter()
    symbol, timeframe = pair
    result = await charts.serve(symbol, timeframe)
    t = translator("en")
    await bot.send_photo(
        42,
        BufferedInputFile(result.png, filename="chart.png"),
        caption=chart_caption(t, result),
        reply_markup=chart_keyboard(t, symbol, timeframe),
    )
    return time.perf_counter() - started


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(share * len(ordered)) - 1))]


def _serve_fakes(conn: Connection) -> None:
    """The fake exchange and Bot API, in their own process: their JSON, candle formatting and
    multipart parsing are not the bot's work, so they must not count in its loop's stall."""
    asyncio.run(_fakes(conn))


async def _fakes(conn: Connection) -> None:
    async with FakeExchange() as exchange, FakeTelegram(token=TOKEN) as telegram:
        conn.send((exchange.base_url, telegram.base_url))
        await asyncio.to_thread(conn.recv)  # until the bench is done
        conn.send(len(telegram.calls_to("sendPhoto")))


@contextmanager
def fakes_process() -> Iterator[tuple[tuple[str, str], Callable[[], int]]]:
    """(exchange URL, Bot API URL) and a call that stops the fakes and returns the photos sent."""
    ours, theirs = multiprocessing.Pipe()
    process = multiprocessing.get_context("spawn").Process(target=_serve_fakes, args=(theirs,))
    process.start()
    try:

        def finish() -> int:
            ours.send("stop")
            return int(ours.recv())

        yield ours.recv(), finish
    finally:
        process.join(timeout=10)
        if process.is_alive():
            process.kill()


async def measure(args: argparse.Namespace) -> dict[str, Any]:
    with fakes_process() as ((exchange_url, telegram_url), finish):
        settings = load_settings(
            _env_file=None,
            EXCHANGE="okx",
            EXCHANGE_API_URL=exchange_url,
            EXCHANGE_CACHE_SECONDS="0",
            CHART_RENDER_PROCESSES=str(args.processes),
        )
        charts = build_charts(settings)
        session = AiohttpSession(api=TelegramAPIServer.from_base(telegram_url))
        bot = Bot(TOKEN, session=session, default=DefaultBotProperties(parse_mode="HTML"))
        try:
            charts.start()
            for pair in PAIRS[: max(2, args.processes)]:  # warm: processes up, markets loaded
                await one_chart(charts, bot, pair)
            serial = [await one_chart(charts, bot, PAIRS[i % len(PAIRS)]) for i in range(6)]
            with StallProbe() as idle:  # the machine's own scheduling noise, no chart running
                await asyncio.sleep(3.0)
            latencies: list[float] = []
            with StallProbe() as probe:
                for round_ in range(args.rounds):
                    started = time.perf_counter()
                    batch = [
                        PAIRS[(round_ * args.concurrency + i) % len(PAIRS)]
                        for i in range(args.concurrency)
                    ]
                    latencies += await asyncio.gather(*(one_chart(charts, bot, p) for p in batch))
                    await asyncio.sleep(max(0.0, args.interval - (time.perf_counter() - started)))
            stall = probe.worst
        finally:
            await charts.aclose()
            await session.close()
        photos = finish()
    return report(args, serial, latencies, (stall, idle.worst), photos)


def report(
    args: argparse.Namespace,
    serial: list[float],
    latencies: list[float],
    stalls: tuple[float, float],
    photos: int,
) -> dict[str, Any]:
    stall, idle_stall = stalls
    ms = 1000.0
    p95 = percentile(latencies, 0.95)
    baseline = statistics.median(serial)
    return {
        "concurrency": args.concurrency,
        "rounds": args.rounds,
        "interval_s": args.interval,
        "render_processes": args.processes,
        "cpu_count": os.cpu_count(),
        "charts_sent": photos,
        "serial_p50_ms": round(baseline * ms, 1),
        "concurrent_p50_ms": round(statistics.median(latencies) * ms, 1),
        "concurrent_p95_ms": round(p95 * ms, 1),
        "concurrent_max_ms": round(max(latencies) * ms, 1),
        "p95_over_serial_p50": round(p95 / baseline, 2),
        "largest_loop_stall_ms": round(stall * ms, 1),
        "idle_loop_stall_ms": round(idle_stall * ms, 1),
        "load_average_1m": round(os.getloadavg()[0], 2),
        "target_p95_ms": 500,
        "target_stall_ms": 50,
        "p95_ok": p95 * ms <= 500,
        "stall_ok": stall * ms <= 50,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--processes", type=int, default=2, help="CHART_RENDER_PROCESSES")
    parser.add_argument(
        "--interval",
        type=float,
        default=1.0,
        help="seconds from one burst's start to the next (0: back to back)",
    )
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args()
    figures = asyncio.run(measure(args))
    for key, value in figures.items():
        print(f"{key:>22}: {value}")
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
