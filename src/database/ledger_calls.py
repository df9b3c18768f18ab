"""Calls into the ledger's plpgsql functions (alembic/versions/0002): one statement each.

The statement goes straight to the pooled connection's asyncpg driver, outside any
transaction block: it is its own transaction, so a movement costs exactly one round trip (no
BEGIN/COMMIT) and the row lock it takes lives only for that statement. asyncpg prepares each
statement once per connection and caches it. Skipping SQLAlchemy's statement layer here halves
the client's CPU per call (docs/PERFORMANCE.md); the pool is still SQLAlchemy's.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

_COLUMNS = "outcome, amount, balance_after, level_before, level_after, streak, duplicate, ledger_id, created_at"

EARN_REQUEST = (
    f"SELECT {_COLUMNS} FROM points_earn_request("
    "$1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12::jsonb, $13)"
)
CLAIM_DAILY = f"SELECT {_COLUMNS} FROM points_claim_daily($1, $2, $3, $4, $5, $6, $7, $8)"
MOVE = f"SELECT {_COLUMNS} FROM points_move($1, $2, $3, $4, $5::jsonb, $6, $7, $8)"


@dataclass(frozen=True, slots=True)
class LedgerResult:
    outcome: str
    amount: int
    balance_after: int
    level_before: int | None
    level_after: int | None
    streak: int | None
    duplicate: bool
    ledger_id: int | None
    created_at: datetime | None


@dataclass(frozen=True, slots=True)
class LevelArrays:
    """The level table as the functions take it: thresholds and multipliers, index = level."""

    thresholds: list[int]
    multipliers: list[Decimal]


async def _call(conn: AsyncConnection, statement: str, *args: Any) -> LedgerResult:
    raw = await conn.get_raw_connection()
    driver = raw.driver_connection  # asyncpg.Connection
    assert driver is not None
    row = await driver.fetchrow(statement, *args)
    return LedgerResult(*row)


async def earn_request(
    conn: AsyncConnection,
    *,
    user_id: int,
    transaction_type: str,
    key: str,
    base: int,
    interval: timedelta,
    daily_cap: int,
    tier_names: list[str],
    tier_multipliers: list[Decimal],
    levels: LevelArrays,
    timezone: str,
    metadata: dict[str, Any] | None,
    now: datetime | None,
) -> LedgerResult:
    return await _call(
        conn,
        EARN_REQUEST,
        user_id,
        transaction_type,
        key,
        base,
        interval,
        daily_cap,
        tier_names,
        tier_multipliers,
        levels.thresholds,
        levels.multipliers,
        timezone,
        json.dumps(metadata or {}),
        now,
    )


async def claim_daily(
    conn: AsyncConnection,
    *,
    user_id: int,
    base: int,
    bonus_days: list[int],
    bonus_points: list[int],
    levels: LevelArrays,
    timezone: str,
    now: datetime | None,
) -> LedgerResult:
    return await _call(
        conn,
        CLAIM_DAILY,
        user_id,
        base,
        bonus_days,
        bonus_points,
        levels.thresholds,
        levels.multipliers,
        timezone,
        now,
    )


async def move(
    conn: AsyncConnection,
    *,
    user_id: int,
    transaction_type: str,
    key: str,
    amount: int,
    metadata: dict[str, Any] | None,
    levels: LevelArrays,
    now: datetime | None,
) -> LedgerResult:
    return await _call(
        conn,
        MOVE,
        user_id,
        transaction_type,
        key,
        amount,
        json.dumps(metadata or {}),
        levels.thresholds,
        levels.multipliers,
        now,
    )


MOVE_IN_SESSION = text(
    f"SELECT {_COLUMNS} FROM points_move(:user_id, :type, :key, :amount, "
    "CAST(:metadata AS jsonb), CAST(:thresholds AS bigint[]), CAST(:mults AS numeric[]), "
    "CAST(:now AS timestamptz))"
)


async def move_in_session(
    session: AsyncSession,
    *,
    user_id: int,
    transaction_type: str,
    key: str,
    amount: int,
    metadata: dict[str, Any] | None,
    levels: LevelArrays,
    now: datetime | None,
) -> LedgerResult:
    """points_move inside the session's open transaction (it commits with the caller's rows)."""
    row = (
        await session.execute(
            MOVE_IN_SESSION,
            {
                "user_id": user_id,
                "type": transaction_type,
                "key": key,
                "amount": amount,
                "metadata": json.dumps(metadata or {}),
                "thresholds": levels.thresholds,
                "mults": levels.multipliers,
                "now": now,
            },
        )
    ).one()
    return LedgerResult(*row)
