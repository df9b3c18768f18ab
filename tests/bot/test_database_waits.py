"""Answers never wait on the database (issue: a locked `users` row or a silent database host
held back the AI answer, "typing…" included, until the lock was released or 60 s passed).

Each test builds the production context with its own engine, so the DB_*_TIMEOUT_SECONDS
settings are in force as in production; the LLM is the local fake.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from aiogram.methods import SendChatAction, SendMessage
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from config.settings import load_settings
from src.bootstrap import AppContext, build_context
from src.database.engine import DbTimeouts, create_engine
from src.locales import translator
from tests.bot.helpers import balance_of, ledger
from tests.conftest import ADMIN_ID, harness_for
from tests.support.clock import FakeClock
from tests.support.factories import create_user
from tests.support.fake_openai import FakeOpenAI
from tests.support.telegram import BotHarness, texts

ME = 610_001
# The fake LLM answers at once; the answer must come well within this.
ANSWER_BOUND = 1.5

TimedContext = Callable[..., AppContext]


@pytest.fixture
async def timed_context(
    app_database_url: str, clock: FakeClock, fake_llm: FakeOpenAI, clean_db: None
) -> AsyncIterator[TimedContext]:
    """build(**env) -> a context with its own engine (the timeouts of its settings)."""
    fake_llm.mode, fake_llm.reply = "ok", None
    fake_llm.requests.clear()
    built: list[AppContext] = []

    def build(**overrides: str) -> AppContext:
        env = {
            "ADMIN_IDS": str(ADMIN_ID),
            "LLM_BASE_URL": fake_llm.base_url,
            "LLM_API_KEY": "test-key",
            "LLM_TIMEOUT_SECONDS": "2",
            **overrides,
        }
        settings = load_settings(_env_file=None, **env)
        url = overrides.get("DATABASE_URL") or app_database_url
        context = build_context(settings, database_url=url, clock=clock)
        built.append(context)
        return context

    yield build
    for context in built:
        await context.close()


async def _first_answer_after(harness: BotHarness, update: Any) -> tuple[float, float, Any]:
    """Feed `update` in the background; (seconds to "typing", seconds to the first message,
    the still running feed task)."""
    harness.session.take()
    started = time.monotonic()
    feeding = asyncio.create_task(harness.dispatcher.feed_update(harness.bot, update))
    typing_at = answer_at = None
    while answer_at is None and time.monotonic() - started < 10:
        await asyncio.sleep(0.01)
        for request in harness.session.requests:
            if isinstance(request, SendChatAction) and typing_at is None:
                typing_at = time.monotonic() - started
            if isinstance(request, SendMessage):
                answer_at = time.monotonic() - started
    assert typing_at is not None and answer_at is not None, "no answer within 10 s"
    return typing_at, answer_at, feeding


class RowLock:
    """Another transaction holding the user's `users` row (SELECT ... FOR UPDATE)."""

    def __init__(self, engine: AsyncEngine, user_id: int) -> None:
        self._engine, self._user_id = engine, user_id
        self._release = asyncio.Event()
        self._locked = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> RowLock:
        self._task = asyncio.create_task(self._hold())
        await asyncio.wait_for(self._locked.wait(), 5)
        return self

    async def _hold(self) -> None:
        async with self._engine.connect() as conn, conn.begin():
            query = "SELECT 1 FROM users WHERE telegram_id = :id FOR UPDATE"
            await conn.execute(text(query), {"id": self._user_id})
            self._locked.set()
            await self._release.wait()

    async def release(self) -> None:
        self._release.set()
        if self._task is not None:
            await self._task

    async def __aexit__(self, *exc: object) -> None:
        await self.release()


async def test_locked_user_row_does_not_hold_back_the_answer_and_the_award_follows(
    timed_context: TimedContext,
    engine: AsyncEngine,
    sessions: async_sessionmaker[AsyncSession],
    clock: FakeClock,
) -> None:
    context = timed_context()  # lock timeout: the default 3 s
    harness = harness_for(context)
    await harness.send("hello", user_id=ME)  # registered (and paid 10) before the lock
    clock.advance(seconds=10)  # past the 5 s between two paid text requests
    update = harness.message_update("What is DeFi?", user_id=ME, message_id=20_001)

    async with RowLock(engine, ME) as lock:
        typing_at, answer_at, feeding = await _first_answer_after(harness, update)
        assert typing_at < ANSWER_BOUND and answer_at < ANSWER_BOUND
        assert texts(harness.session.requests) == ["Answer: What is DeFi?"]
        assert not feeding.done()  # the award waits behind the lock, after the answer
        await lock.release()
    await asyncio.wait_for(feeding, 5)

    assert await balance_of(sessions, ME) == 20  # the award went through once the lock went
    assert [row.transaction_id for row in await ledger(sessions, ME)][-1] == f"text_req:{ME}:20001"
    assert context.failures.get("user_registration") == 0


