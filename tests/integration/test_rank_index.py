"""Exact ranks from the rank markers (PostgreSQL) and the Redis sorted set, as the ledger moves.

Every check compares the index's answer for every user with counting the board
(`points_queries.rank_of`), including ties (equal balances ordered by user id) and users
without points. Markers are placed every few users so that every path of the reader runs:
above the first marker, between markers, after the last, and users who crossed markers in
ledger rows the markers have not folded in yet.

The Redis tests need a Redis server: set TEST_REDIS_URL (e.g. redis://127.0.0.1:6379/9);
each run uses its own key prefix and deletes its keys.
"""

from __future__ import annotations

import asyncio
import os
import random
import uuid
from collections.abc import AsyncIterator
from urllib.parse import urlsplit

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from config.points_config import DEFAULT_RULES
from src.database import points_queries
from src.services.points_service import PointsService
from src.services.rank_redis import RedisRanks
from src.services.rank_service import RankConfig, RankService
from tests.support.clock import FakeClock
from tests.support.factories import create_user
from tests.support.tcp_proxy import TcpProxy

SMALL = RankConfig(spacing=3, max_tail=10**9)
REDIS_URL = os.environ.get("TEST_REDIS_URL")
needs_redis = pytest.mark.skipif(
    not REDIS_URL, reason="set TEST_REDIS_URL (e.g. redis://127.0.0.1:6379/9) to test Redis"
)


async def board(engine: AsyncEngine) -> dict[int, int]:
    async with engine.connect() as conn:
        rows = await conn.execute(text("SELECT user_id, balance FROM points_balances"))
        return {int(u): int(b) for u, b in rows}


async def check_every_rank(
    engine: AsyncEngine,
    sessions: async_sessionmaker[AsyncSession],
    ranks: RankService,
    source: str,
) -> None:
    """Each user's answer equals the count, and came from `source` (users with points)."""
    wrong = []
    async with sessions() as session:
        for user_id, balance in (await board(engine)).items():
            answer = await ranks.locate(session, user_id, balance)
            counted = await points_queries.rank_of(session, user_id, balance)
            # Users without points are not all in Redis: the markers answer for them.
            expected_source = "markers" if source == "redis" and balance == 0 else source
            if (answer.rank, answer.source) != (counted, expected_source):
                wrong.append((user_id, balance, answer, counted))
    assert not wrong, wrong[:10]


def service(
    engine: AsyncEngine,
    sessions: async_sessionmaker[AsyncSession],
    clock: FakeClock,
    ranks: RankService | None,
) -> PointsService:
    return PointsService(
        engine=engine, session_factory=sessions, rules=DEFAULT_RULES, clock=clock, ranks=ranks
    )


async def random_moves(points: PointsService, users: list[int], rng: random.Random, n: int) -> None:
    """Grants and deducts at once (one batch): small amounts so ties are frequent."""
    calls = []
    for i in range(n):
        user = rng.choice(users)
        amount = rng.choice([10, 10, 20, 50, 100, 7])
        key = f"m{rng.random()}:{i}"
        if rng.random() < 0.7:
            calls.append(points.admin_grant(user_id=user, amount=amount, admin_id=1, key=key))
        else:
            calls.append(points.admin_deduct(user_id=user, amount=amount, admin_id=1, key=key))
    await asyncio.gather(*calls)


async def sent(redis: RedisRanks) -> None:
    """Until the updates queued after commit have been sent (or failed)."""
    await redis.flushed()


@pytest.fixture
async def users(clean_db: None, sessions: async_sessionmaker[AsyncSession]) -> list[int]:
    return [await create_user(sessions) for _ in range(40)]


async def test_markers_give_the_exact_rank_as_the_ledger_moves(
    engine: AsyncEngine,
    sessions: async_sessionmaker[AsyncSession],
    clock: FakeClock,
    users: list[int],
) -> None:
    ranks = RankService(engine=engine, config=SMALL)
    points = service(engine, sessions, clock, ranks)
    rng = random.Random(7)
    await random_moves(points, users, rng, 120)
    await ranks.keep()  # first round: the markers are built
    await check_every_rank(engine, sessions, ranks, "markers")
    for round_ in range(12):
        await random_moves(points, users, rng, 30)
        # Not yet folded in: the reader corrects for the rows after the markers.
        await check_every_rank(engine, sessions, ranks, "markers")
        if round_ % 3 != 2:
            await ranks.keep()  # folded in
            await check_every_rank(engine, sessions, ranks, "markers")


