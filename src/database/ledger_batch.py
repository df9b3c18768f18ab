"""Ledger movements as data, sent one at a time or many in one call (migration 0006).

A `LedgerItem` describes one movement; `LedgerParams` holds the rules every movement of a
service shares (cap, multipliers, levels, zone, streak bonuses). `call_one` sends an item as
its single plpgsql call (src/database/ledger_calls.py); `call_batch` sends many as ONE call of
`points_batch`, which applies them with exactly the single functions, in user-id order, in
one transaction, and returns each item's result in the order the items were given.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any, Literal, NamedTuple

from sqlalchemy.ext.asyncio import AsyncConnection

from src.database import ledger_calls
from src.database.ledger_calls import LedgerResult, LevelArrays

Kind = Literal["earn", "daily", "move"]

BATCH = (
    "SELECT idx, outcome, amount, balance_after, level_before, level_after, streak, "
    "duplicate, ledger_id, created_at FROM points_batch("
    "$1::text[], $2::bigint[], $3::text[], $4::text[], $5::bigint[], $6::interval[], "
    "$7::jsonb[], $8::timestamptz[], $9, $10, $11, $12, $13, $14, $15, $16)"
)


@dataclass(frozen=True, slots=True)
class LedgerParams:
    """The rules in force, the same for every movement a service sends."""

    daily_cap: int
    tier_names: list[str]
    tier_multipliers: list[Decimal]
    levels: LevelArrays
    timezone: str
    bonus_days: list[int]
    bonus_points: list[int]


class LedgerItem(NamedTuple):
    """One movement. `amount` is the base points (earn, daily) or the signed amount (move).

    A named tuple: immutable, and built in a fraction of a frozen dataclass's time (one is
    built per movement on the hot path)."""

    kind: Kind
    user_id: int
    amount: int
    transaction_type: str | None = None  # None for a daily claim: the function knows it
    key: str | None = None  # None for a daily claim: derived from the day
    interval: timedelta | None = None  # earn only: the action's minimum interval
    metadata: dict[str, Any] | None = None
    now: datetime | None = None  # None: the database clock, read after the row lock


async def call_one(conn: AsyncConnection, item: LedgerItem, params: LedgerParams) -> LedgerResult:
    """The item as its own single-statement call (its own transaction)."""
    if item.kind == "earn":
        assert item.transaction_type is not None and item.key is not None
        assert item.interval is not None
        return await ledger_calls.earn_request(
            conn,
            user_id=item.user_id,
            transaction_type=item.transaction_type,
            key=item.key,
            base=item.amount,
            interval=item.interval,
            daily_cap=params.daily_cap,
            tier_names=params.tier_names,
            tier_multipliers=params.tier_multipliers,
            levels=params.levels,
            timezone=params.timezone,
            metadata=item.metadata,
            now=item.now,
        )
    if item.kind == "daily":
        return await ledger_calls.claim_daily(
            conn,
            user_id=item.user_id,
            base=item.amount,
            bonus_days=params.bonus_days,
            bonus_points=params.bonus_points,
            levels=params.levels,
            timezone=params.timezone,
            now=item.now,
        )
    assert item.transaction_type is not None and item.key is not None
    return await ledger_calls.move(
        conn,
        user_id=item.user_id,
        transaction_type=item.transaction_type,
        key=item.key,
        amount=item.amount,
        metadata=item.metadata,
        levels=params.levels,
        now=item.now,
    )


async def call_batch(
    conn: AsyncConnection, items: Sequence[LedgerItem], params: LedgerParams
) -> list[LedgerResult]:
    """All items in one statement (one transaction); results in the order of `items`."""
    raw = await conn.get_raw_connection()
    driver = raw.driver_connection  # asyncpg.Connection, as in ledger_calls
    assert driver is not None
    rows = await driver.fetch(
        BATCH,
        [i.kind for i in items],
        [i.user_id for i in items],
        [i.transaction_type for i in items],
        [i.key for i in items],
        [i.amount for i in items],
        [i.interval for i in items],
        [json.dumps(i.metadata) if i.metadata else "{}" for i in items],
        [i.now for i in items],
        params.daily_cap,
        params.tier_names,
        params.tier_multipliers,
        params.levels.thresholds,
        params.levels.multipliers,
        params.timezone,
        params.bonus_days,
        params.bonus_points,
    )
    results: list[LedgerResult | None] = [None] * len(items)
    for row in rows:
        results[row[0] - 1] = LedgerResult(*row[1:])
    if any(r is None for r in results):
        raise RuntimeError(f"points_batch answered {len(rows)} of {len(items)} items")
    return [r for r in results if r is not None]
