"""Read queries over the points tables. Plain data in, plain data out: no rules here."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy import and_, delete, func, insert, or_, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from src.database.models import PointsBalance, PointsLevel, PointsTransaction, User

LEVELS_SYNC_LOCK = 0x5359_4E54_4C56  # an arbitrary, project-unique advisory lock key


async def get_balance_row(session: AsyncSession, user_id: int) -> PointsBalance | None:
    return await session.get(PointsBalance, user_id)


@dataclass(frozen=True, slots=True)
class BalanceRow:
    """What a balance read needs of `points_balances`."""

    balance: int
    lifetime_earned: int
    lifetime_spent: int
    level: int
    earning_multiplier: Decimal
    current_streak: int
    longest_streak: int
    last_daily_login: date | None


BALANCE_ROWS = (
    "SELECT user_id, balance, lifetime_earned, lifetime_spent, level, earning_multiplier,"
    " current_streak, longest_streak, last_daily_login FROM points_balances"
    " WHERE user_id = ANY($1::bigint[])"
)


async def balance_rows(conn: AsyncConnection, user_ids: list[int]) -> dict[int, BalanceRow]:
    """Many users' rows in one autocommit SELECT on the asyncpg driver (the group read of
    src/services/balance_reads.py); a user without a row is absent."""
    raw = await conn.get_raw_connection()
    driver = raw.driver_connection  # asyncpg.Connection
    assert driver is not None
    rows = await driver.fetch(BALANCE_ROWS, user_ids)
    return {row[0]: BalanceRow(*row[1:]) for row in rows}


async def history(
    session: AsyncSession, user_id: int, *, limit: int, offset: int
) -> tuple[list[PointsTransaction], int]:
    """Movements newest first; zero-amount refusal rows are bookkeeping, not history."""
    moved = and_(PointsTransaction.user_id == user_id, PointsTransaction.amount != 0)
    rows = await session.scalars(
        select(PointsTransaction)
        .where(moved)
        .order_by(PointsTransaction.id.desc())
        .limit(limit)
        .offset(offset)
    )
    total = await session.scalar(select(func.count()).select_from(PointsTransaction).where(moved))
    return list(rows), int(total or 0)


async def top_balances(
    session: AsyncSession, limit: int
) -> list[tuple[int, int, int, str | None, str | None]]:
    """(user_id, balance, level, username, first_name) by balance desc, user id asc."""
    result = await session.execute(
        select(
            PointsBalance.user_id,
            PointsBalance.balance,
            PointsBalance.level,
            User.username,
            User.first_name,
        )
        .join(User, User.telegram_id == PointsBalance.user_id)
        .order_by(PointsBalance.balance.desc(), PointsBalance.user_id)
        .limit(limit)
    )
    return [(int(u), int(b), int(lv), un, fn) for u, b, lv, un, fn in result.all()]


async def rank_of(session: AsyncSession, user_id: int, balance: int) -> int:
    """1-based place in the leaderboard order (balance desc, then user id asc)."""
    ahead = await session.scalar(
        select(func.count())
        .select_from(PointsBalance)
        .where(
            or_(
                PointsBalance.balance > balance,
                and_(PointsBalance.balance == balance, PointsBalance.user_id < user_id),
            )
        )
    )
    return int(ahead or 0) + 1


async def stats_by_type(session: AsyncSession, user_id: int) -> list[tuple[str, int, int]]:
    result = await session.execute(
        select(
            PointsTransaction.transaction_type,
            func.count(),
            func.coalesce(func.sum(PointsTransaction.amount), 0),
        )
        .where(PointsTransaction.user_id == user_id, PointsTransaction.amount != 0)
        .group_by(PointsTransaction.transaction_type)
    )
    return [(str(t), int(c), int(s)) for t, c, s in result.all()]


async def replace_levels(session: AsyncSession, levels: list[dict[str, object]]) -> None:
    # Several workers may start at once: one replaces the table at a time.
    await session.execute(select(func.pg_advisory_xact_lock(LEVELS_SYNC_LOCK)))
    await session.execute(delete(PointsLevel))
    await session.execute(insert(PointsLevel), levels)


async def user_exists(session: AsyncSession, user_id: int) -> bool:
    return await session.get(User, user_id) is not None
