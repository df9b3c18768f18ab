"""At most AI_REQUESTS_PER_USER AI requests per user in flight (handlers flagged AI_REQUEST).

Thirty messages sent at once would otherwise make thirty LLM calls and pay thirty awards. A
request that arrives while the user's limit is taken gets a short "still answering your
previous question" and goes no further: no LLM call, no ledger row. The count lives in this
process: with several bot workers, each enforces the limit on the updates it handles.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Awaitable, Callable
from typing import Any

import structlog
from aiogram import BaseMiddleware
from aiogram.dispatcher.flags import get_flag
from aiogram.types import CallbackQuery, Message, TelegramObject
from aiogram.types import User as TelegramUser

from src.locales import Translator, translator

log = structlog.get_logger(__name__)

Handler = Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]]


class AIRequestLimiter(BaseMiddleware):
    """Inner middleware (messages and callback queries): only flagged handlers are limited."""

    def __init__(self, per_user: int) -> None:
        self._per_user = per_user
        self._in_flight: Counter[int] = Counter()

    def in_flight(self, user_id: int) -> int:
        return self._in_flight[user_id]

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        sender: TelegramUser | None = data.get("event_from_user")
        if sender is None or not get_flag(data, "ai_request"):
            return await handler(event, data)
        if self._in_flight[sender.id] >= self._per_user:
            log.info("ai request refused: one in flight", user_id=sender.id)
            await _busy(event, data.get("t") or translator("en"))
            return None
        self._in_flight[sender.id] += 1
        try:
            return await handler(event, data)
        finally:
            self._in_flight[sender.id] -= 1
            if self._in_flight[sender.id] <= 0:
                del self._in_flight[sender.id]


async def _busy(event: TelegramObject, t: Translator) -> None:
    if isinstance(event, Message):
        await event.answer(t("ai-busy"))
    elif isinstance(event, CallbackQuery):
        await event.answer(t("ai-busy"), show_alert=True)
