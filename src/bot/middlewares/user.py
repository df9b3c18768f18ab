"""Registers the Telegram user on every update and picks their language and role.

Puts into handler data: `db_user` (or None if the database is unreachable), `user_created`
(True only for the update that created the user: the "brand-new" of the referral rules),
`language`, `t` (the Translator) and `is_admin`. A database failure here is absorbed: the
update still reaches its handler (the AI chat works without the database).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import structlog
from aiogram import BaseMiddleware
from aiogram.types import TelegramObject
from aiogram.types import User as TelegramUser

from src.locales import translator
from src.services.failures import FailureCounter
from src.services.user_service import UserService, language_from_telegram

log = structlog.get_logger(__name__)


class UserMiddleware(BaseMiddleware):
    def __init__(
        self, users: UserService, admin_ids: frozenset[int], failures: FailureCounter
    ) -> None:
        self._users = users
        self._admin_ids = admin_ids
        self._failures = failures

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        tg_user: TelegramUser | None = data.get("event_from_user")
        if tg_user is None or tg_user.is_bot:
            return await handler(event, data)
        db_user = None
        created = False
        language = language_from_telegram(tg_user.language_code)
        try:
            registration = await self._users.register(
                telegram_id=tg_user.id,
                username=tg_user.username,
                first_name=tg_user.first_name,
                language_code=tg_user.language_code,
            )
            db_user, created = registration.user, registration.created
            language = db_user.language
        except Exception:
            total = self._failures.inc("user_registration")
            log.exception("user registration failed", user_id=tg_user.id, failures_total=total)
        data["db_user"] = db_user
        data["user_created"] = created
        data["language"] = language
        data["t"] = translator(language)
        data["is_admin"] = tg_user.id in self._admin_ids or bool(db_user and db_user.is_admin)
        return await handler(event, data)
