"""Who is writing: registration, language and role on every update, and the guard for
handlers that cannot work without the user's row.

`UserMiddleware` puts into handler data: `user` (a `UserProfile`, or None when registration
failed: the database is unreachable), `user_created` (True only for the update that created the
user: the "brand-new" of the referral rules), `language`, `t` (the Translator) and `is_admin`.
A database failure here is absorbed and counted: the update still reaches its handler, because
the AI chat works without the database.

`RegisteredUserGuard` answers "unavailable" once, for every handler registered with
`flags=NEEDS_USER`, when there is no user; such handlers may take `user: UserProfile` as given.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, Final

import structlog
from aiogram import BaseMiddleware
from aiogram.dispatcher.flags import get_flag
from aiogram.types import CallbackQuery, Message, TelegramObject
from aiogram.types import User as TelegramUser

from src.locales import Translator, translator
from src.services.failures import FailureCounter
from src.services.user_service import UserService, language_from_telegram

log = structlog.get_logger(__name__)

Handler = Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]]
NEEDS_USER: Final = {"needs_user": True}


class UserMiddleware(BaseMiddleware):
    def __init__(
        self, users: UserService, admin_ids: frozenset[int], failures: FailureCounter
    ) -> None:
        self._users = users
        self._admin_ids = admin_ids
        self._failures = failures

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        tg_user: TelegramUser | None = data.get("event_from_user")
        if tg_user is None or tg_user.is_bot:
            return await handler(event, data)
        user = None
        created = False
        language = language_from_telegram(tg_user.language_code)
        try:
            registration = await self._users.register(
                telegram_id=tg_user.id,
                username=tg_user.username,
                first_name=tg_user.first_name,
                language_code=tg_user.language_code,
            )
            user, created = registration.user, registration.created
            language = user.language
        except Exception:
            total = self._failures.inc("user_registration")
            log.exception("user registration failed", user_id=tg_user.id, failures_total=total)
        data["user"] = user
        data["user_created"] = created
        data["language"] = language
        data["t"] = translator(language)
        data["is_admin"] = tg_user.id in self._admin_ids or bool(user and user.is_admin)
        return await handler(event, data)


class RegisteredUserGuard(BaseMiddleware):
    """Inner middleware: runs after the filters chose a handler, before the handler."""

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        if data.get("user") is not None or not get_flag(data, "needs_user"):
            return await handler(event, data)
        t: Translator = data.get("t") or translator("en")
        if isinstance(event, CallbackQuery):
            await event.answer(t("error-unavailable"), show_alert=True)
        elif isinstance(event, Message):
            await event.answer(t("error-unavailable"))
        return None
