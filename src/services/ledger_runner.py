"""How a ledger movement reaches the database: alone or in a batch, retried when it may be.

PointsService decides *what* moves (the rules, the checks, the key); the runner owns *how*:
one statement on a pooled AUTOCOMMIT connection (one round trip, its own transaction), or a
place in the next batch of the group commit (src/services/earn_batcher.py) when batching is on;
serialization failures, deadlocks and lost connections are retried (the idempotency key turns
a call that did commit into a replay); the rank index hears of every movement.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

import asyncpg
import structlog
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from config.points_config import PointsRules
from src.database.ledger_batch import LedgerItem, LedgerParams, call_one
from src.database.ledger_calls import LedgerResult, LevelArrays
from src.database.ledger_errors import CONNECTION_LOST, RETRYABLE_SQLSTATES, sqlstate
from src.services.earn_batcher import BatchConfig, EarnBatcher
from src.services.rank_service import RankService

log = structlog.get_logger(__name__)

T = TypeVar("T")


def ledger_params(rules: PointsRules, timezone: str) -> LedgerParams:
    """The rules as the plpgsql functions take them (arrays indexed by level, tier, day)."""
    days = sorted(rules.streak_bonuses)
    return LedgerParams(
        daily_cap=rules.max_daily_points_earning,
        tier_names=[t.value for t in rules.tier_multipliers],
        tier_multipliers=list(rules.tier_multipliers.values()),
        levels=LevelArrays(
            thresholds=[lvl.points_required for lvl in rules.levels],
            multipliers=[lvl.earning_multiplier for lvl in rules.levels],
        ),
        timezone=timezone,
        bonus_days=days,
        bonus_points=[rules.streak_bonuses[d] for d in days],
    )


class LedgerRunner:
    def __init__(
        self,
        *,
        ledger_engine: AsyncEngine,
        params: LedgerParams,
        batching: BatchConfig | None,
        ranks: RankService | None,
        max_retries: int,
    ) -> None:
        self._engine = ledger_engine  # AUTOCOMMIT
        self._params = params
        self._ranks = ranks
        self._max_retries = max_retries
        self.batcher = (
            EarnBatcher(run=self.run, params=params, config=batching) if batching else None
        )

    @property
    def levels(self) -> LevelArrays:
        return self._params.levels

    async def submit(self, item: LedgerItem) -> LedgerResult:
        # Batched with other callers' movements when batching is on (one call, same rules).
        if self.batcher is not None:
            result = await self.batcher.submit(item)
        else:
            result = await self.run(lambda conn: call_one(conn, item, self._params))
        if self._ranks is not None:
            self._ranks.moved(item.user_id, result)
        return result

    async def aclose(self) -> None:
        """Answer every movement still queued for a batch; later ones go one by one."""
        if self.batcher is not None:
            await self.batcher.aclose()

    async def run(self, call: Callable[[AsyncConnection], Awaitable[T]]) -> T:
        for attempt in range(1, self._max_retries + 1):
            try:
                async with self._engine.connect() as conn:
                    try:
                        return await call(conn)
                    except CONNECTION_LOST as exc:
                        # The call bypassed SQLAlchemy's statement layer, so the pool did not
                        # see the loss: drop the connection ourselves.
                        await conn.invalidate(exc)
                        raise
            except CONNECTION_LOST as exc:
                # Safe to repeat: the key makes a call that did commit come back as a replay.
                if attempt == self._max_retries:
                    raise
                log.warning("points call retried", reason=type(exc).__name__, attempt=attempt)
            except (DBAPIError, asyncpg.PostgresError) as exc:
                if sqlstate(exc) not in RETRYABLE_SQLSTATES or attempt == self._max_retries:
                    raise
                log.warning("points call retried", sqlstate=sqlstate(exc), attempt=attempt)
                await asyncio.sleep(0.005 * 2**attempt)
        raise AssertionError("unreachable")  # pragma: no cover
