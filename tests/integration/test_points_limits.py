"""SPEC section 6: minimum intervals and the daily cap on request earnings."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from config.points_config import DEFAULT_RULES, RequestAction
from src.services.points_service import PointsService
from src.services.points_types import Outcome
from tests.conftest import ServiceFactory
from tests.support.clock import FakeClock
from tests.support.factories import create_user


@pytest.mark.parametrize(
    ("action", "interval"),
    [(RequestAction.TEXT, 5), (RequestAction.VISION, 10), (RequestAction.CHART, 10)],
)
async def test_minimum_interval_between_paid_earns(
    points: PointsService,
    sessions: async_sessionmaker[AsyncSession],
    clock: FakeClock,
    action: RequestAction,
    interval: int,
) -> None:
    user = await create_user(sessions)
    first = await points.award_request(user_id=user, action=action, key="m1")
    clock.advance(seconds=interval - 0.001)
    early = await points.award_request(user_id=user, action=action, key="m2")
    clock.advance(seconds=0.001)
    on_time = await points.award_request(user_id=user, action=action, key="m3")
    assert first.outcome is Outcome.AWARDED
    assert (early.outcome, early.amount, early.reason) == (Outcome.RATE_LIMITED, 0, "rate_limited")
    assert on_time.outcome is Outcome.AWARDED


async def test_interval_is_per_action(
    points: PointsService, sessions: async_sessionmaker[AsyncSession]
) -> None:
    user = await create_user(sessions)
    text = await points.award_request(user_id=user, action=RequestAction.TEXT, key="t")
    vision = await points.award_request(user_id=user, action=RequestAction.VISION, key="v")
    assert text.amount == 10 and vision.amount == 20


async def test_rate_limited_earn_does_not_restart_the_interval(
    points: PointsService, sessions: async_sessionmaker[AsyncSession], clock: FakeClock
) -> None:
    user = await create_user(sessions)
    await points.award_request(user_id=user, action=RequestAction.TEXT, key="1")
    clock.advance(seconds=4)
    await points.award_request(user_id=user, action=RequestAction.TEXT, key="2")  # refused
    clock.advance(seconds=1)  # 5 s after the last PAID earn
    paid = await points.award_request(user_id=user, action=RequestAction.TEXT, key="3")
    assert paid.amount == 10


async def test_daily_cap_pays_remainder_then_nothing(
    make_service: ServiceFactory,
    clean_db: None,
    sessions: async_sessionmaker[AsyncSession],
    clock: FakeClock,
) -> None:
    points = make_service(rules=DEFAULT_RULES.model_copy(update={"max_daily_points_earning": 25}))
    user = await create_user(sessions)
    outcomes = []
    for i in range(4):
        outcomes.append(
            await points.award_request(user_id=user, action="earn_text_request", key=f"k{i}")
        )
        clock.advance(seconds=5)
    assert [o.amount for o in outcomes] == [10, 10, 5, 0]
    assert [o.outcome for o in outcomes][2:] == [Outcome.PARTIALLY_CAPPED, Outcome.CAPPED]
    # Bonuses outside the cap still pay; the cap resets the next local day.
    assert (await points.claim_daily_login(user_id=user)).amount == 100
    assert (await points.admin_grant(user_id=user, amount=7, admin_id=1)).amount == 7
    clock.set(datetime(2026, 3, 11, 0, 0, tzinfo=UTC))
    next_day = await points.award_request(user_id=user, action="earn_text_request", key="next")
    assert next_day.amount == 10


async def test_default_cap_is_10000_for_requests(
    points: PointsService, sessions: async_sessionmaker[AsyncSession], clock: FakeClock
) -> None:
    user = await create_user(sessions)
    await points.admin_grant(user_id=user, amount=150_000, admin_id=1)  # level 6: text pays 20
    total = 0
    for i in range(501):
        outcome = await points.award_request(user_id=user, action="earn_text_request", key=f"{i}")
        total += outcome.amount
        clock.advance(seconds=5)
    assert total == 10_000
    assert outcome.outcome is Outcome.CAPPED
    stats = await points.get_stats(user_id=user)
    assert (stats.earned_today, stats.daily_cap) == (10_000, 10_000)
