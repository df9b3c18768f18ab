"""Calls into the ledger's plpgsql functions (alembic/versions/0002): one statement each.

They run on an AUTOCOMMIT connection: the statement is its own transaction, so a movement
costs exactly one round trip (no BEGIN/COMMIT), and the row lock it takes lives only for the
duration of that statement.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

_COLUMNS = "outcome, amount, balance_after, level_before, level_after, streak, duplicate, ledger_id, created_at"

EARN_REQUEST = text(
    f"SELECT {_COLUMNS} FROM points_earn_request(:user_id, :type, :key, :base, :interval, "
    ":daily_cap, :tier_names, :tier_mults, :thresholds, :level_mults, :tz, :metadata, :now)"
)
CLAIM_DAILY = text(
    f"SELECT {_COLUMNS} FROM points_claim_daily(:user_id, :base, :bonus_days, :bonus_points, "
    ":thresholds, :level_mults, :tz, :now)"
)
MOVE = text(
    f"SELECT {_COLUMNS} FROM points_move(:user_id, :type, :key, :amount, :metadata, "
    ":thresholds, :level_mults, :now)"
)


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


async def _call(conn: AsyncConnection, statement: Any, params: dict[str, Any]) -> LedgerResult:
    row = (await conn.execute(statement, params)).one()
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
        {
            "user_id": user_id,
            "type": transaction_type,
            "key": key,
            "base": base,
            "interval": interval,
            "daily_cap": daily_cap,
            "tier_names": tier_names,
            "tier_mults": tier_multipliers,
            "thresholds": levels.thresholds,
            "level_mults": levels.multipliers,
            "tz": timezone,
            "metadata": json.dumps(metadata or {}),
            "now": now,
        },
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
        {
            "user_id": user_id,
            "base": base,
            "bonus_days": bonus_days,
            "bonus_points": bonus_points,
            "thresholds": levels.thresholds,
            "level_mults": levels.multipliers,
            "tz": timezone,
            "now": now,
        },
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
        {
            "user_id": user_id,
            "type": transaction_type,
            "key": key,
            "amount": amount,
            "metadata": json.dumps(metadata or {}),
            "thresholds": levels.thresholds,
            "level_mults": levels.multipliers,
            "now": now,
        },
    )
