"""SPEC section 4: daily login, streaks and milestone bonuses in the configured time zone."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from src.services.points_service import PointsService
from src.services.points_types import Outcome
from tests.conftest import ServiceFactory
from tests.support.clock import FakeClock
from tests.support.factories import create_user


async def claim_days(points: PointsService, clock: FakeClock, user: int, days: int) -> list[int]:
    paid = []
    for _ in range(days):
        outcome = await points.claim_daily_login(user_id=user)
        paid.append(outcome.amount)
        clock.advance(days=1)
    return paid


async def test_first_three_days_pay_100_50_200(
    points: PointsService, sessions: async_sessionmaker[AsyncSession], clock: FakeClock
) -> None:
    user = await create_user(sessions)
    assert await claim_days(points, clock, user, 3) == [100, 50, 200]


async def test_streak_table_milestones(
    points: PointsService, sessions: async_sessionmaker[AsyncSession], clock: FakeClock
) -> None:
    user = await create_user(sessions)
    paid = await claim_days(points, clock, user, 100)
    bonuses = {day: amount - 50 for day, amount in enumerate(paid, start=1) if amount != 50}
    assert bonuses == {1: 50, 3: 150, 7: 500, 14: 1200, 30: 3000, 100: 15000}
    balance = await points.get_balance(user_id=user)
    assert balance.longest_streak == 100


async def test_second_claim_same_day_pays_nothing(
    points: PointsService, sessions: async_sessionmaker[AsyncSession], clock: FakeClock
) -> None:
    user = await create_user(sessions)
    first = await points.claim_daily_login(user_id=user)
    clock.advance(hours=11, minutes=59)  # 23:59 the same day
    second = await points.claim_daily_login(user_id=user)
    assert second.duplicate and second.amount == first.amount == 100
    assert (await points.get_balance(user_id=user)).balance == 100


async def test_missed_day_restarts_streak_and_keeps_longest(
    points: PointsService, sessions: async_sessionmaker[AsyncSession], clock: FakeClock
) -> None:
    user = await create_user(sessions)
    await claim_days(points, clock, user, 4)  # streak 4
    clock.advance(days=1)  # one day with no claim
    outcome = await points.claim_daily_login(user_id=user)
    assert outcome.streak == 1 and outcome.amount == 100  # day-1 milestone again
    balance = await points.get_balance(user_id=user)
    assert (balance.current_streak, balance.longest_streak) == (1, 4)


async def test_broken_streak_shows_zero_before_next_claim(
    points: PointsService, sessions: async_sessionmaker[AsyncSession], clock: FakeClock
) -> None:
    user = await create_user(sessions)
    await claim_days(points, clock, user, 2)
    assert (await points.get_balance(user_id=user)).current_streak == 2  # claimable today
    clock.advance(days=1)
    assert (await points.get_balance(user_id=user)).current_streak == 0


async def test_day_boundary_follows_configured_zone(
    make_service: ServiceFactory,
    clean_db: None,
    sessions: async_sessionmaker[AsyncSession],
    clock: FakeClock,
) -> None:
    moscow = make_service(timezone="Europe/Moscow")  # UTC+3, no DST
    utc = make_service(timezone="UTC")
    a, b = await create_user(sessions), await create_user(sessions)
    clock.set(datetime(2026, 3, 10, 20, 59, tzinfo=UTC))  # 23:59 in Moscow
    await moscow.claim_daily_login(user_id=a)
    await utc.claim_daily_login(user_id=b)
    clock.set(datetime(2026, 3, 10, 21, 1, tzinfo=UTC))  # 00:01 next day in Moscow
    in_moscow = await moscow.claim_daily_login(user_id=a)
    in_utc = await utc.claim_daily_login(user_id=b)
    assert (in_moscow.duplicate, in_moscow.streak, in_moscow.amount) == (False, 2, 50)
    assert in_utc.duplicate  # still 10 March in UTC
    assert in_moscow.transaction_id == f"daily:{a}:2026-03-11"


async def test_daily_login_ignores_tier_and_level(
    points: PointsService, sessions: async_sessionmaker[AsyncSession]
) -> None:
    user = await create_user(sessions)
    await points.admin_grant(user_id=user, amount=200_000, admin_id=1)  # level 6
    outcome = await points.claim_daily_login(user_id=user)
    assert outcome.outcome is Outcome.AWARDED and outcome.amount == 100
