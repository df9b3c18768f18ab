"""The group read of balances (src/services/balance_reads.py) on real PostgreSQL: concurrent
reads share SELECTs, each caller gets its own user's row, a read sees every movement committed
before it was made, a caller that gives up does not disturb the others, and a failed SELECT
fails only the reads it carried."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from src.database.engine import DbTimeouts, create_engine
from src.services.balance_reads import BalanceReads
from src.services.points_service import PointsService
from src.services.points_types import UnknownUserError
from tests.support.factories import create_user


async def test_concurrent_reads_share_selects_and_each_gets_its_own_row(
    points: PointsService, sessions: async_sessionmaker[AsyncSession], engine: AsyncEngine
) -> None:
    users = [await create_user(sessions) for _ in range(40)]
    for amount, user in enumerate(users, start=1):
        await points.admin_grant(user_id=user, amount=amount, admin_id=1)
    reads = BalanceReads(engine)
    asked = users + users[:5]  # the same user twice at once gets two answers
    rows = await asyncio.gather(*(reads.row(user) for user in asked))
    assert [row.balance if row else None for row in rows] == [
        users.index(user) + 1 for user in asked
    ]
    assert reads.stats.reads == len(asked)
    assert reads.stats.selects < len(asked) // 4  # one alone, then the rest together
    assert await reads.row(10**15) is None


async def test_a_read_sees_every_movement_committed_before_it(
    points: PointsService, sessions: async_sessionmaker[AsyncSession]
) -> None:
    users = [await create_user(sessions) for _ in range(8)]

    async def earn_and_look(user: int) -> list[int]:
        seen = []
        for _ in range(5):
            await points.admin_grant(user_id=user, amount=10, admin_id=1)
            seen.append((await points.get_balance(user_id=user)).balance)
        return seen

    # Eight users at once: their reads ride in shared SELECTs, never on one sent before the
    # grant they follow committed.
    for seen in await asyncio.gather(*(earn_and_look(u) for u in users)):
        assert seen == [10, 20, 30, 40, 50]
    with pytest.raises(UnknownUserError):
        await points.get_balance(user_id=10**15)


async def test_a_caller_that_gives_up_leaves_the_others_answered(
    points: PointsService, sessions: async_sessionmaker[AsyncSession], engine: AsyncEngine
) -> None:
    user = await create_user(sessions)
    await points.admin_grant(user_id=user, amount=7, admin_id=1)
    reads = BalanceReads(engine)
    first = asyncio.create_task(reads.row(user))
    quitter = asyncio.create_task(reads.row(user))
    last = asyncio.create_task(reads.row(user))
    await asyncio.sleep(0)  # all three queued
    quitter.cancel()
    row_first, row_last = await first, await last
    assert row_first is not None and row_last is not None
    assert row_first.balance == row_last.balance == 7
    assert quitter.cancelled()
    # and the reader is idle again: a later read is answered
    assert (await reads.row(user)) is not None


async def test_a_failed_select_fails_its_reads_and_the_next_read_is_answered(
    points: PointsService,
    sessions: async_sessionmaker[AsyncSession],
    app_database_url: str,
    owner_engine: AsyncEngine,
) -> None:
    user = await create_user(sessions)
    await points.admin_grant(user_id=user, amount=5, admin_id=1)
    engine = create_engine(app_database_url, pool_size=1, timeouts=DbTimeouts(statement=0.3))
    reads = BalanceReads(engine)
    try:
        async with owner_engine.connect() as blocker:
            # Another session holds the table: the SELECT waits, then its timeout ends it.
            await blocker.execute(text("LOCK TABLE points_balances IN ACCESS EXCLUSIVE MODE"))
            failed = await asyncio.gather(reads.row(user), reads.row(user), return_exceptions=True)
            await blocker.rollback()
        assert all(isinstance(r, Exception) for r in failed), failed
        row = await reads.row(user)
        assert row is not None and row.balance == 5
    finally:
        await engine.dispose()