async def test_markers_stay_exact_under_concurrent_movements(
    engine: AsyncEngine,
    sessions: async_sessionmaker[AsyncSession],
    clock: FakeClock,
    users: list[int],
) -> None:
    """The keeper runs while movements commit in other tasks: a round folds in only rows
    that can no longer change, and readers never see a row counted twice or missed."""
    ranks = RankService(engine=engine, config=RankConfig(spacing=4, max_tail=10**9, tick=0.01))
    points = service(engine, sessions, clock, ranks)
    await random_moves(points, users, random.Random(1), 80)
    await ranks.keep()  # built before the checks start
    ranks.start()
    try:
        for seed in range(15):
            await asyncio.gather(
                *(random_moves(points, users, random.Random(seed * 10 + t), 10) for t in range(4))
            )
            await check_every_rank(engine, sessions, ranks, "markers")
    finally:
        await ranks.aclose()
    await ranks.keep()
    await check_every_rank(engine, sessions, ranks, "markers")


async def test_markers_are_rebuilt_when_old_or_gapped(
    engine: AsyncEngine,
    sessions: async_sessionmaker[AsyncSession],
    clock: FakeClock,
    users: list[int],
) -> None:
    config = RankConfig(spacing=3, max_tail=10**9, max_gap=1, gap_check_every=1)
    ranks = RankService(engine=engine, config=config)
    points = service(engine, sessions, clock, ranks)
    await random_moves(points, users, random.Random(3), 100)
    await ranks.keep()
    async with engine.connect() as conn:
        built = await conn.scalar(text("SELECT rebuilt_at FROM points_rank_state"))
    # Pile everyone into one gap: the next round rebuilds instead of advancing.
    await asyncio.gather(
        *(points.admin_grant(user_id=u, amount=10_000, admin_id=1, key="top") for u in users[:10])
    )
    await ranks.keep()
    await ranks.keep()
    async with engine.connect() as conn:
        assert await conn.scalar(text("SELECT rebuilt_at FROM points_rank_state")) > built
    await check_every_rank(engine, sessions, ranks, "markers")


async def test_without_markers_or_far_behind_the_rank_is_counted(
    engine: AsyncEngine,
    sessions: async_sessionmaker[AsyncSession],
    clock: FakeClock,
    users: list[int],
) -> None:
    ranks = RankService(engine=engine, config=RankConfig(spacing=3, max_tail=5))
    points = service(engine, sessions, clock, ranks)
    await random_moves(points, users, random.Random(5), 30)
    await check_every_rank(engine, sessions, ranks, "count")  # never built
    await ranks.keep()
    await check_every_rank(engine, sessions, ranks, "markers")
    await random_moves(points, users, random.Random(6), 30)  # more than 5 rows behind
    await check_every_rank(engine, sessions, ranks, "count")


async def test_the_leaderboard_and_stats_are_the_same_with_the_index(
    engine: AsyncEngine,
    sessions: async_sessionmaker[AsyncSession],
    clock: FakeClock,
    users: list[int],
) -> None:
    ranks = RankService(engine=engine, config=SMALL)
    indexed = service(engine, sessions, clock, ranks)
    counted = service(engine, sessions, clock, None)
    await random_moves(indexed, users, random.Random(9), 150)
    await ranks.keep()
    for user in users:
        a = await indexed.get_leaderboard(limit=5, user_id=user)
        b = await counted.get_leaderboard(limit=5, user_id=user)
        assert a == b
        assert (await indexed.get_stats(user_id=user)) == (await counted.get_stats(user_id=user))


# ---------------------------------------------------------------------------- Redis


@pytest.fixture
async def redis_ranks() -> AsyncIterator[RedisRanks]:
    assert REDIS_URL is not None
    prefix = f"syntra-test-{uuid.uuid4().hex}:"
    redis = RedisRanks.from_url(REDIS_URL, prefix=prefix)
    yield redis
    cleanup = RedisRanks.from_url(REDIS_URL, prefix=prefix)
    await cleanup.delete_keys()
    await cleanup.aclose()


@needs_redis
async def test_redis_gives_the_exact_rank_kept_in_step_after_commit(
    engine: AsyncEngine,
    sessions: async_sessionmaker[AsyncSession],
    clock: FakeClock,
    users: list[int],
    redis_ranks: RedisRanks,
) -> None:
    ranks = RankService(engine=engine, redis=redis_ranks, config=SMALL)
    points = service(engine, sessions, clock, ranks)
    rng = random.Random(11)
    await random_moves(points, users, rng, 100)
    await check_every_rank(engine, sessions, ranks, "count")  # nothing built yet
    await ranks.keep()  # builds the markers and the set
    await check_every_rank(engine, sessions, ranks, "redis")
    for _ in range(8):
        await random_moves(points, users, rng, 40)
        await sent(redis_ranks)  # the updates after commit land (no keeper round)
        await check_every_rank(engine, sessions, ranks, "redis")


