"""Start the Syntra bot: long polling by default, a webhook server when WEBHOOK_URL is set.

python bot.py                 (or ./manage.sh start bot)
python bot.py --worker 1/3    one of three webhook workers (./manage.sh start bot --workers 3)
"""

from __future__ import annotations

import asyncio
import os
import re
import sys
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from config.points_config import PointsConfigError, load_points_rules
from config.settings import Settings, SettingsError, get_settings

if TYPE_CHECKING:
    from aiogram import Bot

# `./manage.sh start` names a file here and waits for it: the bot touches it once it serves.
READY_FILE_ENV = "SYNTRA_READY_FILE"

NO_TOKEN = (
    "BOT_TOKEN is not set: put the token from @BotFather into .env (see README.md), "
    "or try the bot without Telegram: ./manage.sh console"
)

DEMO_REFUSED = (
    "LLM_BASE_URL=demo is the offline demo assistant, for ./manage.sh console only: "
    "set an OpenAI-compatible API (LLM_BASE_URL, LLM_API_KEY, LLM_MODEL) or leave it empty"
)

TOKEN_REFUSED = (
    "Telegram refused BOT_TOKEN (401 Unauthorized): copy the token from @BotFather into .env "
    "again, or revoke it there and use the new one"
)


WORKERS_NEED_WEBHOOK = (
    "several workers need webhook mode (WEBHOOK_URL, WEBHOOK_SECRET): Telegram hands "
    "getUpdates to one process only"
)


@dataclass(frozen=True)
class Worker:
    """Which of the bot's worker processes this is (`--worker I/N`, I from 0)."""

    index: int = 0
    count: int = 1

    @property
    def primary(self) -> bool:
        """The one worker that sets the webhook and the command menus."""
        return self.index == 0


def parse_worker(argv: list[str]) -> Worker | None:
    """`--worker I/N` from the arguments (a lone process without it); None if malformed."""
    if "--worker" not in argv:
        return Worker()
    at = argv.index("--worker") + 1
    match = re.fullmatch(r"(\d+)/(\d+)", argv[at]) if at < len(argv) else None
    if match is None:
        return None
    index, count = int(match[1]), int(match[2])
    return Worker(index, count) if 0 <= index < count <= 64 else None


def mark_ready(settings: Settings) -> None:
    """Startup is done (commands set; polling begins or the webhook is set and listening).

    The file holds the shutdown grace, so `./manage.sh stop` waits as long as this bot may.
    """
    if path := os.environ.get(READY_FILE_ENV):
        Path(path).write_text(f"shutdown_grace_seconds={settings.shutdown_grace_seconds:g}\n")


async def run(settings: Settings, worker: Worker = Worker()) -> None:
    import structlog

    from src.bootstrap import build_context, prepare_database
    from src.bot.bot_factory import create_bot
    from src.bot.dispatcher import create_dispatcher, register_commands
    from src.bot.loop_guard import install_loop_guard
    from src.bot.payment_jobs import reminder_job
    from src.bot.payment_notifier import PaymentNotifier
    from src.bot.webhook import create_webhook_app, serve_webhook

    log = structlog.get_logger("bot")
    context = build_context(settings)
    bot: Bot | None = None
    try:
        if settings.metrics_port is not None:  # worker I serves on METRICS_PORT + I
            from src.metrics import serve as serve_metrics

            port = settings.metrics_port + worker.index
            serve_metrics(settings.metrics_host, port)
            log.info("metrics served", host=settings.metrics_host, port=port)
        await prepare_database(context)
        assert settings.bot_token is not None  # preflight refused to start without one
        bot = create_bot(settings.bot_token.get_secret_value(), api_base=settings.telegram_api_base)
        context.ranks.start()  # rank index kept in step (rebuilt in Redis first, if set)
        dispatcher = create_dispatcher(context)
        notifier = PaymentNotifier(bot, timezone=settings.timezone)
        context.jobs.add(reminder_job(context.payments, notifier))  # expiry reminders
        if context.ton_poller is not None:  # its job is registered; it messages through this
            context.ton_poller.notices = notifier
        context.jobs.start()  # background chores; each run takes its advisory lock first
        install_loop_guard(context.failures)  # nothing unhandled escapes the log
        if worker.primary:  # one worker sets the menus and the webhook for all
            dispatcher.startup.register(register_commands)
        if settings.webhook_url:
            app = create_webhook_app(dispatcher, bot, settings, primary=worker.primary)
            await serve_webhook(
                app,
                settings,
                on_ready=partial(mark_ready, settings),
                reuse_port=worker.count > 1,
            )
        else:
            await bot.delete_webhook(drop_pending_updates=False)
            dispatcher.startup.register(mark_ready)  # the last startup hook (gets settings)
            log.info("starting long polling")
            await dispatcher.start_polling(bot, handle_signals=True)
    finally:
        if bot is not None:  # already closed on a normal stop; not when startup failed
            await bot.session.close()
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
    if settings.llm_demo:  # canned answers must never reach Telegram users
        print(f"bot: {DEMO_REFUSED}", file=sys.stderr)
        return None
    return settings


