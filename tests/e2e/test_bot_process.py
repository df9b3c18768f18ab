"""bot.py as a real process against local fakes of the Telegram Bot API and the LLM.

What the issue promises and these tests hold it to: long polling by default, webhook mode when
WEBHOOK_URL is set (secret token checked, setWebhook on start), TELEGRAM_API_BASE honoured,
JSON-lines logs with a 💎 line per points movement, a graceful SIGTERM that loses no in-flight
award, and a one-line refusal without BOT_TOKEN.
"""

from __future__ import annotations

import asyncio
import json
import signal
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiogram import Bot, Dispatcher
from aiohttp import web
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from config.settings import load_settings
from src.bot.local_session import LocalBotSession
from src.bot.webhook import create_webhook_app
from tests.support.fake_openai import FakeOpenAI
from tests.support.fake_telegram import FakeTelegram, TelegramCall
from tests.support.processes import BotProcess, bot_env, eventually, free_port, json_lines

pytestmark = pytest.mark.slow

TOKEN = "123456:TEST"
START_TIMEOUT = 60.0  # imports + migrations on a loaded CI machine
STEP_TIMEOUT = 30.0
EXIT_TIMEOUT = 40.0  # the grace: bot_env's LLM timeout (20 s) + the 15 s margin


@pytest.fixture
async def telegram() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram(token=TOKEN) as fake:
        yield fake


@pytest.fixture
async def llm(fake_llm: FakeOpenAI) -> AsyncIterator[FakeOpenAI]:
    fake_llm.mode, fake_llm.reply, fake_llm.expected_key, fake_llm.delay = "ok", None, None, 5.0
    fake_llm.requests.clear()
    yield fake_llm
    fake_llm.mode, fake_llm.delay = "ok", 5.0


@pytest.fixture
async def processes() -> AsyncIterator[list[BotProcess]]:
    """Every bot.py started by a test; killed at the end if a failed test left one running."""
    started: list[BotProcess] = []
    yield started
    for process in started:
        await process.close()


def env_for(
    tmp_path: Path, telegram: FakeTelegram, llm: FakeOpenAI, database_url: str, **extra: Any
) -> dict[str, str]:
    return bot_env(
        BOT_TOKEN=TOKEN,
        TELEGRAM_API_BASE=telegram.base_url,
        DATABASE_URL=database_url,
        LLM_BASE_URL=llm.base_url,
        LLM_API_KEY="test-key",
        LOG_DIR=tmp_path / "logs",
        **extra,
    )


async def start_bot(processes: list[BotProcess], env: dict[str, str], workdir: Path) -> BotProcess:
    process = await BotProcess(env, workdir).start()
    processes.append(process)
    return process


def to_chat(chat_id: int, containing: str = "") -> Callable[[TelegramCall], bool]:
    def match(call: TelegramCall) -> bool:
        return call.params.get("chat_id") == chat_id and containing in str(call.params["text"])

    return match


def asked(question: str) -> Callable[[FakeOpenAI], bool]:
    def check(llm: FakeOpenAI) -> bool:
        return any(r.body and r.body["messages"][-1]["content"] == question for r in llm.requests)

    return check


async def ledger_row(engine: AsyncEngine, key: str) -> Any:
    async with engine.connect() as conn:
        result = await conn.execute(
            text(
                "SELECT user_id, transaction_type, amount FROM points_transactions"
                " WHERE transaction_id = :key"
            ),
            {"key": key},
        )
        return result.one_or_none()


def diamond_lines(log_file: Path, key: str) -> list[dict[str, Any]]:
    """The 💎 lines of bot.log for one idempotency key (what `grep 💎 logs/bot.log` shows)."""
    if not log_file.exists():
        return []
    lines = log_file.read_text(encoding="utf-8").splitlines()
    records = [json.loads(line) for line in lines if "💎" in line]
    return [r for r in records if r.get("key") == key]


async def running_until(bot: BotProcess, check: Callable[[], Any], what: str) -> None:
    def ready() -> Any:
        assert bot.running, f"bot.py exited early\n{bot.output()}"
        return check()

    await eventually(ready, timeout=START_TIMEOUT, what=what)


