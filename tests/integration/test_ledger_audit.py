"""The audit finds what it looks for: each check reports a ledger broken in exactly its way.

The ledger's functions never write such rows; these tests write them by hand, the way a bug or
a manual edit would, so a check that could never fire would fail here.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from config.points_config import DEFAULT_RULES, RequestAction
from src.services.ledger_audit import audit_ledger
from src.services.points_service import PointsService
from tests.support.factories import create_user

USER = 4_200_001
NOON = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)


async def _row(engine: AsyncEngine, *, type_: str, amount: int, before: int, at: datetime) -> None:
    async with engine.begin() as conn:
        await conn.execute(
            text(
                "INSERT INTO points_transactions (user_id, transaction_type, amount,"
                " balance_before, balance_after, transaction_id, created_at)"
                " VALUES (:u, :t, :a, :b, CAST(:b AS bigint) + CAST(:a AS bigint), :k, :at)"
            ),
            {
                "u": USER,
                "t": str(type_),
                "a": amount,
                "b": before,
                "k": f"manual:{type_}:{at}",
                "at": at,
            },
        )


async def _violations(engine: AsyncEngine) -> set[str]:
    return set((await audit_ledger(engine, DEFAULT_RULES, "UTC")).violations)


@pytest.fixture
async def user(sessions: async_sessionmaker[AsyncSession], points: PointsService) -> None:
    await create_user(sessions, telegram_id=USER)
    await points.admin_grant(user_id=USER, amount=100, admin_id=1)


async def test_a_sound_ledger_passes(engine: AsyncEngine, user: None) -> None:
    assert await _violations(engine) == set()


async def test_a_balance_that_drifts_from_its_rows(engine: AsyncEngine, user: None) -> None:
    async with engine.begin() as conn:
        await conn.execute(
            text(
                "UPDATE points_balances"
                " SET balance = balance + 1, lifetime_earned = lifetime_earned + 1"
            )
        )
    assert await _violations(engine) == {"balance_matches_ledger"}


async def test_a_row_that_does_not_start_where_the_last_one_ended(
    engine: AsyncEngine, user: None
) -> None:
    await _row(engine, type_="admin_grant", amount=5, before=90, at=NOON)
    assert "chain_unbroken" in await _violations(engine)


async def test_a_level_behind_lifetime_earnings(engine: AsyncEngine, user: None) -> None:
    async with engine.begin() as conn:
        await conn.execute(
            text("UPDATE points_balances SET lifetime_earned = 5000, balance = 5000, level = 1")
        )
    assert "level_matches_lifetime" in await _violations(engine)


async def test_request_earnings_over_the_daily_cap(engine: AsyncEngine, user: None) -> None:
    cap = DEFAULT_RULES.max_daily_points_earning
    await _row(engine, type_=RequestAction.TEXT, amount=cap, before=100, at=NOON)
    await _row(
        engine, type_=RequestAction.CHART, amount=1, before=100 + cap, at=NOON + timedelta(hours=1)
    )
    assert "daily_cap_respected" in await _violations(engine)


@pytest.mark.parametrize("action", list(RequestAction))
async def test_two_paid_requests_inside_the_interval(
    engine: AsyncEngine, user: None, action: RequestAction
) -> None:
    gap = timedelta(seconds=DEFAULT_RULES.requests[action].min_interval_seconds) / 2
    await _row(engine, type_=action, amount=10, before=100, at=NOON)
    await _row(engine, type_=action, amount=10, before=110, at=NOON + gap)
    assert "intervals_respected" in await _violations(engine)


async def test_requests_of_different_actions_may_follow_closely(
    engine: AsyncEngine, user: None
) -> None:
    await _row(engine, type_=RequestAction.TEXT, amount=10, before=100, at=NOON)
    await _row(engine, type_=RequestAction.VISION, amount=10, before=110, at=NOON)
    assert "intervals_respected" not in await _violations(engine)
