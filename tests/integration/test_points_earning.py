"""SPEC section 3: earning rates, multipliers, rounding and the worked examples."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from config.points_config import RequestAction, Tier
from src.services.points_service import PointsService
from src.services.points_types import Outcome
from tests.support.clock import FakeClock
from tests.support.factories import create_user, set_tier

TEXT, VISION, CHART = RequestAction.TEXT, RequestAction.VISION, RequestAction.CHART


async def lift_to_level(points: PointsService, user_id: int, level: int) -> None:
    """Grant exactly the lifetime points the level requires (grants count toward levels)."""
    needed = points.rules.level(level).points_required
    if needed:
        outcome = await points.admin_grant(user_id=user_id, amount=needed, admin_id=1)
        assert outcome.level_after == level


async def earn(points: PointsService, clock: FakeClock, user_id: int, action: RequestAction) -> int:
    clock.advance(seconds=11)  # past every action's interval
    outcome = await points.award_request(
        user_id=user_id, action=action, key=f"{action}:{clock().timestamp()}"
    )
    assert outcome.outcome is Outcome.AWARDED
    return outcome.amount


async def test_free_level_1_text_pays_10(
    points: PointsService, sessions: async_sessionmaker[AsyncSession], clock: FakeClock
) -> None:
    user = await create_user(sessions)
    assert await earn(points, clock, user, TEXT) == 10


async def test_premium_level_3_worked_examples(
    points: PointsService, sessions: async_sessionmaker[AsyncSession], clock: FakeClock
) -> None:
    user = await create_user(sessions, tier=Tier.PREMIUM)
    await lift_to_level(points, user, 3)
    assert await earn(points, clock, user, TEXT) == 18  # 10 x 1.2 x 1.5
    assert await earn(points, clock, user, VISION) == 36  # 20 x 1.2 x 1.5
    # Daily login on a 7-day streak: 50 + 500, no multipliers.
    amounts = []
    for _ in range(7):
        outcome = await points.claim_daily_login(user_id=user)
        amounts.append(outcome.amount)
        clock.advance(days=1)
    assert outcome.streak == 7
    assert amounts[-1] == 550


async def test_vip_level_6_worked_examples(
    points: PointsService, sessions: async_sessionmaker[AsyncSession], clock: FakeClock
) -> None:
    user = await create_user(sessions, tier=Tier.VIP)
    await lift_to_level(points, user, 6)
    assert await earn(points, clock, user, TEXT) == 40
    assert await earn(points, clock, user, VISION) == 80
    assert await earn(points, clock, user, CHART) == 60
    for day in range(1, 31):
        outcome = await points.claim_daily_login(user_id=user)
        assert outcome.streak == day
        clock.advance(days=1)
    assert outcome.amount == 3050


@pytest.mark.parametrize(
    ("tier", "action", "expected"),
    [
        (Tier.FREE, CHART, 17),  # 15 x 1.1 = 16.5 -> 17 (half up)
        (Tier.BASIC, TEXT, 13),  # 10 x 1.1 x 1.2 = 13.2 -> 13
        (Tier.BASIC, VISION, 26),  # 20 x 1.1 x 1.2 = 26.4 -> 26
        (Tier.PREMIUM, CHART, 25),  # 15 x 1.1 x 1.5 = 24.75 -> 25
        (Tier.VIP, TEXT, 22),  # 10 x 1.1 x 2.0
    ],
)
async def test_rounding_is_exact_half_up_at_level_2(
    points: PointsService,
    sessions: async_sessionmaker[AsyncSession],
    clock: FakeClock,
    tier: Tier,
    action: RequestAction,
    expected: int,
) -> None:
    user = await create_user(sessions, tier=tier)
    await lift_to_level(points, user, 2)
    assert await earn(points, clock, user, action) == expected


async def test_expired_tier_earns_as_free(
    points: PointsService, sessions: async_sessionmaker[AsyncSession], clock: FakeClock
) -> None:
    user = await create_user(sessions)
    await set_tier(sessions, user, Tier.VIP, datetime(2026, 3, 10, 12, 0, 5, tzinfo=UTC))
    assert await earn(points, clock, user, TEXT) == 10  # the clock is already past the expiry
    clock.set(datetime(2026, 3, 10, 11, 0, tzinfo=UTC))
    await set_tier(sessions, user, Tier.VIP, datetime(2026, 3, 10, 12, 0, tzinfo=UTC))
    outcome = await points.award_request(user_id=user, action=VISION, key="vip-still-valid")
    assert outcome.amount == 40  # 20 x 1.0 x 2.0 while the tier is still valid


async def test_referral_and_subscription_bonuses(
    points: PointsService, sessions: async_sessionmaker[AsyncSession]
) -> None:
    referrer = await create_user(sessions, tier=Tier.VIP)
    await lift_to_level(points, referrer, 6)
    referred = await create_user(sessions)
    signup = await points.award_referral_signup(referrer_id=referrer, referred_id=referred)
    assert signup.amount == 500  # no multipliers
    again = await points.award_referral_signup(referrer_id=referrer, referred_id=referred)
    assert again.duplicate and again.balance_after == signup.balance_after
    purchase = await points.award_referral_purchase(
        referrer_id=referrer, referred_id=referred, payment_id="pay-1"
    )
    assert purchase.amount == 1000
    second = await points.award_referral_purchase(
        referrer_id=referrer, referred_id=referred, payment_id="pay-2"
    )
    assert second.duplicate and second.amount == 1000  # only the first purchase pays
    assert second.balance_after == purchase.balance_after

    for tier, months, expected in [
        (Tier.BASIC, 3, 1500),
        (Tier.PREMIUM, 1, 1500),
        (Tier.VIP, 2, 6000),
    ]:
        outcome = await points.award_subscription(
            user_id=referred, tier=tier, months=months, payment_id=f"sub-{tier}"
        )
        assert outcome.amount == expected
