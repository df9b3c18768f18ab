"""Counts and times every update the bot handles (Prometheus, see src/metrics.py)."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware
from aiogram.types import TelegramObject, Update

from src.metrics import BOT_UPDATE_LATENCY, BOT_UPDATES


class UpdateMetrics(BaseMiddleware):
    """Outer update middleware: the time covers every inner middleware and the handler."""

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        kind = event.event_type if isinstance(event, Update) else type(event).__name__
        started = time.perf_counter()
        result = "error"
        try:
            response = await handler(event, data)
            result = "handled"
            return response
        finally:
            BOT_UPDATES.labels(kind, result).inc()
            BOT_UPDATE_LATENCY.labels(kind).observe(time.perf_counter() - started)
