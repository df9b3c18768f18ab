"""A user's exact rank without counting the whole board.

Three ways to answer, tried in order:

1. Redis (when REDIS_URL is set): a sorted set kept in step after every commit and by the
   keeper below (src/services/rank_redis.py); O(log n).
2. Rank markers in PostgreSQL (migration 0006): every `spacing`-th place of the board with
   the exact number of users ahead of it; the rank is the nearest marker's count, plus the
   users between the marker and the user (at most a few `spacing`s, counted in the
   leaderboard index), plus the users who crossed the marker in the ledger rows the markers
   have not folded in yet. Nothing is added to the earn path.
3. Counting every richer user (points_queries.rank_of): when neither is available.

The keeper (one background task per process; the rank lock makes one of them act per round)
folds new ledger rows into the markers about every second and rebuilds them when they are
missing, old, or their gaps have grown. For Redis it rebuilds the set when the process
starts and when it is old, replays the ledger after an update this process failed to send,
and checks in (`synced_at`), which readers require.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass

import structlog
from redis.exceptions import RedisError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from src.database import points_queries, rank_queries
from src.database.ledger_calls import LedgerResult
from src.services.rank_redis import RedisRanks

log = structlog.get_logger(__name__)

REDIS_CHUNK = 50_000  # ledger ids per replay call into Redis


@dataclass(frozen=True, slots=True)
class RankConfig:
    spacing: int = 128  # users between two markers after a rebuild
    max_tail: int = 20_000  # ledger rows the markers may lag before readers count instead
    tick: float = 1.0  # seconds between two rounds of the keeper
    rebuild_every: float = 3600.0  # markers (and the Redis set) older than this are rebuilt
    max_gap: int = 4  # ... and so are markers with a gap over max_gap x spacing users
    gap_check_every: int = 30  # keeper rounds between two looks at the widest gap
    redis_max_age: float = 15.0  # Redis answers only if a keeper checked in this recently (s)
    redis_pause: float = 5.0  # seconds Redis is left alone after it failed a read


@dataclass(frozen=True, slots=True)
class RankAnswer:
    rank: int
    source: str  # "redis", "markers" or "count"


class RankService:
    def __init__(
        self,
        *,
        engine: AsyncEngine,
        redis: RedisRanks | None = None,
        config: RankConfig | None = None,
    ) -> None:
        self._engine = engine
        self._redis = redis
        self._config = config or RankConfig()
        self._redis_paused_until = 0.0
        self._keeper: asyncio.Task[None] | None = None
        self._rebuild_redis = False
        self._rounds = 0

    @property
    def redis(self) -> RedisRanks | None:
        return self._redis

    async def rank(self, session: AsyncSession, user_id: int, balance: int) -> int:
        return (await self.locate(session, user_id, balance)).rank

    async def locate(self, session: AsyncSession, user_id: int, balance: int) -> RankAnswer:
        """The user's exact 1-based rank (balance desc, user id asc) and where it came from."""
        if self._redis is not None and time.monotonic() >= self._redis_paused_until:
            try:
                found = await self._redis.rank(user_id, balance, max_age=self._config.redis_max_age)
            except (RedisError, OSError) as exc:
                self._redis_paused_until = time.monotonic() + self._config.redis_pause
                log.warning("rank index unavailable; counting in PostgreSQL", error=repr(exc))
                found = None
            if found is not None:
                return RankAnswer(found, "redis")
        found = await rank_queries.rank(session, user_id, balance, self._config.max_tail)
        if found is not None:
            return RankAnswer(found, "markers")
        return RankAnswer(await points_queries.rank_of(session, user_id, balance), "count")

    def moved(self, user_id: int, result: LedgerResult) -> None:
        """A movement committed: bring its user's place in Redis up to date (in the background).

        Refusals change no balance; a replay's movement was sent by the call that made it."""
        if self._redis is None or result.amount == 0 or result.duplicate:
            return
        if result.ledger_id is not None:
            self._redis.moved(user_id, result.balance_after, result.ledger_id)

    # ------------------------------------------------------------------ the keeper

    def start(self, *, rebuild_redis: bool = True) -> None:
        """Run the keeper in the background; Redis is rebuilt from PostgreSQL first."""
        self._rebuild_redis = rebuild_redis
        if self._keeper is None or self._keeper.done():
            self._keeper = asyncio.get_running_loop().create_task(self._keep_forever())

    async def _keep_forever(self) -> None:
        failing_since: float | None = None
        while True:
            try:
                await self.keep()
                if failing_since is not None:
                    log.info("rank keeper recovered")
                failing_since = None
            except Exception as exc:  # keep trying: readers fall back meanwhile
                now = time.monotonic()
                # Once when it starts failing, then once a minute (Redis may be down for long).
                if failing_since is None or now - failing_since >= 60:
                    log.warning("rank keeper round failed", error=repr(exc))
                    failing_since = now
            await asyncio.sleep(self._config.tick)

    async def keep(self) -> None:
        """One round: markers and Redis brought up to the settled end of the ledger."""
        head = await rank_queries.settled_head(self._engine)
        if head is None:
            return  # a writer is stuck in a long transaction; next round
        await self._keep_markers(head)
        if self._redis is not None:
            await self._keep_redis(self._redis, head)

    async def _keep_markers(self, head: int) -> None:
        cfg = self._config
        self._rounds += 1
        async with self._engine.connect() as conn:
            state = await rank_queries.state(conn)
            stale = state is None or state.rebuilt_age > cfg.rebuild_every
            if state is not None and not stale and self._rounds % cfg.gap_check_every == 0:
                stale = await rank_queries.widest_gap(conn) > cfg.max_gap * state.spacing
        if stale:
            markers = await rank_queries.rebuild_markers(self._engine, head, cfg.spacing)
            log.info("rank markers rebuilt", markers=markers, through=head)
        elif state is not None and head > state.through_id:
            await rank_queries.advance_markers(self._engine, state.through_id, head)

    async def _keep_redis(self, redis: RedisRanks, head: int) -> None:
        age = await redis.built_age()
        if self._rebuild_redis or age is None or age > self._config.rebuild_every:
            if await redis.rebuild(head, rank_queries.board(self._engine, head)):
                log.info("rank index rebuilt in Redis", through=head)
            self._rebuild_redis = False
            redis.replay_from = None
            return
        if redis.replay_from is not None:  # this process failed to send some updates
            start, redis.replay_from = redis.replay_from, None
            try:
                await self._replay(redis, start, head)
            except BaseException:
                redis.replay_from = start
                raise
        await redis.mark_synced(head)

    async def _replay(self, redis: RedisRanks, start: int, head: int) -> None:
        async with self._engine.connect() as conn:
            for lo in range(start, head, REDIS_CHUNK):
                await redis.update(await rank_queries.moves(conn, lo, min(lo + REDIS_CHUNK, head)))
                await conn.rollback()
        log.info("rank index caught up in Redis", after=start, through=head)

    async def rebuild(self) -> None:
        """Markers and the Redis set from scratch (`./manage.sh rank rebuild`)."""
        head = None
        while head is None:
            head = await rank_queries.settled_head(self._engine, timeout=30)
        markers = await rank_queries.rebuild_markers(self._engine, head, self._config.spacing)
        if markers is None:
            raise RuntimeError("another process holds the rank lock; try again")
        if self._redis is not None and not await self._redis.rebuild(
            head, rank_queries.board(self._engine, head)
        ):
            raise RuntimeError("another process is rebuilding the Redis rank index")

    async def aclose(self) -> None:
        if self._keeper is not None:
            self._keeper.cancel()
            await asyncio.gather(self._keeper, return_exceptions=True)
        if self._redis is not None:
            await self._redis.aclose()


async def _rebuild_configured() -> str:
    from config.settings import get_settings
    from src.bootstrap import build_context, prepare_database

    context = build_context(get_settings(), statements=False)
    try:
        await prepare_database(context)
        started = time.perf_counter()
        await context.ranks.rebuild()
        where = "PostgreSQL markers" + (" and Redis" if context.ranks.redis else "")
        return f"rank index rebuilt ({where}) in {time.perf_counter() - started:.1f} s"
    finally:
        await context.close()


if __name__ == "__main__":  # ./manage.sh rank rebuild
    import sys

    if sys.argv[1:] != ["rebuild"]:
        print("usage: python -m src.services.rank_service rebuild", file=sys.stderr)
        raise SystemExit(2)
    print(asyncio.run(_rebuild_configured()))
