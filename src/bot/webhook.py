"""Webhook mode: an aiohttp server that receives updates from Telegram (or a local Bot API).

Telegram signs every webhook call with the `secret_token` given to setWebhook; requests without
it, or with another (whatever its bytes), are refused with 401 before any handler runs. A body
that is not JSON, or not an Update, is refused with 400 and logged; an accepted update is
handled in the background (Telegram gets its 200 at once), and whatever that raises is logged
and counted, never left to the event loop.

Every accepted update is claimed by its `update_id` first (src/services/update_dedupe.py): a
duplicate of a handled one is acknowledged and dropped, one in progress elsewhere is dropped
(WEBHOOK_ACK=received) or sent back with 503 to be retried (WEBHOOK_ACK=handled), so several
workers behind one URL handle each update once. With WEBHOOK_ACK=handled Telegram gets its
200 only after the handler, so an update of a worker killed mid-way is redelivered.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import signal
from collections.abc import Awaitable, Callable
from contextlib import suppress
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import structlog
from aiogram import Bot, Dispatcher
from aiogram.methods import TelegramMethod
from aiogram.types import Update
from aiogram.webhook.aiohttp_server import SimpleRequestHandler, setup_application
from aiohttp import web
from pydantic import ValidationError

from config.settings import Settings, WebhookAck
from src.metrics import WEBHOOK_DUPLICATES
from src.services.failures import FailureCounter
from src.services.update_dedupe import Claim, UpdateMarks, lease_for

log = structlog.get_logger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
RETRY_BUSY_SECONDS = 5  # Retry-After of a 503 for an update in progress in another worker


class WebhookRefusal(Exception):
    """The request is not an update we can take; the message is the answer's description."""


def parse_update(body: bytes, bot: Bot) -> Update:
    """The Update in `body`, or WebhookRefusal saying what is wrong with it."""
    try:
        data: Any = json.loads(body)
    except (ValueError, RecursionError):  # UnicodeDecodeError is a ValueError
        raise WebhookRefusal("Bad Request: the body is not JSON") from None
    if not isinstance(data, dict):
        raise WebhookRefusal("Bad Request: the body is not a JSON object")
    try:
        return Update.model_validate(data, context={"bot": bot})
    except (ValidationError, ValueError, RecursionError):
        raise WebhookRefusal("Bad Request: the body is not a Telegram Update") from None


@dataclass(frozen=True)
class Dedupe:
    """How this worker takes part in handling each update once (None marks: no dedupe)."""

    marks: UpdateMarks | None = None
    lease_seconds: float = 90.0
    ack_after_handling: bool = False


