"""Shared fixtures: a real PostgreSQL (embedded unless TEST_DATABASE_URL), migrated once per run."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from datetime import UTC, datetime

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from config.points_config import DEFAULT_RULES, PointsRules
from config.settings import load_settings
from src.bot.dispatcher import create_dispatcher
from src.bot.local_session import local_bot
from src.database.engine import create_engine, create_session_factory
from src.services.llm_client import LLMClient
from src.services.points_service import PointsService
from src.services.user_service import UserService
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


@pytest.fixture
async def harness(
    points: PointsService,
    sessions: async_sessionmaker[AsyncSession],
    clock: FakeClock,
    fake_llm: FakeOpenAI,
) -> AsyncIterator[BotHarness]:
    """The production dispatcher on the test database, a local Bot API and a fake LLM."""
    fake_llm.mode, fake_llm.reply, fake_llm.expected_key = "ok", None, None
    fake_llm.requests.clear()
    settings = load_settings(_env_file=None, ADMIN_IDS=str(ADMIN_ID), TIMEZONE="UTC")
    llm = LLMClient(base_url=fake_llm.base_url, api_key="test-key", model="test-model", timeout=2)
    dispatcher = create_dispatcher(
        settings=settings,
        points=points,
        users=UserService(session_factory=sessions, clock=clock),
        llm=llm,
    )
    bot, session = local_bot()
    yield BotHarness(dispatcher, bot, session)
    await llm.aclose()
