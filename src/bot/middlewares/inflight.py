"""Tracks updates being handled, so shutdown can wait for them (no award lost on SIGTERM)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware
from aiogram.types import TelegramObject


class InFlightTracker(BaseMiddleware):
    def __init__(self) -> None:
        self._running = 0
        self._idle = asyncio.Event()
        self._idle.set()

    @property
    def running(self) -> int:
        return self._running

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        self._running += 1
        self._idle.clear()
        try:
            return await handler(event, data)
        finally:
            self._running -= 1
            if self._running == 0:
                self._idle.set()

    async def wait_idle(self, timeout: float) -> bool:
        """True if every in-flight update finished within `timeout` seconds."""
        try:
            await asyncio.wait_for(self._idle.wait(), timeout)
        except TimeoutError:
            return False
        return True