def start_failure(exc: Exception, settings: Settings) -> str | None:
    """Why the bot cannot run, in one line, for the failures an operator can expect (None for
    a bug): Telegram unreachable or refusing, the webhook port taken, the database."""
    import errno

    from aiogram.exceptions import (
        TelegramAPIError,
        TelegramNetworkError,
        TelegramUnauthorizedError,
    )

    from src.operator_errors import describe_failure

    api = settings.telegram_api_base or "https://api.telegram.org"
    if isinstance(exc, TelegramUnauthorizedError):
        return TOKEN_REFUSED
    if isinstance(exc, TelegramNetworkError):
        reason = exc.message.removeprefix("HTTP Client says - ")
        return (
            f"cannot reach the Telegram Bot API at {api} ({reason}): "
            "check the network, a proxy or TELEGRAM_API_BASE"
        )
    if isinstance(exc, TelegramAPIError):
        return f"the Telegram Bot API at {api} refused {exc.method.__api_method__}: {exc.message}"
    if isinstance(exc, OSError) and exc.errno == errno.EADDRINUSE:
        listen = f"{settings.webhook_listen_host}:{settings.webhook_listen_port}"
        return f"cannot listen on {listen} (WEBHOOK_LISTEN_HOST/PORT): address already in use"
    return describe_failure(exc, database_url=settings.database_url)


def main(argv: list[str]) -> int:
    worker = parse_worker(argv)
    if worker is None:
        print("bot: --worker takes I/N: worker I (from 0) of N (at most 64)", file=sys.stderr)
        return 2
    settings = preflight()
    if settings is None:
        return 2
    if worker.count > 1 and not settings.webhook_url:
        print(f"bot: {WORKERS_NEED_WEBHOOK}", file=sys.stderr)
        return 2
    if "--check" in argv:
        return 0
    import structlog

    if worker.count > 1:  # every log line says which worker wrote it
        structlog.contextvars.bind_contextvars(worker=worker.index)

    from src.logging_config import PRINTED, configure_logging, secret_values

    log = structlog.get_logger("bot")
    configure_logging(
        level=settings.log_level,
        fmt=settings.log_format,
        log_file=settings.log_dir / "bot.log",
        secrets=secret_values(settings),
    )
    try:
        asyncio.run(run(settings, worker))
    except Exception as exc:
        reason = start_failure(exc, settings)
        if reason is None:
            log.exception("bot failed")
            raise
        # One line for the operator (stderr: ./manage.sh start shows it); the log keeps it too.
        log.error("bot cannot run", reason=reason, **{PRINTED: True})
        print(f"bot: {reason}", file=sys.stderr)
        return 1
    log.info("bot stopped")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
