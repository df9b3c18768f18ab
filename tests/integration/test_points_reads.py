"""The read side: balance view (exact SPEC field set), history, leaderboard, levels, stats."""

from __future__ import annotations

from dataclasses import fields

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from src.services.points_service import PointsService
from src.services.points_types import BalanceView, InvalidInputError, UnknownUserError
from src.services.user_service import UserService
from tests.support.clock import FakeClock
from tests.support.factories import create_user

SPEC_BALANCE_FIELDS = [
    "balance", "lifetime_earned", "lifetime_spent", "level", "level_name", "level_icon",
    "earning_multiplier", "current_streak", "longest_streak", "next_level_points",
    "progress_to_next_level",
]  # fmt: skip


async def test_balance_view_has_exactly_the_spec_fields(
    points: PointsService, sessions: async_sessionmaker[AsyncSession]
) -> None:
    assert [f.name for f in fields(BalanceView)] == SPEC_BALANCE_FIELDS
    user = await create_user(sessions)
    await points.admin_grant(user_id=user, amount=3000, admin_id=1)
    await points.spend(user_id=user, amount=500, key="s1")
    view = await points.get_balance(user_id=user, language="ru")
    assert (view.balance, view.lifetime_earned, view.lifetime_spent) == (2500, 3000, 500)
    assert (view.level, view.level_name, view.level_icon) == (2, "Трейдер", "📈")
    assert view.next_level_points == 2000  # 5000 - 3000
    assert view.progress_to_next_level == 0.5  # (3000 - 1000) / (5000 - 1000)
    assert (await points.get_balance(user_id=user)).level_name == "Trader"


async def test_top_level_has_no_next_level(
    points: PointsService, sessions: async_sessionmaker[AsyncSession]
) -> None:
    user = await create_user(sessions)
    await points.admin_grant(user_id=user, amount=150_000, admin_id=1)
    view = await points.get_balance(user_id=user)
    assert (view.level, view.next_level_points, view.progress_to_next_level) == (6, 0, 1.0)
    assert view.level_icon == "👑"


async def test_history_is_newest_first_paged_and_skips_refusals(
    points: PointsService, sessions: async_sessionmaker[AsyncSession], clock: FakeClock
) -> None:
    user = await create_user(sessions)
    for i in range(5):
        await points.award_request(user_id=user, action="earn_text_request", key=f"t{i}")
        await points.award_request(user_id=user, action="earn_text_request", key=f"r{i}")  # refused
        clock.advance(seconds=5)
    page = await points.get_history(user_id=user, limit=2, offset=1)
    assert page.total == 5
    assert [e.transaction_id for e in page.entries] == ["t3", "t2"]
    with pytest.raises(InvalidInputError):
        await points.get_history(user_id=user, limit=0)
    with pytest.raises(InvalidInputError):
        await points.get_history(user_id=user, limit=101)
    with pytest.raises(UnknownUserError):
        await points.get_history(user_id=4242)


async def test_leaderboard_top_and_own_rank(
    points: PointsService, sessions: async_sessionmaker[AsyncSession]
) -> None:
    users = [await create_user(sessions, first_name=f"U{i}") for i in range(5)]
    for i, user in enumerate(users):
        await points.admin_grant(user_id=user, amount=(i + 1) * 100, admin_id=1)
    tied = await create_user(sessions, first_name=None, username="tied")
    await points.admin_grant(user_id=tied, amount=100, admin_id=1)  # ties with users[0]
    board = await points.get_leaderboard(limit=3, user_id=tied)
    assert [e.balance for e in board.top] == [500, 400, 300]
    assert [e.rank for e in board.top] == [1, 2, 3]
    assert board.me is not None
    assert (board.me.rank, board.me.display_name) == (6, "@tied")  # same balance, later id
    in_top = await points.get_leaderboard(limit=3, user_id=users[4])
    assert in_top.me is not None and in_top.me.rank == 1


async def test_levels_and_stats(
    points: PointsService, sessions: async_sessionmaker[AsyncSession], clock: FakeClock
) -> None:
    levels = points.get_levels()
    assert [lvl.points_required for lvl in levels] == [0, 1000, 5000, 15000, 50000, 150000]
    assert [str(lvl.earning_multiplier) for lvl in levels] == [
        "1.0",
        "1.1",
        "1.2",
        "1.3",
        "1.5",
        "2.0",
    ]
    user = await create_user(sessions)
    await points.award_request(user_id=user, action="earn_text_request", key="a")
    clock.advance(seconds=5)
    await points.award_request(user_id=user, action="earn_text_request", key="b")
    await points.claim_daily_login(user_id=user)
    await points.spend(user_id=user, amount=20, key="s")
    stats = await points.get_stats(user_id=user)
    assert stats.by_type["earn_text_request"].count == 2
    assert stats.by_type["earn_text_request"].total == 20
    assert stats.by_type["spend"].total == -20
    assert (stats.transactions, stats.total_earned, stats.total_spent) == (4, 120, 20)
    assert (stats.earned_today, stats.rank) == (20, 1)


async def test_stats_carry_streaks_and_referrals(
    points: PointsService, sessions: async_sessionmaker[AsyncSession], clock: FakeClock
) -> None:
    users = UserService(session_factory=sessions)
    referrer = await create_user(sessions)
    code = (await users.get(referrer)).referral_code  # type: ignore[union-attr]
    for _ in range(2):
        friend = await create_user(sessions)
        linked = await users.attach_referrer(user_id=friend, code=code, brand_new=True)
        assert linked.referrer_id == referrer
    await points.claim_daily_login(user_id=referrer)
    clock.advance(days=1)
    await points.claim_daily_login(user_id=referrer)
    stats = await points.get_stats(user_id=referrer)
    assert (stats.current_streak, stats.longest_streak, stats.referrals) == (2, 2, 2)
    clock.advance(days=2)  # a missed day breaks the streak; the longest one stays
    stats = await points.get_stats(user_id=referrer)
    assert (stats.current_streak, stats.longest_streak) == (0, 2)
    assert (await points.get_stats(user_id=friend)).referrals == 0
