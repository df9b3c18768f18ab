"""Who is writing: registration, language and role on every update, and the guard for
handlers that cannot work without the user's row.

`UserMiddleware` puts into handler data: `user` (a `UserProfile`, or None when registration
failed: the database is unreachable), `user_created` (True only for the update that created the
user: the "brand-new" of the referral rules), `language`, `t` (the Translator), `is_admin` and
`user_lookup` (a `UserLookup`). A database failure here is absorbed and counted: the update
still reaches its handler, because the AI chat works without the database.

An answer never waits on the database: for a message that is not a command (the AI chat,
photos) the registration runs *beside* the handler instead of before it. `user` is then None
at first and the language the one this process last saw for the user (else Telegram's); a
handler flagged `AI_REQUEST` answers at once and awaits `user_lookup.wait()` afterwards, for
the award (its `user` argument is None until then); one flagged `AI_REQUEST | NEEDS_USER`, and
any other handler, gets its user from `RegisteredUserGuard` before it runs. Commands and
buttons register first: they show or move points, and every wait on the database is bounded
(DB_*_TIMEOUT_SECONDS).

`RegisteredUserGuard` answers "unavailable" once, for every handler registered with
`flags=NEEDS_USER`, when there is no user; such handlers may take `user: UserProfile` as given.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any, Final

import structlog
from aiogram import BaseMiddleware
from aiogram.dispatcher.flags import get_flag
from aiogram.types import CallbackQuery, Message, TelegramObject, Update
from aiogram.types import User as TelegramUser

from src.locales import Translator, translator
from src.services.failures import FailureCounter, record_failure
from src.services.user_service import REFERRAL_PREFIX, UserService, language_from_telegram
from src.services.user_types import Registration, UserProfile

log = structlog.get_logger(__name__)

Handler = Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]]
NEEDS_USER: Final = {"needs_user": True}
# An AI request (chat, vision, chart): at most AI_REQUESTS_PER_USER in flight per user
# (src/bot/middlewares/ai_limit.py), and answered without waiting for the user's row.
AI_REQUEST: Final = {"ai_request": True}


# How long a request that registers its sender beside it (an AI question, a picture) waits for
# that registration ("typing…" is already shown), for the stored language and the tier's daily
# quota. A healthy database answers in milliseconds; past this the request is served in
# Telegram's language with its quota uncounted (quotas fail open) and the award comes after.
USER_WAIT_SECONDS = 1.0


class UserLookup:
    """The registration of this update's sender: done, or still running beside the handler."""

    def __init__(
        self, task: asyncio.Future[Registration | None], *, language_unknown: bool = False
    ) -> None:
        self._task = task
        # True: the handler data speaks Telegram's language, the stored one was not known yet.
        self.language_unknown = language_unknown

    @classmethod
    def none(cls) -> UserLookup:
        """For senders nobody registers (bots, anonymous admins, channels)."""
        done: asyncio.Future[Registration | None] = asyncio.get_running_loop().create_future()
        done.set_result(None)
        return cls(done)

    @property
    def done(self) -> bool:
        return self._task.done()

    async def registration(self) -> Registration | None:
        """Waits (bounded by the database timeouts); None if registration failed (counted)."""
        return await asyncio.shield(self._task)

    async def wait_briefly(self, seconds: float) -> UserProfile | None:
        """The user if registered within `seconds` (the registration goes on regardless)."""
        done, _ = await asyncio.wait({self._task}, timeout=seconds)
        return await self.wait() if done else None

    async def wait(self) -> UserProfile | None:
        registration = await self.registration()
        return registration.user if registration is not None else None


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
            data["user_lookup"] = UserLookup.none()
            fill_user(
                data, None, language_from_telegram(tg_user.language_code if tg_user else None)
            )
            data["is_admin"] = False
            return await handler(event, data)
        registering = self._register(tg_user, referral_payload(event))
        lookup = UserLookup(asyncio.ensure_future(registering))
        data["user_lookup"] = lookup
        if defers_registration(event):
            language = self._users.known_language(tg_user.id)
            lookup.language_unknown = language is None
            fill_user(data, None, language or language_from_telegram(tg_user.language_code))
        else:
            fallback = language_from_telegram(tg_user.language_code)
            fill_user(data, await lookup.registration(), fallback)
        data["is_admin"] = tg_user.id in self._admin_ids or bool(
            data["user"] and data["user"].is_admin
        )
        try:
            return await handler(event, data)
        finally:
            if not lookup.done:  # the user is registered within the update, answered or not
                await lookup.registration()

    async def _register(
        self, tg_user: TelegramUser, referral_code: str | None = None
    ) -> Registration | None:
        try:
            return await self._users.register(
                telegram_id=tg_user.id,
                username=tg_user.username,
                first_name=tg_user.first_name,
                language_code=tg_user.language_code,
                referral_code=referral_code,
            )
        except Exception:
            record_failure(
                self._failures, "user_registration", "user registration failed", user_id=tg_user.id
            )
            return None


def referral_payload(event: TelegramObject) -> str | None:
    """`ref_<code>` of `/start ref_<code>`: linked in the registration's own transaction."""
    message = event.message if isinstance(event, Update) else None
    words = (message.text or "").split() if message is not None else []
    if len(words) == 2 and words[0].split("@")[0] == "/start":
        return words[1] if words[1].startswith(REFERRAL_PREFIX) else None
    return None


def defers_registration(event: TelegramObject) -> bool:
    """A message that is not a command: it may be an AI request, which must not wait."""
    message = event.message if isinstance(event, Update) else None
    if message is None:
        return False
    return not (message.text or message.caption or "").startswith("/")


def fill_user(data: dict[str, Any], registration: Registration | None, fallback: str) -> None:
    """`user`, `user_created`, `language` and `t` of the handler data; `fallback` is the
    language without a user."""
    user = registration.user if registration is not None else None
    language = user.language if user is not None else fallback
    data["user"] = user
    data["user_created"] = bool(registration and registration.created)
    data["language"] = language
    data["t"] = translator(language)


class RegisteredUserGuard(BaseMiddleware):
    """Inner middleware: runs after the filters chose a handler, before the handler."""

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        lookup: UserLookup | None = data.get("user_lookup")
        waits = not get_flag(data, "ai_request") or get_flag(data, "needs_user")
        if data.get("user") is None and lookup is not None and waits:
            # Registration ran beside the filters; a handler that is no AI request (or one that
            # cannot work without the user) waits for it.
            fill_user(data, await lookup.registration(), data.get("language", "en"))
            user = data["user"]
            data["is_admin"] = data.get("is_admin", False) or bool(user and user.is_admin)
        if data.get("user") is not None or not get_flag(data, "needs_user"):
            return await handler(event, data)
        t: Translator = data.get("t") or translator("en")
        if isinstance(event, CallbackQuery):
            await event.answer(t("error-unavailable"), show_alert=True)
        elif isinstance(event, Message):
            await event.answer(t("error-unavailable"))
        return None
