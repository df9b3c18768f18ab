"""Each webhook update is handled once, however often and to whichever worker it is delivered.

Before a worker handles an update it *claims* its `update_id`: the mark says "in progress"
for a short lease (the longest an update may take: the LLM timeout plus the shutdown margin,
plus a margin of its own); after the handler returns (answered, or answered with the error
text) the mark says "done" for a day, longer than Telegram keeps an undelivered update. So:

- a duplicate of a handled update is acknowledged and dropped;
- a duplicate of an update in progress elsewhere is told to come back later (503 when
  WEBHOOK_ACK=handled, so Telegram retries; see docs/SCALING.md);
- a worker killed mid-update leaves only a lease: once it is over, the redelivery runs.

The marks live in Redis (`SET NX EX`) when REDIS_URL is set, else in PostgreSQL
(`bot_update_marks`, purged by the `update-marks-purge` job). A failure of the store never
stops an update: it is handled (the ledger's idempotency keys still pay once), logged, counted.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Protocol

import structlog
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncEngine

from src.database import update_marks_queries
from src.services.periodic_jobs import PeriodicJob

log = structlog.get_logger(__name__)

DONE_KEEP_SECONDS = 86_400.0  # Telegram keeps an undelivered update for 24 h
LEASE_MARGIN_SECONDS = 15.0  # beyond the longest handling time
PURGE_EVERY_SECONDS = 600.0


class Claim(StrEnum):
    NEW = "new"  # taken here: handle it
    BUSY = "busy"  # in progress in another worker (or this one)
    DONE = "done"  # handled already


class UpdateMarks(Protocol):
    async def claim(self, update_id: int, lease_seconds: float) -> Claim: ...
    async def finish(self, update_id: int) -> None: ...
    async def release(self, update_id: int) -> None: ...
    async def aclose(self) -> None: ...


class PostgresUpdateMarks:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine.execution_options(isolation_level="AUTOCOMMIT")

    async def claim(self, update_id: int, lease_seconds: float) -> Claim:
        return Claim(await update_marks_queries.claim(self._engine, update_id, lease_seconds))

    async def finish(self, update_id: int) -> None:
        await update_marks_queries.finish(self._engine, update_id, DONE_KEEP_SECONDS)

    async def release(self, update_id: int) -> None:
        await update_marks_queries.release(self._engine, update_id)

    async def purge(self) -> None:
        if deleted := await update_marks_queries.purge(self._engine):
            log.info("expired update marks purged", deleted=deleted)

    async def aclose(self) -> None:
        return None

    def purge_job(self) -> PeriodicJob:
        return PeriodicJob("update-marks-purge", PURGE_EVERY_SECONDS, self.purge)


# Release only a mark still in progress (never undo "done").
_RELEASE = (
    "if redis.call('GET', KEYS[1]) == 'p' then return redis.call('DEL', KEYS[1]) end return 0"
)


class RedisUpdateMarks:
    """`{prefix}upd:{update_id}` = "p" (in progress, EX lease) or "d" (done, EX a day)."""

    def __init__(self, client: Redis, *, prefix: str) -> None:
        self._client = client
        self._prefix = prefix

    @classmethod
    def from_url(cls, url: str, *, prefix: str) -> RedisUpdateMarks:
        client = Redis.from_url(url, socket_timeout=2.0, socket_connect_timeout=2.0)
        return cls(client, prefix=prefix)

    def _key(self, update_id: int) -> str:
        return f"{self._prefix}upd:{update_id}"

    async def claim(self, update_id: int, lease_seconds: float) -> Claim:
        key = self._key(update_id)
        lease = max(1, round(lease_seconds))
        if await self._client.set(key, "p", nx=True, ex=lease):
            return Claim.NEW
        state = await self._client.get(key)
        if state is None:  # expired between the two calls: try once more
            taken = await self._client.set(key, "p", nx=True, ex=lease)
            return Claim.NEW if taken else Claim.BUSY
        return Claim.DONE if state in (b"d", "d") else Claim.BUSY

    async def finish(self, update_id: int) -> None:
        await self._client.set(self._key(update_id), "d", ex=round(DONE_KEEP_SECONDS))

    async def release(self, update_id: int) -> None:
        await self._client.eval(_RELEASE, 1, self._key(update_id))

    async def aclose(self) -> None:
        await self._client.aclose()


def lease_for(shutdown_grace_seconds: float) -> float:
    """How long an update stays "in progress": longer than any handler may run."""
    return shutdown_grace_seconds + LEASE_MARGIN_SECONDS
