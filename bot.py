"""Start the Syntra bot: long polling by default, a webhook server when WEBHOOK_URL is set.

python bot.py            (or ./manage.sh start bot)
"""

from __future__ import annotations

import asyncio
import sys
from typing import TYPE_CHECKING

from config.points_config import PointsConfigError, load_points_rules
from config.settings import Settings, SettingsError, get_settings

if TYPE_CHECKING:
    from aiogram import Bot

NO_TOKEN = (
    "BOT_TOKEN is not set: put the token from @BotFather into .env (see README.md), "
    "or try the bot without Telegram: ./manage.sh console"
)


def create_bot(settings: Settings) -> Bot:
    from aiogram import Bot
    from aiogram.client.default import DefaultBotProperties
    from aiogram.client.session.aiohttp import AiohttpSession
    from aiogram.client.telegram import TelegramAPIServer
    from aiogram.enums import ParseMode

    assert settings.bot_token is not None
    session = None
    if settings.telegram_api_base:  # a self-hosted or local Bot API server
        session = AiohttpSession(api=TelegramAPIServer.from_base(settings.telegram_api_base))
    return Bot(
        settings.bot_token.get_secret_value(),
        session=session,
        default=DefaultBotProperties(parse_mode=ParseMode.HTML),
    )


async def run(settings: Settings) -> None:
    import structlog

    from src.bootstrap import build_context, prepare_database
    from src.bot.dispatcher import create_dispatcher, register_commands
    from src.bot.webhook import create_webhook_app, serve_webhook
    from src.services.llm_client import LLMClient

    log = structlog.get_logger("bot")
    context = build_context(settings)
    try:
        await prepare_database(context)
        bot = create_bot(settings)
        dispatcher = create_dispatcher(
            settings=settings,
            points=context.points,
            users=context.users,
            llm=LLMClient.from_settings(settings),
        )
        dispatcher.startup.register(register_commands)
        if settings.webhook_url:
            await serve_webhook(create_webhook_app(dispatcher, bot, settings), settings)
        else:
            await bot.delete_webhook(drop_pending_updates=False)
            log.info("starting long polling")
            await dispatcher.start_polling(bot, handle_signals=True)
    finally:
        await context.close()


def preflight() -> Settings | None:
    """Check what makes the bot refuse to start, before the heavy imports; None = refused."""
    try:
        settings = get_settings()
        load_points_rules(settings.points_config_file)
    except (SettingsError, PointsConfigError) as exc:
        print(f"bot: {exc}", file=sys.stderr)
        return None
    if settings.bot_token is None:
        print(f"bot: {NO_TOKEN}", file=sys.stderr)
        return None
    return settings


def main(argv: list[str]) -> int:
    settings = preflight()
    if settings is None:
        return 2
    if "--check" in argv:
        return 0
    import structlog

    from src.logging_config import configure_logging

    log = structlog.get_logger("bot")
    configure_logging(
        level=settings.log_level, fmt=settings.log_format, log_file=settings.log_dir / "bot.log"
    )
    asyncio.run(run(settings))
    log.info("bot stopped")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
