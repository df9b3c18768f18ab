"""Shared fixtures: a real PostgreSQL (embedded unless TEST_DATABASE_URL), migrated once per run."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from datetime import UTC, datetime

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from config.points_config import DEFAULT_RULES, PointsRules
from src.database.engine import create_engine, create_session_factory
from src.services.points_service import PointsService
from tests.support.clock import FakeClock
from tests.support.database import TRUNCATE, drop_test_database, reset_schema, test_database_url


@pytest.fixture(scope="session")
def database_url() -> Iterator[str]:
    url = test_database_url()
    reset_schema(url)
    yield url
    drop_test_database()


@pytest.fixture(scope="session")
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(database_url, pool_size=20)
    yield engine
    await engine.dispose()


@pytest.fixture(scope="session")
def sessions(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return create_session_factory(engine)


@pytest.fixture
async def clean_db(engine: AsyncEngine) -> AsyncIterator[None]:
    async with engine.begin() as conn:
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
