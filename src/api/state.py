"""What the API's routes share for the process's lifetime (`app.state.api`), and the cache of
users it has seen.

Registration (`UserService.register`, the bot's own) creates a user on first contact and
refreshes name and last-seen after. The first request of a user this process has not cached
waits for a read of the stored profile, or for the registration when the user is new, the
Telegram name changed or last-seen is old (the user's rows must exist); after that the
profile is served from memory and refreshed in the background about once a minute, so no
request waits for it. With several API workers each keeps its own cache: a user's first
request on each worker costs that one read. A refresh is
a read (the language may have changed with /language) unless the Telegram name changed or
last-seen is ten minutes old: then it is the registration's write. At most two refreshes run
at a time, so a crowd of them never takes the connection pool from the requests.
"""

from __future__ import annotations

import asyncio
import random
import time
from dataclasses import dataclass, field
from datetime import timedelta

import structlog
from aiogram import Bot

from src.api.init_data import InitDataVerifier, TelegramUser
from src.api.rate_limit import RateLimiter
from src.bootstrap import AppContext
from src.services.user_types import UserProfile

log = structlog.get_logger(__name__)

MAX_CACHED_USERS = 100_000
# last_seen_at is written again once it is this old (a read suffices in between).
LAST_SEEN_PRECISION = timedelta(minutes=10)


@dataclass
class ApiState:
    context: AppContext
    verifier: InitDataVerifier
    bot: Bot
    limiter: RateLimiter
    refresh_after: float = 60.0  # seconds, +-20 % so a crowd's refreshes spread out
    _seen: dict[int, tuple[float, UserProfile]] = field(default_factory=dict)
    _refreshing: dict[int, asyncio.Task[None]] = field(default_factory=dict)
    _refresh_slots: asyncio.Semaphore = field(default_factory=lambda: asyncio.Semaphore(2))

    async def user(self, tg_user: TelegramUser) -> UserProfile:
        """The registered user behind valid init data (registered now if unknown)."""
        entry = self._seen.get(tg_user.id)
        if entry is None:
            return await self._first_sight(tg_user)
        due, profile = entry
        if due <= time.monotonic() and tg_user.id not in self._refreshing:
            task = asyncio.create_task(self._refresh(tg_user))
            self._refreshing[tg_user.id] = task
            task.add_done_callback(lambda _: self._refreshing.pop(tg_user.id, None))
        return profile

    async def _first_sight(self, tg_user: TelegramUser) -> UserProfile:
        """A user this process has not cached: a read when the stored row is current (the
        user is known to the bot or to another API worker, or the API restarted), else the
        registration's write."""
        profile = await self.context.users.get(tg_user.id)
        if profile is None or not self._unchanged(profile, tg_user):
            return await self._register(tg_user)
        self._remember(profile)
        return profile

    def _remember(self, profile: UserProfile) -> None:
        if len(self._seen) >= MAX_CACHED_USERS:
            self._seen.clear()
        due = time.monotonic() + self.refresh_after * random.uniform(0.8, 1.2)
        self._seen[profile.telegram_id] = (due, profile)

    async def _register(self, tg_user: TelegramUser) -> UserProfile:
        registration = await self.context.users.register(
            telegram_id=tg_user.id,
            username=tg_user.username,
            first_name=tg_user.first_name,
            language_code=tg_user.language_code,
        )
        self._remember(registration.user)
        return registration.user

    async def _refresh(self, tg_user: TelegramUser) -> None:
        try:
            async with self._refresh_slots:  # a crowd's refreshes never take the whole pool
                cached = self._seen[tg_user.id][1]
                if self._unchanged(cached, tg_user):
                    await self._reread(tg_user.id)  # the language may have changed in the chat
                else:
                    await self._register(tg_user)  # new name, or last-seen is getting old
        except Exception:
            # The cached profile stays in use; the next request after this tries again.
            total = self.context.failures.inc("user_refresh")
            log.exception("user refresh failed", user_id=tg_user.id, failures_total=total)

    def _unchanged(self, cached: UserProfile, tg_user: TelegramUser) -> bool:
        seen_long_ago = self.context.points.now() - cached.last_seen_at > LAST_SEEN_PRECISION
        same_name = (cached.first_name, cached.username) == (tg_user.first_name, tg_user.username)
        return same_name and not seen_long_ago

    async def _reread(self, telegram_id: int) -> None:
        profile = await self.context.users.get(telegram_id)
        if profile is not None:
            self._remember(profile)

    async def drain(self) -> None:
        """Let background refreshes finish (shutdown)."""
        if self._refreshing:
            await asyncio.gather(*self._refreshing.values(), return_exceptions=True)
