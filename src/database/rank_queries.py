"""Rank markers (migration 0006) and the ledger reads that keep rank indexes in step.

Everything here is positioned by ledger row id. `settled_head` finds an id below which no
row can still appear: ids come from a sequence inside the writing transaction, which holds a
transaction id from the moment it locks the balance row, so once every transaction that was
running when the id was read has ended, every row up to it is committed or rolled back.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession

RANK_LOCK = 0x5359_4E54_524B  # advisory lock: one process advances or rebuilds at a time

_HEAD = text(
    "SELECT coalesce((SELECT max(id) FROM points_transactions), 0), "
    "ARRAY(SELECT x::text FROM pg_snapshot_xip(pg_current_snapshot()) x)"
)
_RUNNING = text(
    "SELECT count(*) FROM unnest(CAST(CAST(:xids AS text[]) AS xid8[])) x WHERE pg_xact_status(x) = 'in progress'"
)
_RANK = text("SELECT points_rank(:user_id, :balance, :max_tail)")
_STATE = text(
    "SELECT through_id, positive, spacing, rebuilt_at, advanced_at FROM points_rank_state"
)
# Users above the first marker, between two neighbours, and after the last one.
_WIDEST_GAP = text(
    "SELECT greatest(coalesce(max(gap), 0), coalesce(min(ahead), 0)) FROM ("
    "  SELECT ahead, coalesce(lead(ahead) OVER w, (SELECT positive FROM points_rank_state))"
    "  - ahead AS gap FROM points_rank_markers WINDOW w AS (ORDER BY neg_balance, user_id)) g"
)
# The last balance-changing row of each user in (after, through]: what an index must apply.
_MOVES = text(
    "SELECT DISTINCT ON (user_id) user_id, balance_after, id FROM points_transactions "
    "WHERE id > :after AND id <= :through AND amount <> 0 ORDER BY user_id, id DESC"
)
# Every user's balance in this snapshot, with the id of the last movement it reflects when
# that is after `through` (every other balance is as of `through` or earlier).
_BOARD = text(
    "SELECT b.user_id, b.balance, coalesce(t.last_id, :through) FROM points_balances b "
    "LEFT JOIN (SELECT user_id, max(id) AS last_id FROM points_transactions "
    "           WHERE id > :through AND amount <> 0 GROUP BY user_id) t USING (user_id)"
)


@dataclass(frozen=True, slots=True)
class RankState:
    through_id: int
    positive: int
    spacing: int
    rebuilt_age: float  # seconds since the markers were rebuilt
    advanced_age: float


async def settled_head(engine: AsyncEngine, *, timeout: float = 2.0) -> int | None:
    """The highest ledger id with every row up to it committed or rolled back; None if a
    transaction running when it was read is still running after `timeout` seconds."""
    async with engine.connect() as conn:
        head, xids = (await conn.execute(_HEAD)).one()
        await conn.rollback()
        deadline = time.monotonic() + timeout
        while xids:
            if not await conn.scalar(_RUNNING, {"xids": xids}):
                break
            await conn.rollback()
            if time.monotonic() > deadline:
                return None
            await asyncio.sleep(0.005)
    return int(head)


async def rank(session: AsyncSession, user_id: int, balance: int, max_tail: int) -> int | None:
    """Exact rank from the markers; None when they are missing or too far behind."""
    value = await session.scalar(
        _RANK, {"user_id": user_id, "balance": balance, "max_tail": max_tail}
    )
    return None if value is None else int(value)


async def state(conn: AsyncConnection) -> RankState | None:
    row = (await conn.execute(_STATE)).one_or_none()
    if row is None:
        return None
    now = await conn.scalar(text("SELECT now()"))
    through, positive, spacing, rebuilt, advanced = row
    return RankState(
        int(through),
        int(positive),
        int(spacing),
        (now - rebuilt).total_seconds(),
        (now - advanced).total_seconds(),
    )


async def rebuild_markers(engine: AsyncEngine, through: int, spacing: int) -> int | None:
    """Markers from scratch as of `through` (a settled head); None if another process holds
    the rank lock. Returns the number of markers."""
    async with engine.begin() as conn:
        if not await conn.scalar(text("SELECT pg_try_advisory_xact_lock(:k)"), {"k": RANK_LOCK}):
            return None
        markers = await conn.scalar(
            text("SELECT points_rank_rebuild(:through, :spacing)"),
            {"through": through, "spacing": spacing},
        )
    return int(markers or 0)


async def advance_markers(engine: AsyncEngine, old: int, new: int) -> bool:
    """Fold ledger rows old < id <= new (settled) into the markers."""
    async with engine.begin() as conn:
        if not await conn.scalar(text("SELECT pg_try_advisory_xact_lock(:k)"), {"k": RANK_LOCK}):
            return False
        return bool(
            await conn.scalar(
                text("SELECT points_rank_advance(:old, :new)"), {"old": old, "new": new}
            )
        )


async def widest_gap(conn: AsyncConnection) -> int:
    """Most users between two neighbouring markers (or after the last one)."""
    return int(await conn.scalar(_WIDEST_GAP) or 0)


async def moves(conn: AsyncConnection, after: int, through: int) -> list[tuple[int, int, int]]:
    """(user_id, balance, ledger id) of each user's last movement in (after, through]."""
    rows = await conn.execute(_MOVES, {"after": after, "through": through})
    return [(int(u), int(b), int(i)) for u, b, i in rows]


async def board(
    engine: AsyncEngine, through: int, chunk: int = 10_000
) -> AsyncIterator[list[tuple[int, int, int]]]:
    """Every user's (user_id, balance, version) from one snapshot, in chunks. The version is
    the ledger id of the last movement the balance reflects, or `through` (settled) when that
    movement is not after it: later movements always carry a higher id."""
    async with engine.connect() as conn:
        await conn.execution_options(isolation_level="REPEATABLE READ")
        async with conn.begin():
            result = await conn.stream(_BOARD, {"through": through})
            async for part in result.partitions(chunk):
                yield [(int(u), int(b), int(v)) for u, b, v in part]
