"""The webhook handles each update once: duplicates dropped, one in progress elsewhere sent back.

The production dispatcher and webhook app (src/bot/webhook.py) on a free port, the update
marks of the context (PostgreSQL here; Redis in tests/integration/test_update_marks.py).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable

import aiohttp
import pytest
from aiohttp import web

from config.settings import load_settings
from src.bootstrap import AppContext
from src.bot.webhook import SECRET_HEADER, create_webhook_app
from src.services.update_dedupe import Claim
from tests.conftest import ContextFactory, harness_for
from tests.support.telegram import BotHarness, texts

SECRET = "s3cr3t"
PATH = "/tg/hook"


class Hook:
    def __init__(self, url: str, harness: BotHarness, context: AppContext) -> None:
        self.url, self.harness, self.context = url, harness, context

    async def post(self, body: bytes) -> tuple[int, dict[str, str]]:
        headers = {SECRET_HEADER: SECRET, "Content-Type": "application/json"}
        async with (
            aiohttp.ClientSession() as http,
            http.post(self.url, data=body, headers=headers) as resp,
        ):
            return resp.status, dict(resp.headers)


HookFactory = Callable[..., Awaitable[Hook]]


@pytest.fixture
async def hook_for(make_context: ContextFactory) -> AsyncIterator[HookFactory]:
    runners: list[web.AppRunner] = []

    async def build(ack: str = "received", **env: str) -> Hook:
        context = make_context(**env)
        harness = harness_for(context)
        settings = load_settings(
            _env_file=None,
            WEBHOOK_URL=f"https://example.org{PATH}",
            WEBHOOK_SECRET=SECRET,
            WEBHOOK_ACK=ack,
        )
        runner = web.AppRunner(create_webhook_app(harness.dispatcher, harness.bot, settings))
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", 0).start()
        runners.append(runner)
        port = int(runner.addresses[0][1])
        return Hook(f"http://127.0.0.1:{port}{PATH}", harness, context)

    yield build
    for runner in runners:
        await runner.cleanup()


def body(harness: BotHarness, text: str, user_id: int) -> tuple[int, bytes]:
    update = harness.message_update(text, user_id=user_id)
    return update.update_id, update.model_dump_json(exclude_none=True).encode()


async def answers(harness: BotHarness, at_least: int = 1) -> list[str]:
    for _ in range(100):
        if len(texts(harness.session.requests)) >= at_least:
            break
        await asyncio.sleep(0.02)
    await asyncio.sleep(0.1)  # and nothing more comes
    return texts(harness.session.requests)


async def test_a_redelivered_update_is_answered_once(hook_for: HookFactory) -> None:
    hook: Hook = await hook_for()
    update_id, update = body(hook.harness, "/help", 700_101)
    assert (await hook.post(update))[0] == 200
    assert len(await answers(hook.harness)) == 1
    assert (await hook.post(update))[0] == 200  # acknowledged, so Telegram stops sending it
    assert len(await answers(hook.harness)) == 1
    assert await hook.context.update_marks.claim(update_id, 60) is Claim.DONE


async def test_acknowledged_after_handling_and_busy_elsewhere_is_retried(
    hook_for: HookFactory,
) -> None:
    hook: Hook = await hook_for("handled")
    _, update = body(hook.harness, "/help", 700_102)
    assert (await hook.post(update))[0] == 200
    assert len(texts(hook.harness.session.requests)) == 1  # answered before the 200

    # Another worker holds this one: come back later, and nothing is handled here.
    busy_id, busy = body(hook.harness, "/help", 700_103)
    assert await hook.context.update_marks.claim(busy_id, 60) is Claim.NEW
    status, headers = await hook.post(busy)
    assert status == 503 and headers["Retry-After"] == "5"
    assert len(await answers(hook.harness)) == 1
    # That worker died; its lease is over (released here): the retry is handled.
    await hook.context.update_marks.release(busy_id)
    assert (await hook.post(busy))[0] == 200
    assert len(texts(hook.harness.session.requests)) == 2


async def test_a_store_outage_never_stops_an_update(hook_for: HookFactory) -> None:
    """Redis unreachable: marks and FSM state fail, the update is still answered, counted."""
    hook: Hook = await hook_for(REDIS_URL="redis://127.0.0.1:1/0")
    _, update = body(hook.harness, "/help", 700_104)
    assert (await hook.post(update))[0] == 200
    assert len(await answers(hook.harness)) == 1
    failures = hook.context.failures
    assert failures.get("update_marks") >= 1 and failures.get("fsm_storage") >= 1
