"""The webhook update marks (table `bot_update_marks`, migration 0009): one statement each."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

# Take the mark when it is free or its time is over; otherwise say whose it is. An empty
# answer means another worker took it during this statement (in progress).
_CLAIM = text(
    """
    WITH taken AS (
        INSERT INTO bot_update_marks (update_id, done, expires_at)
        VALUES (:update_id, false, clock_timestamp() + make_interval(secs => :lease))
        ON CONFLICT (update_id) DO UPDATE
            SET done = false, expires_at = EXCLUDED.expires_at
            WHERE bot_update_marks.expires_at < clock_timestamp()
        RETURNING 'new'::text AS state
    )
    SELECT state FROM taken
    UNION ALL
    SELECT CASE WHEN done THEN 'done' ELSE 'busy' END FROM bot_update_marks
    WHERE update_id = :update_id AND NOT EXISTS (SELECT 1 FROM taken)
    """
)
_FINISH = text(
    "UPDATE bot_update_marks SET done = true,"
    " expires_at = clock_timestamp() + make_interval(secs => :keep)"
    " WHERE update_id = :update_id"
)
_RELEASE = text("DELETE FROM bot_update_marks WHERE update_id = :update_id AND NOT done")
# In slices, so a purge after a long outage never holds many row locks at once.
_PURGE = text(
    "DELETE FROM bot_update_marks WHERE update_id IN ("
    " SELECT update_id FROM bot_update_marks WHERE expires_at < clock_timestamp()"
    " LIMIT :limit)"
)


async def claim(engine: AsyncEngine, update_id: int, lease_seconds: float) -> str:
    """'new' (taken here), 'busy' (in progress elsewhere) or 'done'."""
    async with engine.connect() as conn:
        state = (
            await conn.execute(_CLAIM, {"update_id": update_id, "lease": lease_seconds})
        ).scalar()
    return str(state) if state is not None else "busy"


async def finish(engine: AsyncEngine, update_id: int, keep_seconds: float) -> None:
    async with engine.connect() as conn:
        await conn.execute(_FINISH, {"update_id": update_id, "keep": keep_seconds})


async def release(engine: AsyncEngine, update_id: int) -> None:
    async with engine.connect() as conn:
        await conn.execute(_RELEASE, {"update_id": update_id})


async def purge(engine: AsyncEngine, *, limit: int = 10_000) -> int:
    """Delete expired marks, `limit` at a time; how many went."""
    total = 0
    while True:
        async with engine.connect() as conn:
            deleted = (await conn.execute(_PURGE, {"limit": limit})).rowcount
        total += deleted
        if deleted < limit:
            return total
