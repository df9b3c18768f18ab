"""Shared fixtures: a real PostgreSQL (embedded unless TEST_DATABASE_URL), migrated once per run."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from datetime import UTC, datetime

import pytest
import structlog
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from config.points_config import DEFAULT_RULES, PointsRules
from config.settings import load_settings
from src.bootstrap import AppContext, build_context
from src.bot.dispatcher import create_dispatcher
from src.bot.local_session import local_bot
from src.database.engine import create_engine, create_session_factory
from src.services.points_service import PointsService
from tests.support.clock import FakeClock
from tests.support.database import (
    TRUNCATE,
    drop_test_database,
    reset_schema,
    test_database_url,
    test_database_urls,
)
from tests.support.fake_openai import FakeOpenAI
from tests.support.telegram import BotHarness


def pytest_configure(config: pytest.Config) -> None:
    """structlog as the tests leave it (no entry point configures it in-process), but with
    plain tracebacks: its default pretty-prints every frame's locals (the dispatcher, the bot,
    the harness...), which took 10-60 s per test that logs one."""
    processors = list(structlog.get_config()["processors"])
    processors[-1] = structlog.dev.ConsoleRenderer(
        colors=False, exception_formatter=structlog.dev.plain_traceback
    )
    structlog.configure(processors=processors)


@pytest.fixture(scope="session")
def database_url() -> Iterator[str]:
    url = test_database_url()
    reset_schema(url)
    yield url
    drop_test_database()


@pytest.fixture(scope="session")
def app_database_url(database_url: str) -> str:
    """What the services connect with: on the embedded server, the application role."""
    return test_database_urls()[0]


@pytest.fixture(scope="session")
async def engine(app_database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(app_database_url, pool_size=20)
    yield engine
    await engine.dispose()


@pytest.fixture(scope="session")
async def owner_engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    """The schema owner's connection, for what the application may not do (TRUNCATE)."""
    engine = create_engine(database_url, pool_size=2)
    yield engine
    await engine.dispose()


@pytest.fixture(scope="session")
def sessions(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return create_session_factory(engine)


@pytest.fixture
async def clean_db(owner_engine: AsyncEngine) -> AsyncIterator[None]:
    async with owner_engine.begin() as conn:
        await conn.execute(TRUNCATE)
    yield


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(datetime(2026, 3, 10, 12, 0, tzinfo=UTC))


ServiceFactory = Callable[..., PointsService]


@pytest.fixture
def make_service(
    engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession], clock: FakeClock
) -> ServiceFactory:
    def build(
        *, rules: PointsRules = DEFAULT_RULES, timezone: str = "UTC", use_clock: bool = True
    ) -> PointsService:
        return PointsService(
            engine=engine,
            session_factory=sessions,
            rules=rules,
            timezone=timezone,
            clock=clock if use_clock else None,
        )

    return build


@pytest.fixture
def points(make_service: ServiceFactory, clean_db: None) -> PointsService:
    return make_service()


@pytest.fixture(scope="session")
async def fake_llm() -> AsyncIterator[FakeOpenAI]:
    async with FakeOpenAI() as fake:
        yield fake


ADMIN_ID = 777_000_001
ContextFactory = Callable[..., AppContext]


@pytest.fixture
async def make_context(
    engine: AsyncEngine, clock: FakeClock, fake_llm: FakeOpenAI, clean_db: None
) -> AsyncIterator[ContextFactory]:
    """build(**settings) -> the production context on the test database, FakeClock and fake
    LLM. Settings are given as environment variables (`TIMEZONE="Europe/Moscow"`), on top of
    the test defaults: ADMIN_IDS=ADMIN_ID, UTC and a 2 s LLM timeout."""
    fake_llm.mode, fake_llm.reply, fake_llm.expected_key = "ok", None, None
    fake_llm.requests.clear()
    built: list[AppContext] = []

    def build(**overrides: str) -> AppContext:
        env = {
            "ADMIN_IDS": str(ADMIN_ID),
            "TIMEZONE": "UTC",
            "LLM_BASE_URL": fake_llm.base_url,
            "LLM_API_KEY": "test-key",
            "LLM_MODEL": "test-model",
            "LLM_TIMEOUT_SECONDS": "2",
            **overrides,
        }
        context = build_context(load_settings(_env_file=None, **env), engine=engine, clock=clock)
        built.append(context)
        return context

    yield build
    for context in built:
        await context.close()


@pytest.fixture
def context(make_context: ContextFactory) -> AppContext:
    return make_context()


def harness_for(context: AppContext) -> BotHarness:
    """The production dispatcher of `context`, talking to an in-process Bot API."""
    bot, session = local_bot()
    return BotHarness(create_dispatcher(context), bot, session)


@pytest.fixture
def harness(context: AppContext) -> BotHarness:
    """The production dispatcher on the test database, a local Bot API and a fake LLM."""
    return harness_for(context)
