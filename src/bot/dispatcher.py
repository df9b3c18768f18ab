"""create_dispatcher(): the one dispatcher used by bot.py, the console and the tests."""

from __future__ import annotations

import structlog
from aiogram import Bot, Dispatcher
from aiogram.types import BotCommand, BotCommandScopeDefault

from config.settings import Settings
from src.bot.handlers import create_routers
from src.bot.middlewares.inflight import InFlightTracker
from src.bot.middlewares.user import UserMiddleware
from src.locales import LANGUAGES, translator
from src.services.failures import FailureCounter
from src.services.llm_client import LLMClient
from src.services.points_service import PointsService
from src.services.user_service import UserService

log = structlog.get_logger(__name__)

USER_COMMANDS = ("start", "points", "level", "daily", "language", "help")
SHUTDOWN_GRACE_SECONDS = 30.0


def create_dispatcher(
    *,
    settings: Settings,
    points: PointsService,
    users: UserService,
    llm: LLMClient,
    failures: FailureCounter | None = None,
) -> Dispatcher:
    tracker = InFlightTracker()
    dispatcher = Dispatcher(
        settings=settings,
        points=points,
        users=users,
        llm=llm,
        failures=failures or FailureCounter(),
        inflight=tracker,
    )
    # Outer update middlewares run for every update, before any filter.
    dispatcher.update.outer_middleware(tracker)
    dispatcher.update.outer_middleware(
        UserMiddleware(users, settings.admin_ids, dispatcher["failures"])
    )
    dispatcher.include_routers(*create_routers())
    dispatcher.shutdown.register(_drain_in_flight)
    return dispatcher


async def register_commands(bot: Bot) -> None:
    """The command menu in both languages (Telegram picks by the user's app language)."""
    for language in LANGUAGES:
        t = translator(language)
        commands = [BotCommand(command=c, description=t(f"cmd-{c}")) for c in USER_COMMANDS]
        await bot.set_my_commands(commands, scope=BotCommandScopeDefault(), language_code=language)
    t = translator("en")
    await bot.set_my_commands(
        [BotCommand(command=c, description=t(f"cmd-{c}")) for c in USER_COMMANDS],
        scope=BotCommandScopeDefault(),
    )


async def _drain_in_flight(inflight: InFlightTracker, llm: LLMClient) -> None:
    """On shutdown, let updates being handled finish (their awards included)."""
    if inflight.running:
        log.info("waiting for in-flight updates", running=inflight.running)
        if not await inflight.wait_idle(SHUTDOWN_GRACE_SECONDS):
            log.warning("shutdown grace period over", still_running=inflight.running)
    await llm.aclose()