class GuardedRequestHandler(SimpleRequestHandler):
    """aiogram's handler with every way a request can fail answered, logged and counted."""

    def __init__(
        self,
        dispatcher: Dispatcher,
        bot: Bot,
        secret_token: str,
        failures: FailureCounter,
        dedupe: Dedupe | None = None,
    ) -> None:
        super().__init__(dispatcher=dispatcher, bot=bot, secret_token=secret_token)
        self._secret = secret_token.encode()
        self._failures = failures
        self._dedupe = dedupe or Dedupe()

    def verify_secret(self, telegram_secret_token: str, bot: Bot) -> bool:
        # Bytes, not str: compare_digest raises on non-ASCII str (a 500 before this), and
        # surrogateescape gives back exactly the bytes the client sent.
        given = telegram_secret_token.encode(errors="surrogateescape")  # UTF-8
        return hmac.compare_digest(given, self._secret)

    async def handle(self, request: web.Request) -> web.Response:
        if not self.verify_secret(request.headers.get(SECRET_HEADER, ""), self.bot):
            self._failures.inc("webhook_unauthorized")
            return web.Response(body="Unauthorized", status=401)
        try:
            update = parse_update(await request.read(), self.bot)
        except WebhookRefusal as refusal:
            total = self._failures.inc("webhook_rejected")
            log.warning(
                "webhook request refused", status=400, reason=str(refusal), failures_total=total
            )
            return web.json_response({"ok": False, "description": str(refusal)}, status=400)
        claim = await self._claim(update.update_id)
        if claim is not Claim.NEW:
            return self._duplicate(update.update_id, claim)
        task = asyncio.create_task(self._feed(update))
        self._background_feed_update_tasks.add(task)
        task.add_done_callback(self._background_feed_update_tasks.discard)
        if self._dedupe.ack_after_handling:
            # Shielded: a client that hangs up does not cancel the handler (nor its award).
            await asyncio.shield(task)
        return web.json_response({})

    def _duplicate(self, update_id: int, claim: Claim) -> web.Response:
        log.info("duplicate update dropped", update_id=update_id, state=str(claim))
        WEBHOOK_DUPLICATES.labels(str(claim)).inc()  # not a failure: Telegram may redeliver
        if claim is Claim.BUSY and self._dedupe.ack_after_handling:
            # Telegram retries; by then the other worker has finished, or died and its lease
            # is over (then the retry handles it here).
            headers = {"Retry-After": str(RETRY_BUSY_SECONDS)}
            body = {"ok": False, "description": "update in progress in another worker"}
            return web.json_response(body, status=503, headers=headers)
        return web.json_response({})

    async def _claim(self, update_id: int) -> Claim:
        marks = self._dedupe.marks
        if marks is None:
            return Claim.NEW
        try:
            return await marks.claim(update_id, self._dedupe.lease_seconds)
        except Exception:  # the store is down: handle it (awards are idempotent anyway)
            total = self._failures.inc("update_marks")
            log.warning("update mark not taken", update_id=update_id, failures_total=total)
            return Claim.NEW

    async def _feed(self, update: Update) -> None:
        """Handle one update; the error router answers handler failures, this catches the rest."""
        try:
            result = await self.dispatcher.feed_update(self.bot, update, **self.data)
            if isinstance(result, TelegramMethod):
                await self.dispatcher.silent_call_request(bot=self.bot, result=result)
        except Exception:
            total = self._failures.inc("webhook_update")
            log.exception("webhook update failed", update_id=update.update_id, failures_total=total)
        await self._finish(update.update_id)  # answered (or with the error text): done

    async def _finish(self, update_id: int) -> None:
        if self._dedupe.marks is None:
            return
        try:
            await self._dedupe.marks.finish(update_id)
        except Exception:  # its lease runs out instead: a redelivery may then run again
            total = self._failures.inc("update_marks")
            log.warning("update mark not finished", update_id=update_id, failures_total=total)


def webhook_path(url: str) -> str:
    return urlsplit(url).path or "/"


SET_WEBHOOK: web.AppKey[Callable[[], Awaitable[None]]] = web.AppKey("set_webhook")


def create_webhook_app(
    dispatcher: Dispatcher, bot: Bot, settings: Settings, *, primary: bool = True
) -> web.Application:
    """The webhook server's app; only the `primary` worker calls setWebhook."""
    if not settings.webhook_url or settings.webhook_secret is None:
        raise ValueError("webhook mode needs WEBHOOK_URL and WEBHOOK_SECRET")
    secret = settings.webhook_secret.get_secret_value()
    app = web.Application()

    async def set_webhook() -> None:
        if not primary:
            return
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
    failures = dispatcher.get("failures") or FailureCounter()
    GuardedRequestHandler(
        dispatcher, bot, secret, failures, dedupe_for(dispatcher, settings)
    ).register(app, path=webhook_path(settings.webhook_url))
    return app


def dedupe_for(dispatcher: Dispatcher, settings: Settings) -> Dedupe:
    """The context's update marks (none for a dispatcher built without a context)."""
    context = dispatcher.get("context")
    return Dedupe(
        marks=context.update_marks if context is not None else None,
        lease_seconds=lease_for(settings.shutdown_grace_seconds),
        ack_after_handling=settings.webhook_ack is WebhookAck.HANDLED,
    )


async def serve_webhook(
    app: web.Application,
    settings: Settings,
    *,
    on_ready: Callable[[], None] | None = None,
    reuse_port: bool = False,
) -> None:
    """Serve until SIGTERM/SIGINT, then shut down gracefully; `on_ready` once the hook is set.

    `reuse_port`: several workers listen on the same port (SO_REUSEPORT; the kernel spreads
    connections over them).
    """
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        with suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    # Requests still handling (WEBHOOK_ACK=handled) get the whole grace to finish.
    runner = web.AppRunner(app, shutdown_timeout=settings.shutdown_grace_seconds)
    await runner.setup()
    site = web.TCPSite(
        runner,
        settings.webhook_listen_host,
        settings.webhook_listen_port,
        reuse_port=reuse_port or None,
    )
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
