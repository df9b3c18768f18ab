"""The ledger path survives lost connections and retries safely (keys make retries replays)."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from config.points_config import DEFAULT_RULES
from src.database.engine import create_engine, create_session_factory
from src.services.points_service import PointsService
from tests.support.clock import FakeClock
from tests.support.factories import create_user


async def test_award_after_the_server_dropped_pooled_connections(
    app_database_url: str,
    clean_db: None,
    sessions: async_sessionmaker[AsyncSession],
    clock: FakeClock,
) -> None:
    engine = create_engine(app_database_url, pool_size=2)  # its own pool: the others stay healthy
    points = PointsService(
        engine=engine,
        session_factory=create_session_factory(engine),
        rules=DEFAULT_RULES,
        clock=clock,
    )
    try:
        user = await create_user(sessions)
        first = await points.award_request(user_id=user, action="earn_text_request", key="a")
        async with engine.connect() as conn:
            own_pids = {await conn.scalar(text("SELECT pg_backend_pid()"))}
        async with sessions() as session:  # a connection of another pool kills them
            killed = await session.scalar(
                text(
                    "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE pid = ANY(:p)"
                ),
                {"p": list(own_pids)},
            )
        assert killed == 1
        clock.advance(seconds=5)
        second = await points.award_request(user_id=user, action="earn_text_request", key="b")
        assert (first.amount, second.amount, second.balance_after) == (10, 10, 20)
    finally:
        await engine.dispose()
