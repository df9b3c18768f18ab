"""A real bot.py whose Bot API server redirects in a loop writes no token to any output.

aiohttp gives up after 10 redirects with the full URL, /bot<token>/getUpdates, in its error;
aiogram logs it on every failed poll. The LLM's base URL carries `user:password@`, which httpx
logs with every request. bot.log, stdout and stderr must hold neither secret, and the bot must
serve again once the server is fixed.
"""

from __future__ import annotations

import signal
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.support.fake_openai import FakeOpenAI
from tests.support.fake_telegram import FakeTelegram
from tests.support.processes import BotProcess, bot_env, eventually

pytestmark = pytest.mark.slow

TOKEN = "7311122334:AAHk3Zr9vQ_xY2w-8LmNoPqRsTuVwXyZ012"
LLM_PASSWORD = "llm-pa55word"
API_KEY = "sk-proj-Zt81mQ4rXv"
START_TIMEOUT = 60.0
STEP_TIMEOUT = 30.0


@pytest.fixture
async def telegram() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram(token=TOKEN) as fake:
        yield fake


async def test_redirect_loop_and_url_credentials_stay_out_of_the_logs(
    tmp_path: Path, telegram: FakeTelegram, fake_llm: FakeOpenAI, database_url: str
) -> None:
    fake_llm.mode, fake_llm.reply = "ok", None
    llm_url = fake_llm.base_url.replace("http://", f"http://syntra:{LLM_PASSWORD}@")
    log_file = tmp_path / "logs" / "bot.log"
    env = bot_env(
        BOT_TOKEN=TOKEN,
        TELEGRAM_API_BASE=telegram.base_url,
        DATABASE_URL=database_url,
        LLM_BASE_URL=llm_url,
        LLM_API_KEY=API_KEY,
        LOG_DIR=tmp_path / "logs",
    )
    bot = await BotProcess(env, tmp_path).start()
    try:
        await eventually(
            lambda: bot.running and telegram.calls_to("getUpdates"),
            timeout=START_TIMEOUT,
            what="the first getUpdates",
        )
        telegram.redirect_loop = True
        await eventually(
            lambda: log_file.exists() and "Failed to fetch updates" in log_file.read_text(),
            timeout=STEP_TIMEOUT,
            what="the failed poll in bot.log",
        )
        telegram.redirect_loop = False

        # Fixed server: the bot polls again and answers (httpx logs the LLM request).
        telegram.push_update(telegram.message_update("still there?", user_id=930_000_001))
        await telegram.wait_for("sendMessage", timeout=STEP_TIMEOUT)
        bot.signal(signal.SIGTERM)
        assert await bot.wait(40.0) == 0, bot.output()
    finally:
        await bot.close()

    logged = log_file.read_text(encoding="utf-8")
    assert "TooManyRedirects" in logged and "/bot***/getUpdates" in logged
    assert "HTTP Request: POST" in logged and "syntra:***@127.0.0.1" in logged
    everything = logged + bot.output()
    for secret in (TOKEN, TOKEN.split(":")[1], LLM_PASSWORD, API_KEY):
        assert secret not in everything, f"{secret} leaked"