@needs_redis
async def test_a_movement_nobody_reported_is_noticed_and_the_rebuild_fixes_it(
    engine: AsyncEngine,
    sessions: async_sessionmaker[AsyncSession],
    clock: FakeClock,
    users: list[int],
    redis_ranks: RedisRanks,
) -> None:
    """A process that died with updates unsent: each moved user's own read sees its place in
    Redis behind its balance and is answered by the markers; the rebuild a restarted process
    does on start brings the set back in step."""
    ranks = RankService(engine=engine, redis=redis_ranks, config=SMALL)
    await random_moves(service(engine, sessions, clock, ranks), users, random.Random(1), 60)
    await ranks.keep()
    silent = service(engine, sessions, clock, None)  # moves points, tells nobody
    await random_moves(silent, users, random.Random(2), 60)
    await ranks.keep()  # markers fold the rows in; the set is not replayed
    async with sessions() as session:
        answers = [
            (await ranks.locate(session, u, b), await points_queries.rank_of(session, u, b))
            for u, b in (await board(engine)).items()
        ]
    assert {a.source for a, _ in answers} == {"redis", "markers"}
    assert all(a.rank == exact for a, exact in answers if a.source == "markers")
    await ranks.rebuild()
    await check_every_rank(engine, sessions, ranks, "redis")


@needs_redis
async def test_updates_lost_in_a_redis_outage_are_replayed_from_the_ledger(
    engine: AsyncEngine,
    sessions: async_sessionmaker[AsyncSession],
    clock: FakeClock,
    users: list[int],
) -> None:
    assert REDIS_URL is not None
    target = urlsplit(REDIS_URL)
    proxy = TcpProxy(target.hostname or "127.0.0.1", target.port or 6379)
    await proxy.start()
    redis = RedisRanks.from_url(
        f"redis://127.0.0.1:{proxy.port}{target.path}", prefix=f"syntra-test-{uuid.uuid4().hex}:"
    )
    ranks = RankService(
        engine=engine,
        redis=redis,
        config=RankConfig(spacing=3, max_tail=10**9, redis_pause=0.0),
    )
    points = service(engine, sessions, clock, ranks)
    try:
        await random_moves(points, users, random.Random(21), 60)
        await ranks.keep()
        await check_every_rank(engine, sessions, ranks, "redis")
        await proxy.cut()
        await random_moves(points, users, random.Random(22), 60)
        await sent(redis)  # the updates after commit fail
        assert redis.failures > 0 and redis.replay_from is not None
        await check_every_rank(engine, sessions, ranks, "markers")  # Redis is down
        await proxy.restore()
        await ranks.keep()  # replays the ledger after the first update it could not send
        assert redis.replay_from is None
        await check_every_rank(engine, sessions, ranks, "redis")
    finally:
        await proxy.restore()
        await redis.delete_keys()
        await ranks.aclose()
        await proxy.cut()


@needs_redis
async def test_redis_rebuild_while_points_move_loses_nothing(
    engine: AsyncEngine,
    sessions: async_sessionmaker[AsyncSession],
    clock: FakeClock,
    users: list[int],
    redis_ranks: RedisRanks,
) -> None:
    ranks = RankService(engine=engine, redis=redis_ranks, config=SMALL)
    points = service(engine, sessions, clock, ranks)
    await random_moves(points, users, random.Random(4), 60)
    await ranks.keep()

    async def keep_moving() -> None:
        for seed in range(20):
            await random_moves(points, users, random.Random(100 + seed), 10)

    await asyncio.gather(keep_moving(), ranks.rebuild(), keep_moving())
    await sent(redis_ranks)
    await ranks.keep()
    await check_every_rank(engine, sessions, ranks, "redis")


@needs_redis
async def test_stale_or_unreachable_redis_falls_back_to_postgresql(
    engine: AsyncEngine,
    sessions: async_sessionmaker[AsyncSession],
    clock: FakeClock,
    users: list[int],
    redis_ranks: RedisRanks,
) -> None:
    ranks = RankService(
        engine=engine,
        redis=redis_ranks,
        config=RankConfig(spacing=3, max_tail=10**9, redis_max_age=0.5),
    )
    points = service(engine, sessions, clock, ranks)
    await random_moves(points, users, random.Random(8), 60)
    await ranks.keep()
    await check_every_rank(engine, sessions, ranks, "redis")
    await asyncio.sleep(1.6)  # no keeper round since: Redis may be behind, not trusted
    await check_every_rank(engine, sessions, ranks, "markers")
    down = RankService(
        engine=engine,
        redis=RedisRanks.from_url("redis://127.0.0.1:1/0"),  # nothing listens there
        config=SMALL,
    )
    try:
        await check_every_rank(engine, sessions, down, "markers")
    finally:
        await down.aclose()
