"""A separate process taking quota slots at once with its siblings (tests/integration/test_quotas.py).

Each process builds its own engine and QuotaService, as a bot worker would, waits at a barrier
so every process starts together, takes all its keys concurrently and reports what it was told.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from multiprocessing.queues import Queue
from multiprocessing.synchronize import Barrier

from sqlalchemy.ext.asyncio import AsyncEngine

from config.points_config import DEFAULT_RULES, RequestAction
from src.database.engine import create_engine, create_session_factory
from src.services.failures import FailureCounter
from src.services.quota_service import QuotaService
from src.services.user_service import UserService

CONNECTIONS = 8


@dataclass(frozen=True)
class QuotaWorkerConfig:
    database_url: str
    user_id: int
    keys: tuple[str, ...]


@dataclass(frozen=True)
class QuotaTake:
    key: str
    granted: bool
    replay: bool
    counted: bool
    used: int | None


def run_quota_worker(
    config: QuotaWorkerConfig, barrier: Barrier, results: Queue[list[QuotaTake]]
) -> None:
    results.put(asyncio.run(_take_all(config, barrier)))


async def _warm(engine: AsyncEngine, connections: int) -> None:
    held = [await engine.connect() for _ in range(connections)]
    for conn in held:
        await conn.close()


async def _take_all(config: QuotaWorkerConfig, barrier: Barrier) -> list[QuotaTake]:
    # A few connections per process, like a bot worker's pool (the server is shared).
    engine = create_engine(config.database_url, pool_size=CONNECTIONS)
    try:
        # This measures overshoot, not patience: a loaded machine must not make takes fail open.
        quotas = QuotaService(
            engine=engine, rules=DEFAULT_RULES, failures=FailureCounter(), timeout=60
        )
        user = await UserService(session_factory=create_session_factory(engine)).get(config.user_id)
        assert user is not None
        await _warm(engine, CONNECTIONS)  # connect before the start line, not after
        await asyncio.to_thread(barrier.wait, 60)
        slots = await asyncio.gather(
            *(quotas.take(user, RequestAction.TEXT, key) for key in config.keys)
        )
        return [QuotaTake(s.key, s.granted, s.replay, s.counted, s.used) for s in slots]
    finally:
        await engine.dispose()
