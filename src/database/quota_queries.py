"""The daily request quotas' statements (tables and functions of migration 0007). No rules.

Each call is one statement on an AUTOCOMMIT connection: one round trip, one transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

_TAKE = text(
    "SELECT granted, used_today, quota_day, replay "
    "FROM quota_take(:user_id, :action, :key, :limit, :tz, :now)"
)
_RELEASE = text("SELECT quota_release(:user_id, :key)")
_USAGE = text(
    "WITH today AS ("
    "  SELECT (coalesce(CAST(:now AS timestamptz), clock_timestamp()) AT TIME ZONE :tz)::date AS day"
    ") "
    "SELECT today.day, q.action, q.used FROM today "
    "LEFT JOIN request_quotas q ON q.user_id = :user_id AND q.day = today.day"
)
# Batches keep each delete's locks short; ctid picks the rows without a sort.
_PURGE = {
    table: text(
        f"DELETE FROM {table} WHERE ctid = ANY(ARRAY("
        f"SELECT ctid FROM {table} WHERE day < :cutoff LIMIT :batch))"
    )
    for table in ("request_quota_slots", "request_quotas")
}


@dataclass(frozen=True, slots=True)
class TakeResult:
    granted: bool
    used: int
    day: date
    replay: bool


async def take(
    conn: AsyncConnection,
    *,
    user_id: int,
    action: str,
    key: str,
    limit: int | None,
    tz: str,
    now: datetime | None,
) -> TakeResult:
    row = (
        await conn.execute(
            _TAKE,
            {
                "user_id": user_id,
                "action": action,
                "key": key,
                "limit": limit,
                "tz": tz,
                "now": now,
            },
        )
    ).one()
    return TakeResult(granted=row[0], used=row[1], day=row[2], replay=row[3])


async def release(conn: AsyncConnection, *, user_id: int, key: str) -> bool:
    """True when the key held a slot and gave it back."""
    return bool((await conn.execute(_RELEASE, {"user_id": user_id, "key": key})).scalar())


async def usage(
    conn: AsyncConnection, *, user_id: int, tz: str, now: datetime | None
) -> tuple[date, dict[str, int]]:
    """(today in `tz`, used per action today) for one user."""
    rows = (await conn.execute(_USAGE, {"user_id": user_id, "tz": tz, "now": now})).all()
    return rows[0][0], {action: used for _, action, used in rows if action is not None}


async def purge(conn: AsyncConnection, *, cutoff: date, batch: int) -> int:
    """Delete up to `batch` rows of each table from days before `cutoff`; the rows deleted."""
    deleted = 0
    for statement in _PURGE.values():
        result = await conn.execute(statement, {"cutoff": cutoff, "batch": batch})
        deleted += result.rowcount or 0
    return deleted