async def test_polling_serves_then_drains_on_sigterm(
    tmp_path: Path,
    telegram: FakeTelegram,
    llm: FakeOpenAI,
    database_url: str,
    engine: AsyncEngine,
    processes: list[BotProcess],
) -> None:
    ready_file = tmp_path / "bot.ready"
    env = env_for(tmp_path, telegram, llm, database_url, SYNTRA_READY_FILE=ready_file)
    log_file = tmp_path / "logs" / "bot.log"
    bot = await start_bot(processes, env, tmp_path)
    await running_until(bot, lambda: telegram.calls_to("getUpdates"), "the first getUpdates")

    # Startup: no webhook in the way, the command menu in both languages, then "ready".
    assert ready_file.exists()  # what ./manage.sh start waits for
    assert telegram.calls_to("deleteWebhook")
    menus = {c.params.get("language_code"): c for c in telegram.calls_to("setMyCommands")}
    assert {"ru", "en"} <= menus.keys()
    assert menus["en"].params["commands"][0]["command"] == "start"
    assert menus["ru"].params["commands"] != menus["en"].params["commands"]  # translated

    # /start, then a question: the welcome, the AI's answer, and the earn in log and ledger.
    user = 910_000_001
    telegram.push_update(telegram.message_update("/start", user_id=user, first_name="Ann"))
    welcome = await telegram.wait_for("sendMessage", to_chat(user, "Welcome"), timeout=STEP_TIMEOUT)
    assert "Ann" in welcome.params["text"] and welcome.params.get("parse_mode") == "HTML"

    question = telegram.message_update("What is a blockchain?", user_id=user)
    telegram.push_update(question)
    answer = await telegram.wait_for(
        "sendMessage", to_chat(user, "Answer: What is a blockchain?"), timeout=STEP_TIMEOUT
    )
    assert answer.at > welcome.at
    assert any(c.params.get("chat_id") == user for c in telegram.calls_to("sendChatAction"))
    assert llm.requests[-1].headers["authorization"] == "Bearer test-key"
    key = f"text_req:{user}:{question['message']['message_id']}"
    diamonds = await eventually(
        lambda: diamond_lines(log_file, key), timeout=STEP_TIMEOUT, what=f"a 💎 line for {key}"
    )
    assert diamonds[0]["type"] == "earn_text_request" and diamonds[0]["amount"] > 0
    row = await ledger_row(engine, key)
    assert row is not None and row.user_id == user and row.amount == diamonds[0]["amount"]

    # SIGTERM while an answer is in flight (slow LLM): it is still sent, and its award kept.
    llm.mode, llm.delay = "slow", 3.0
    other = 910_000_002
    slow = telegram.message_update("Will ETH go up?", user_id=other)
    telegram.push_update(slow)
    await eventually(lambda: asked("Will ETH go up?")(llm), timeout=STEP_TIMEOUT, what="the LLM")
    loop = asyncio.get_running_loop()
    signalled_at = loop.time()
    bot.signal(signal.SIGTERM)

    assert await bot.wait(EXIT_TIMEOUT) == 0, bot.output()
    assert loop.time() - signalled_at < EXIT_TIMEOUT
    late = [c for c in telegram.calls_to("sendMessage") if to_chat(other, "Answer: Will ETH")(c)]
    assert late, f"the in-flight answer was not sent\n{bot.output()}"
    slow_key = f"text_req:{other}:{slow['message']['message_id']}"
    row = await ledger_row(engine, slow_key)
    assert row is not None, f"the in-flight award {slow_key} was lost\n{bot.output()}"
    assert row.transaction_type == "earn_text_request" and row.amount > 0
    assert diamond_lines(log_file, slow_key)

    records = json_lines(log_file)  # every line a JSON object
    assert all({"event", "level", "timestamp"} <= r.keys() for r in records)
    events = [r["event"] for r in records]
    assert "starting long polling" in events
    assert events.index("waiting for in-flight updates") < events.index("bot stopped")
    assert "Unclosed" not in bot.stderr(), bot.output()  # sessions closed, nothing leaked


async def test_missing_token_refuses_with_one_line(tmp_path: Path, database_url: str) -> None:
    process = BotProcess(
        bot_env(BOT_TOKEN="", DATABASE_URL=database_url, LOG_DIR=tmp_path / "logs"), tmp_path
    )
    await process.start()
    try:
        assert await process.wait(STEP_TIMEOUT) == 2
        lines = process.stderr().strip().splitlines()
        assert len(lines) == 1, process.output()
        assert "BOT_TOKEN" in lines[0] and "./manage.sh console" in lines[0]
        assert not (tmp_path / "logs" / "bot.log").exists()  # refused before starting anything
    finally:
        await process.close()


async def test_the_demo_assistant_is_refused_for_telegram(
    tmp_path: Path, database_url: str
) -> None:
    env = bot_env(
        BOT_TOKEN=TOKEN, LLM_BASE_URL="demo", DATABASE_URL=database_url, LOG_DIR=tmp_path / "logs"
    )
    process = await BotProcess(env, tmp_path).start()
    try:
        assert await process.wait(STEP_TIMEOUT) == 2
        lines = process.stderr().strip().splitlines()
        assert len(lines) == 1, process.output()
        assert lines[0].startswith("bot: LLM_BASE_URL=demo") and "console" in lines[0]
        assert not (tmp_path / "logs" / "bot.log").exists()  # refused before starting anything
    finally:
        await process.close()


