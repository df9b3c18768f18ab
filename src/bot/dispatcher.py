"""create_dispatcher(): the one dispatcher used by bot.py, the console and the tests."""

from __future__ import annotations

import structlog
from aiogram import Bot, Dispatcher
from aiogram.exceptions import TelegramAPIError
from aiogram.types import BotCommand, BotCommandScopeChat, BotCommandScopeDefault

from config.settings import Settings
from src.bootstrap import AppContext
from src.bot.albums import AlbumCollector
from src.bot.handlers import create_routers
from src.bot.middlewares.ai_limit import AIRequestLimiter
from src.bot.middlewares.audience import AudienceGate
from src.bot.middlewares.inflight import InFlightTracker
from src.bot.middlewares.metrics import UpdateMetrics
from src.bot.middlewares.user import RegisteredUserGuard, UserMiddleware
from src.locales import LANGUAGES, translator

log = structlog.get_logger(__name__)

USER_COMMANDS = (
    "start",
    "chart",
    "points",
    "subscribe",
    "level",
    "daily",
    "language",
    "help",
    "paysupport",
)
ADMIN_MENU_COMMANDS = (
    "admin",
    "points_analytics",
    "points_config",
    "points_grant",
    "points_deduct",
    "points_user",
    "points_refund",
)


def create_dispatcher(context: AppContext) -> Dispatcher:
    """The dispatcher for `context`: its services become handler arguments by name."""
    tracker = InFlightTracker()
    dispatcher = Dispatcher(
        storage=context.fsm_storage,
        context=context,
        settings=context.settings,
        rules=context.rules,
        points=context.points,
        users=context.users,
        onboarding=context.onboarding,
        llm=context.llm,
        failures=context.failures,
        inflight=tracker,
        admin_service=context.admin,
        analytics=context.analytics,
        charts=context.charts,
        # This process's album parts (a media group arrives as separate updates).
        albums=AlbumCollector(context.settings.vision_album_wait_seconds),
        quotas=context.quotas,
        payments=context.payments,
        gateways=dict(context.gateways),
    )
    # Outer update middlewares run for every update, before any filter.
    dispatcher.update.outer_middleware(UpdateMetrics())
    dispatcher.update.outer_middleware(tracker)
    # What is not for the bot (group chatter, service messages, senders that are no person)
    # stops here, before anyone is registered.
    dispatcher.update.outer_middleware(AudienceGate())
    dispatcher.update.outer_middleware(
        UserMiddleware(context.users, context.settings.admin_ids, context.failures)
    )
    # Inner middlewares apply to the handlers of every router included below. The AI limit
    # first: a refused request waits for nothing, not even the user's row.
    limiter = AIRequestLimiter(context.settings.ai_requests_per_user)
    guard = RegisteredUserGuard()
    for observer in (dispatcher.message, dispatcher.callback_query):
        observer.middleware(limiter)
        observer.middleware(guard)
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


async def _drain_in_flight(inflight: InFlightTracker, settings: Settings) -> None:
    """On shutdown, let updates being handled finish (their awards included), up to the grace
    that covers an AI answer; the entry point closes the context (LLM client, database) after."""
    if inflight.running:
        log.info("waiting for in-flight updates", running=inflight.running)
        if not await inflight.wait_idle(settings.shutdown_grace_seconds):
            log.warning("shutdown grace period over", still_running=inflight.running)
