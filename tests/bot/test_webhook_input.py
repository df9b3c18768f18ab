"""Whatever reaches the webhook gets a clear HTTP answer and never an unhandled exception.

The production dispatcher behind the production webhook app (src/bot/webhook.py), served on a
free port; requests are written byte by byte where a client library would refuse to send them
(a non-ASCII header). The event loop's exception handler is watched: "Task exception was never
retrieved" and its kin must never appear.
"""

from __future__ import annotations

import asyncio
import gc
import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
import structlog
from aiohttp import web

from config.settings import load_settings
from src.bot.webhook import SECRET_HEADER, create_webhook_app
from tests.support.telegram import BotHarness, texts

SECRET = "s3cr3t"
PATH = "/tg/hook"


class Webhook:
    def __init__(self, port: int, harness: BotHarness) -> None:
        self.port = port
        self.harness = harness

    async def post(self, body: bytes, *, secret: bytes | None = SECRET.encode()) -> int:
        """POST `body` (raw bytes) with the secret header (raw bytes); the status code."""
        reader, writer = await asyncio.open_connection("127.0.0.1", self.port)
        head = [
            f"POST {PATH} HTTP/1.1".encode(),
            f"Host: 127.0.0.1:{self.port}".encode(),
            b"Content-Type: application/json",
            f"Content-Length: {len(body)}".encode(),
            b"Connection: close",
        ]
        if secret is not None:
            head.append(SECRET_HEADER.encode() + b": " + secret)
        writer.write(b"\r\n".join(head) + b"\r\n\r\n" + body)
        await writer.drain()
        status_line = await reader.readline()
        writer.close()
        await writer.wait_closed()
        return int(status_line.split()[1])


@pytest.fixture
async def webhook(harness: BotHarness) -> AsyncIterator[Webhook]:
    settings = load_settings(
        _env_file=None, WEBHOOK_URL=f"https://example.org{PATH}", WEBHOOK_SECRET=SECRET
    )
    app = create_webhook_app(harness.dispatcher, harness.bot, settings)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = int(runner.addresses[0][1])
    try:
        yield Webhook(port, harness)
    finally:
        await runner.cleanup()


@pytest.fixture
async def loop_errors() -> AsyncIterator[list[dict[str, Any]]]:
    """What reaches the event loop's exception handler while the test runs."""
    loop = asyncio.get_running_loop()
    seen: list[dict[str, Any]] = []
    previous = loop.get_exception_handler()
    loop.set_exception_handler(lambda _loop, context: seen.append(context))
    yield seen
    loop.set_exception_handler(previous)


def update_json(harness: BotHarness, text: str, user_id: int) -> bytes:
    update = harness.message_update(text, user_id=user_id)
    return update.model_dump_json(exclude_none=True).encode()


async def settle(seen: list[dict[str, Any]]) -> None:
    """Let background tasks finish and be collected, so an unretrieved exception would show."""
    for _ in range(20):
        await asyncio.sleep(0.02)
    gc.collect()
    await asyncio.sleep(0)


async def test_a_valid_update_is_answered(webhook: Webhook, loop_errors: list[Any]) -> None:
    harness = webhook.harness
    harness.session.take()

    assert await webhook.post(update_json(harness, "/help", 700_001)) == 200

    for _ in range(100):
        if texts(harness.session.requests):
            break
        await asyncio.sleep(0.02)
    assert texts(harness.session.requests), "the update was not handled"
    await settle(loop_errors)
    assert loop_errors == []


@pytest.mark.parametrize(
    "secret",
    [
        None,
        b"",
        b"wrong",
        "s3cr3t\u00e9".encode(),
        "сек".encode(),
        b"\xff\xfe",
        SECRET.encode() * 2,
    ],
    ids=["missing", "empty", "wrong", "latin1-tail", "cyrillic", "not-utf8", "twice"],
)
async def test_a_missing_or_foreign_secret_is_401(
    webhook: Webhook, loop_errors: list[Any], secret: bytes | None
) -> None:
    harness = webhook.harness
    harness.session.take()

    assert await webhook.post(update_json(harness, "/help", 700_002), secret=secret) == 401

    await settle(loop_errors)
    assert harness.session.requests == [] and loop_errors == []


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"not json",
        b"{",
        b"\xff\xfe{}",
        b"[]",
        b'"text"',
        b"42",
        b"null",
        b"{}",
        b'{"update_id": "x"}',
        b'{"update_id": 1, "message": {"text": "no chat, no date"}}',
        b'{"update_id": 1, "message": "hi"}',
        b'{"update_id": 1e999}',
        b"[" * 100_000 + b"]" * 100_000,
    ],
    ids=[
        "empty",
        "text",
        "truncated",
        "not-utf8",
        "array",
        "string",
        "number",
        "null",
        "no-update-id",
        "bad-update-id",
        "incomplete-message",
        "message-not-object",
        "huge-number",
        "deeply-nested",
    ],
)
async def test_a_body_that_is_not_an_update_is_400(
    webhook: Webhook, loop_errors: list[Any], body: bytes
) -> None:
    harness = webhook.harness
    harness.session.take()

    with structlog.testing.capture_logs() as logs:
        status = await webhook.post(body)
        await settle(loop_errors)

    assert status == 400
    assert harness.session.requests == []  # nothing handled, nothing sent
    assert loop_errors == []
    refusals = [r for r in logs if r["event"] == "webhook request refused"]
    assert len(refusals) == 1 and refusals[0]["log_level"] == "warning"
    assert refusals[0]["status"] == 400 and refusals[0]["reason"]
    assert harness.dispatcher["failures"].get("webhook_rejected") == 1


async def test_the_answer_to_a_refusal_names_the_problem(webhook: Webhook) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", webhook.port)
    body = b"not json"
    writer.write(
        f"POST {PATH} HTTP/1.1\r\nHost: x\r\nContent-Length: {len(body)}\r\n"
        f"{SECRET_HEADER}: {SECRET}\r\nConnection: close\r\n\r\n".encode()
        + body
    )
    response = await reader.read()
    writer.close()
    head, _, payload = response.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 400")
    assert json.loads(payload) == {"ok": False, "description": "Bad Request: the body is not JSON"}


async def test_an_update_whose_handling_fails_is_logged_and_counted(
    webhook: Webhook, loop_errors: list[Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Past the error router (e.g. the dispatcher itself failing): logged, counted, 200."""
    harness = webhook.harness

    async def broken(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("dispatcher broke")

    monkeypatch.setattr(harness.dispatcher, "feed_update", broken)
    with structlog.testing.capture_logs() as logs:
        assert await webhook.post(update_json(harness, "/help", 700_003)) == 200
        await settle(loop_errors)

    assert loop_errors == []
    failed = [r for r in logs if r["event"] == "webhook update failed"]
    assert len(failed) == 1 and failed[0]["log_level"] == "error"
    assert harness.dispatcher["failures"].get("webhook_update") == 1


async def test_a_body_over_the_size_limit_is_413(webhook: Webhook, loop_errors: list[Any]) -> None:
    """aiohttp's 1 MiB request limit; Telegram's updates are far smaller."""
    harness = webhook.harness
    harness.session.take()

    assert await webhook.post(b'{"update_id": 1, "pad": "' + b"x" * (2 << 20) + b'"}') == 413

    await settle(loop_errors)
    assert harness.session.requests == [] and loop_errors == []
