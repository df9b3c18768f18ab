"""Webhook mode: an aiohttp server that receives updates from Telegram (or a local Bot API).

Telegram signs every webhook call with the `secret_token` given to setWebhook; requests without
it, or with another, are refused with 401 before any handler runs.
"""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Awaitable, Callable
from contextlib import suppress
from urllib.parse import urlsplit

import structlog
from aiogram import Bot, Dispatcher
from aiogram.webhook.aiohttp_server import SimpleRequestHandler, setup_application
from aiohttp import web

from config.settings import Settings

log = structlog.get_logger(__name__)


def webhook_path(url: str) -> str:
    return urlsplit(url).path or "/"


SET_WEBHOOK: web.AppKey[Callable[[], Awaitable[None]]] = web.AppKey("set_webhook")


def create_webhook_app(dispatcher: Dispatcher, bot: Bot, settings: Settings) -> web.Application:
    if not settings.webhook_url or settings.webhook_secret is None:
        raise ValueError("webhook mode needs WEBHOOK_URL and WEBHOOK_SECRET")
    secret = settings.webhook_secret.get_secret_value()
    app = web.Application()

    async def set_webhook() -> None:
        await bot.set_webhook(
            settings.webhook_url or "",
            secret_token=secret,
            allowed_updates=dispatcher.resolve_used_update_types(),
        )
        log.info("webhook set", url=settings.webhook_url)

    # Called by serve_webhook once the port is bound: Telegram may post at once.
    app[SET_WEBHOOK] = set_webhook
    # Wires the dispatcher's startup/shutdown hooks (in-flight drain included) to the app.
    setup_application(app, dispatcher, bot=bot)
    # Registered after: its on_shutdown closes the bot's session, which must come after the
    # drain above, or in-flight handlers would answer through a reopened, never-closed session.
    SimpleRequestHandler(dispatcher=dispatcher, bot=bot, secret_token=secret).register(
        app, path=webhook_path(settings.webhook_url)
    )
    return app


async def serve_webhook(
    app: web.Application, settings: Settings, *, on_ready: Callable[[], None] | None = None
) -> None:
    """Serve until SIGTERM/SIGINT, then shut down gracefully; `on_ready` once the hook is set."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        with suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, settings.webhook_listen_host, settings.webhook_listen_port)
    await site.start()
    log.info(
        "webhook server listening",
        host=settings.webhook_listen_host,
        port=settings.webhook_listen_port,
    )
    try:
        if not stop.is_set():
            await app[SET_WEBHOOK]()
            if on_ready is not None:
                on_ready()
        await stop.wait()
    finally:
        log.info("stopping webhook server")
        await runner.cleanup()  # runs the dispatcher's shutdown: waits for in-flight updates
