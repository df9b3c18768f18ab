"""The TON poller's cursor (table ton_cursor): read it, move it forward. No rules here."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from src.database.ton_models import ton_cursor


async def cursor(session: AsyncSession, wallet: str) -> int:
    """The last logical time handled for `wallet` (0: none yet)."""
    found = await session.scalar(select(ton_cursor.c.last_lt).where(ton_cursor.c.wallet == wallet))
    return int(found or 0)


async def advance(session: AsyncSession, wallet: str, last_lt: int) -> None:
    """Move the cursor to `last_lt`; never backwards (a slower, older run cannot rewind it)."""
    stmt = insert(ton_cursor).values(wallet=wallet, last_lt=last_lt)
    stmt = stmt.on_conflict_do_update(
        index_elements=[ton_cursor.c.wallet],
        set_={"last_lt": last_lt, "updated_at": stmt.excluded.updated_at},
        where=ton_cursor.c.last_lt < last_lt,
    )
    await session.execute(stmt)
