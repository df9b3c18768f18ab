"""create_dispatcher(): the one dispatcher used by bot.py, the console and the tests."""

from __future__ import annotations

import structlog
from aiogram import Bot, Dispatcher
from aiogram.exceptions import TelegramAPIError
from aiogram.types import BotCommand, BotCommandScopeChat, BotCommandScopeDefault

from config.settings import Settings
from src.bot.handlers import create_routers
from src.bot.middlewares.inflight import InFlightTracker
from src.bot.middlewares.user import UserMiddleware
from src.locales import LANGUAGES, translator
from src.services.admin_service import AdminService
from src.services.analytics_service import AnalyticsService
from src.services.failures import FailureCounter
from src.services.llm_client import LLMClient
from src.services.points_service import PointsService
from src.services.user_service import UserService

log = structlog.get_logger(__name__)

USER_COMMANDS = ("start", "points", "level", "daily", "language", "help")
ADMIN_MENU_COMMANDS = (
    "admin",
    "points_analytics",
    "points_config",
    "points_grant",
    "points_deduct",
    "points_user",
)


def create_dispatcher(
    *,
    settings: Settings,
    points: PointsService,
    users: UserService,
    llm: LLMClient,
    failures: FailureCounter | None = None,
    admin_service: AdminService | None = None,
    analytics: AnalyticsService | None = None,
) -> Dispatcher:
    """`admin_service` and `analytics` default to ones built on `points`' database and clock."""
    tracker = InFlightTracker()
    dispatcher = Dispatcher(
        settings=settings,
        points=points,
        users=users,
        llm=llm,
        failures=failures or FailureCounter(),
        inflight=tracker,
        admin_service=admin_service
        or AdminService(points=points, session_factory=points.session_factory),
        analytics=analytics
        or AnalyticsService(
            engine=points.engine,
            session_factory=points.session_factory,
            rules=points.rules,
            timezone=points.timezone,
            clock=points.clock,
        ),
    )
    # Outer update middlewares run for every update, before any filter.
    dispatcher.update.outer_middleware(tracker)
    dispatcher.update.outer_middleware(
        UserMiddleware(users, settings.admin_ids, dispatcher["failures"])
    )
    dispatcher.include_routers(*create_routers())
    dispatcher.shutdown.register(_drain_in_flight)
    return dispatcher


def command_menu(language: str, *, admin: bool = False) -> list[BotCommand]:
    t = translator(language)
    commands = [BotCommand(command=c, description=t(f"cmd-{c}")) for c in USER_COMMANDS]
    if admin:
        commands += [
            BotCommand(command=c, description=t(f"admin-cmd-{c}")) for c in ADMIN_MENU_COMMANDS
        ]
    return commands


async def register_commands(bot: Bot, settings: Settings | None = None) -> None:
    """The command menu in both languages (Telegram picks by the user's app language; others
    get English).

    With `settings` (aiogram passes them to startup hooks), admins listed in ADMIN_IDS also see
    the admin commands, in their own chat only.
    """
    for language in (*LANGUAGES, None):
        await bot.set_my_commands(
            command_menu(language or "en"), scope=BotCommandScopeDefault(), language_code=language
        )
    if settings is not None:
        await register_admin_commands(bot, settings.admin_ids)


async def register_admin_commands(bot: Bot, admin_ids: frozenset[int]) -> None:
    """Admins by the `is_admin` flag are not known before start: they type the commands."""
    for admin_id in sorted(admin_ids):
        scope = BotCommandScopeChat(chat_id=admin_id)
        try:
            for language in (*LANGUAGES, None):
                await bot.set_my_commands(
                    command_menu(language or "en", admin=True), scope=scope, language_code=language
                )
        except TelegramAPIError as exc:  # e.g. the admin has never opened the bot
            log.warning("admin commands not set", admin_id=admin_id, reason=str(exc))


async def _drain_in_flight(inflight: InFlightTracker, llm: LLMClient, settings: Settings) -> None:
    """On shutdown, let updates being handled finish (their awards included)."""
    if inflight.running:
        log.info("waiting for in-flight updates", running=inflight.running)
        if not await inflight.wait_idle(settings.shutdown_grace_seconds):
            log.warning("shutdown grace period over", still_running=inflight.running)
    await llm.aclose()
