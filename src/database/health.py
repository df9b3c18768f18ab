"""Is the database reachable? One trivial round trip, for health probes."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine


async def ping(engine: AsyncEngine) -> None:
    """Returns when the server answered; raises whatever the driver raised otherwise."""
    async with engine.connect() as conn:
        await conn.execute(text("SELECT 1"))