async def test_webhook_mode_checks_the_secret_token(
    tmp_path: Path,
    telegram: FakeTelegram,
    llm: FakeOpenAI,
    database_url: str,
    engine: AsyncEngine,
    processes: list[BotProcess],
) -> None:
    for attempt in range(3):  # another process may take the free port before the bot binds it
        port = free_port()
        hook = f"http://127.0.0.1:{port}/tg/hook"
        env = env_for(
            tmp_path,
            telegram,
            llm,
            database_url,
            WEBHOOK_URL=hook,
            WEBHOOK_SECRET="s3cr3t",
            WEBHOOK_LISTEN_HOST="127.0.0.1",
            WEBHOOK_LISTEN_PORT=port,
        )
        bot = await start_bot(processes, env, tmp_path)
        try:
            await running_until(bot, lambda: telegram.calls_to("setWebhook"), "setWebhook")
        except AssertionError:
            if attempt < 2 and "address already in use" in bot.stderr().lower():
                await bot.close()
                continue
            raise
        break

    call = telegram.calls_to("setWebhook")[0]
    assert call.params["url"] == hook and call.params["secret_token"] == "s3cr3t"
    assert "message" in call.params.get("allowed_updates", [])
    assert not telegram.calls_to("getUpdates")  # no polling in webhook mode
    assert {"ru", "en"} <= {
        c.params.get("language_code") for c in telegram.calls_to("setMyCommands")
    }

    user = 910_000_003
    update = telegram.message_update("Explain staking", user_id=user)
    header = "X-Telegram-Bot-Api-Secret-Token"
    async with aiohttp.ClientSession() as http:
        # setWebhook comes once the port is bound: Telegram may post right away.
        async with http.post(hook, json=update) as resp:
            assert resp.status == 401
        async with http.post(hook, json=update, headers={header: "wrong"}) as resp:
            assert resp.status == 401
        # Bad input gets a clear status, never a 500 (tests/bot/test_webhook_input.py has more).
        async with http.post(hook, data=b"not json", headers={header: "s3cr3t"}) as resp:
            assert resp.status == 400
        async with http.post(hook, json={"update_id": "x"}, headers={header: "s3cr3t"}) as resp:
            assert resp.status == 400
        await asyncio.sleep(0.3)
        assert not llm.requests and not telegram.calls_to("sendMessage")  # nothing handled

        # The right token, and a slow LLM: SIGTERM arrives while the answer is in flight.
        llm.mode, llm.delay = "slow", 2.0
        async with http.post(hook, json=update, headers={header: "s3cr3t"}) as resp:
            assert resp.status == 200
    await eventually(lambda: llm.requests, timeout=STEP_TIMEOUT, what="the LLM request")
    bot.signal(signal.SIGTERM)
    assert await bot.wait(EXIT_TIMEOUT) == 0, bot.output()

    assert [c for c in telegram.calls_to("sendMessage") if to_chat(user, "Answer: Explain")(c)]
    key = f"text_req:{user}:{update['message']['message_id']}"
    assert await ledger_row(engine, key) is not None, bot.output()
    events = [r["event"] for r in json_lines(tmp_path / "logs" / "bot.log")]
    assert events.index("webhook server listening") < events.index("webhook set")
    assert "waiting for in-flight updates" in events and "bot stopped" in events
    assert events.count("webhook request refused") == 2
    assert "Unclosed" not in bot.stderr(), bot.output()
    assert "never retrieved" not in bot.stderr(), bot.output()
    assert "unhandled exception in the event loop" not in events


async def test_webhook_shutdown_drains_before_closing_the_bot_session() -> None:
    """In-flight handlers still answer through the bot's session, closed only after them."""
    events: list[str] = []

    class Session(LocalBotSession):
        async def close(self) -> None:
            events.append("session closed")

    session = Session()
    bot = Bot("1:LOCAL", session=session)
    dispatcher = Dispatcher()

    async def drain() -> None:  # stands for the dispatcher's in-flight drain
        await asyncio.sleep(0.05)
        await bot.send_message(1, "late answer")
        events.append("in-flight answer sent")

    dispatcher.shutdown.register(drain)
    settings = load_settings(
        _env_file=None, WEBHOOK_URL="http://127.0.0.1:1/hook", WEBHOOK_SECRET="abc"
    )
    runner = web.AppRunner(create_webhook_app(dispatcher, bot, settings))
    await runner.setup()
    await runner.cleanup()
    assert events == ["in-flight answer sent", "session closed"]
