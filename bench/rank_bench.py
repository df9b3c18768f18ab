"""Rank timings for the analytics benchmark: one user's exact rank by each path.

Each path is timed on the same user: the Redis sorted set (when a Redis URL is given), the
PostgreSQL rank markers, and counting the board (the path without an index, for comparison).
The answer's source is checked, so a figure never silently comes from another path.
"""

from __future__ import annotations

import math
import statistics
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from src.database import points_queries
from src.services.rank_service import RankService

RANK_TARGET_MS = 5.0  # p95


@dataclass(frozen=True)
class RankTiming:
    name: str
    source: str  # the path every answer came from
    median_ms: float
    p95_ms: float
    max_ms: float
    runs: int
    target_ms: float | None = RANK_TARGET_MS

    @property
    def passed(self) -> bool | None:
        return None if self.target_ms is None else self.p95_ms <= self.target_ms


def _p95(times: list[float]) -> float:
    ordered = sorted(times)
    return ordered[max(math.ceil(0.95 * len(ordered)) - 1, 0)]


async def _time(
    name: str, call: Callable[[], Awaitable[str]], runs: int, target: float | None
) -> RankTiming:
    sources = {await call()}  # warm: connection, plan, pages
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        sources.add(await call())
        times.append((time.perf_counter() - started) * 1000)
    if len(sources) != 1:
        raise RuntimeError(f"{name}: answers came from {sorted(sources)}")
    return RankTiming(
        name, sources.pop(), statistics.median(times), _p95(times), max(times), runs, target
    )


async def rank_timings(
    sessions: async_sessionmaker[AsyncSession],
    markers: RankService,
    redis: RankService | None,
    user: tuple[int, int],
    *,
    runs: int,
    label: str = "median user's rank",
) -> list[RankTiming]:
    """`user` = (user_id, balance). Every path's answer is checked against counting."""
    user_id, balance = user
    async with sessions() as session:  # its balance now: earns since may have moved it
        row = await points_queries.get_balance_row(session, user_id)
        balance = row.balance if row is not None else balance

    async def by(service: RankService, expected: str) -> str:
        async with sessions() as session:
            answer = await service.locate(session, user_id, balance)
        if answer.source != expected:
            raise RuntimeError(f"rank of {user_id} came from {answer.source}, not {expected}")
        return answer.source

    async def counted() -> str:
        async with sessions() as session:
            await points_queries.rank_of(session, user_id, balance)
        return "count"

    async with sessions() as session:
        exact = await points_queries.rank_of(session, user_id, balance)
        for service in (markers, redis):
            if service is not None:
                got = await service.locate(session, user_id, balance)
                if got.rank != exact:
                    raise RuntimeError(f"{got.source} says rank {got.rank}, counting says {exact}")
    timings = []
    if redis is not None:
        timings.append(
            await _time(f"{label}, Redis", lambda: by(redis, "redis"), runs, RANK_TARGET_MS)
        )
    timings.append(
        await _time(
            f"{label}, PostgreSQL markers", lambda: by(markers, "markers"), runs, RANK_TARGET_MS
        )
    )
    timings.append(await _time(f"{label}, counted (no index)", counted, 5, None))
    return timings


async def spread(
    sessions: async_sessionmaker[AsyncSession],
    service: RankService,
    users: list[tuple[int, int]],
    name: str,
) -> RankTiming:
    """One rank each for many users spread over the board (from the top to no points)."""
    times, sources = [], set()
    for user_id, balance in users:
        async with sessions() as session:
            started = time.perf_counter()
            answer = await service.locate(session, user_id, balance)
            times.append((time.perf_counter() - started) * 1000)
        sources.add(answer.source)
    return RankTiming(
        name,
        "+".join(sorted(sources)),
        statistics.median(times),
        _p95(times),
        max(times),
        len(times),
        RANK_TARGET_MS,
    )