async def test_lock_held_past_the_lock_timeout_is_counted_and_the_answer_still_goes_out(
    timed_context: TimedContext, engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession]
) -> None:
    context = timed_context(DB_LOCK_TIMEOUT_SECONDS="0.3")
    harness = harness_for(context)
    await create_user(sessions, telegram_id=ME)
    update = harness.message_update("gm", user_id=ME)

    async with RowLock(engine, ME):
        _, answer_at, feeding = await _first_answer_after(harness, update)
        await asyncio.wait_for(feeding, 5)  # ends while the lock is still held: bounded

    assert answer_at < ANSWER_BOUND
    assert context.failures.get("user_registration") == 1
    assert await ledger(sessions, ME) == []  # no award without the user's row


async def test_locked_row_bounds_a_points_command(
    timed_context: TimedContext, engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession]
) -> None:
    """A command that shows points waits at most the lock timeout, then says "unavailable"."""
    context = timed_context(DB_LOCK_TIMEOUT_SECONDS="0.3")
    harness = harness_for(context)
    await create_user(sessions, telegram_id=ME)

    async with RowLock(engine, ME):
        started = time.monotonic()
        requests = await asyncio.wait_for(harness.send("/points", user_id=ME), 5)
        elapsed = time.monotonic() - started

    assert elapsed < 2
    assert texts(requests) == [translator("en")("error-unavailable")]


class SilentServer:
    """A TCP listener that accepts connections and never says a word: a hung database host."""

    def __init__(self) -> None:
        self._server: asyncio.Server | None = None
        self._writers: list[asyncio.StreamWriter] = []
        self.port = 0

    async def __aenter__(self) -> SilentServer:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def _accept(self, _: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._writers.append(writer)  # kept open, never answered

    async def __aexit__(self, *exc: object) -> None:
        for writer in self._writers:
            writer.close()
        if self._server is not None:
            self._server.close()


async def test_silent_database_host_does_not_hold_back_the_answer(
    timed_context: TimedContext, fake_llm: FakeOpenAI
) -> None:
    async with SilentServer() as silent:
        context = timed_context(
            DATABASE_URL=f"postgresql+asyncpg://nobody@127.0.0.1:{silent.port}/syntra",
            DB_CONNECT_TIMEOUT_SECONDS="1",
        )
        harness = harness_for(context)
        update = harness.message_update("Is BTC up?", user_id=ME, language_code="ru")

        typing_at, answer_at, feeding = await _first_answer_after(harness, update)
        started = time.monotonic()
        await asyncio.wait_for(feeding, 5)
        registration_gave_up_after = answer_at + time.monotonic() - started

        # "typing" at once; the answer waits at most the brief language wait of a user this
        # process has not seen, never the connect timeout
        assert typing_at < 0.3
        assert answer_at < ANSWER_BOUND
        assert texts(harness.session.requests) == ["Answer: Is BTC up?"]
        assert fake_llm.requests[-1].body["messages"][0]["content"].endswith("Answer in Russian.")
        assert 0.8 < registration_gave_up_after < 3  # the 1 s connect timeout, not 60 s
        assert context.failures.get("user_registration") == 1

        # a command that needs the database is refused within the connect timeout
        started = time.monotonic()
        sent = harness.send("/points", user_id=ME, language_code="ru")
        requests = await asyncio.wait_for(sent, 5)
        assert time.monotonic() - started < 3
        assert texts(requests) == [translator("ru")("error-unavailable")]


def test_timeouts_reach_the_driver_and_the_server() -> None:
    settings = load_settings(
        _env_file=None,
        DB_CONNECT_TIMEOUT_SECONDS="2",
        DB_STATEMENT_TIMEOUT_SECONDS="7.5",
        DB_LOCK_TIMEOUT_SECONDS="0.25",
    )
    assert DbTimeouts.of(settings).connect_args() == {
        "timeout": 2.0,
        "command_timeout": 8.5,
        "server_settings": {"lock_timeout": "250", "statement_timeout": "7500"},
    }
    assert DbTimeouts.of(settings, statements=False).connect_args() == {
        "timeout": 2.0,
        "server_settings": {"lock_timeout": "250"},
    }


async def test_the_server_applies_them(app_database_url: str) -> None:
    engine = create_engine(app_database_url, pool_size=1, timeouts=DbTimeouts(1, 2, 0.5))
    try:
        async with engine.connect() as conn:
            lock = await conn.scalar(text("SHOW lock_timeout"))
            statement = await conn.scalar(text("SHOW statement_timeout"))
            with pytest.raises(Exception, match="statement timeout"):
                await conn.execute(text("SELECT pg_sleep(5)"))
    finally:
        await engine.dispose()
    assert (lock, statement) == ("500ms", "2s")
