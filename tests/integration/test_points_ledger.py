"""SPEC section 2: idempotency, debits, levels, bad input and the logged trail."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from structlog.testing import capture_logs

from src.database.models import PointsTransaction
from src.services.ledger_audit import audit_ledger
from src.services.points_service import PointsService
from src.services.points_types import (
    IdempotencyConflictError,
    InvalidInputError,
    Outcome,
    UnknownUserError,
)
from tests.support.clock import FakeClock
from tests.support.factories import create_user


async def ledger_rows(sessions: async_sessionmaker[AsyncSession]) -> int:
    async with sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(PointsTransaction)) or 0)


async def test_replay_returns_original_and_changes_nothing(
    points: PointsService, sessions: async_sessionmaker[AsyncSession], clock: FakeClock
) -> None:
    user = await create_user(sessions)
    first = await points.award_request(user_id=user, action="earn_text_request", key="text_req:1:7")
    clock.advance(seconds=60)
    replay = await points.award_request(
        user_id=user, action="earn_text_request", key="text_req:1:7"
    )
    assert (replay.duplicate, replay.amount, replay.balance_after) == (True, 10, 10)
    assert replay.outcome is first.outcome and replay.reason == "duplicate"
    assert (await points.get_balance(user_id=user)).balance == 10
    assert await ledger_rows(sessions) == 1


async def test_replay_of_a_refusal_stays_a_refusal(
    points: PointsService, sessions: async_sessionmaker[AsyncSession], clock: FakeClock
) -> None:
    user = await create_user(sessions)
    await points.award_request(user_id=user, action="earn_text_request", key="a")
    refused = await points.award_request(user_id=user, action="earn_text_request", key="b")
    clock.advance(seconds=30)  # the interval has passed, but "b" was already decided
    replay = await points.award_request(user_id=user, action="earn_text_request", key="b")
    assert refused.outcome is replay.outcome is Outcome.RATE_LIMITED
    assert replay.duplicate and replay.amount == 0
    assert (await points.get_balance(user_id=user)).balance == 10


async def test_same_key_different_type_or_amount_is_a_conflict(
    points: PointsService, sessions: async_sessionmaker[AsyncSession]
) -> None:
    user = await create_user(sessions)
    await points.award_request(user_id=user, action="earn_text_request", key="k")
    with pytest.raises(IdempotencyConflictError):
        await points.award_request(user_id=user, action="earn_vision_request", key="k")
    await points.admin_grant(user_id=user, amount=100, admin_id=1, key="grant-1")
    with pytest.raises(IdempotencyConflictError):
        await points.admin_grant(user_id=user, amount=101, admin_id=1, key="grant-1")
    assert (await points.get_balance(user_id=user)).balance == 110


async def test_keys_are_per_user(
    points: PointsService, sessions: async_sessionmaker[AsyncSession]
) -> None:
    a, b = await create_user(sessions), await create_user(sessions)
    assert (
        await points.award_request(user_id=a, action="earn_text_request", key="same")
    ).amount == 10
    assert (
        await points.award_request(user_id=b, action="earn_text_request", key="same")
    ).amount == 10


async def test_debits_refuse_below_zero_and_count_as_spent(
    points: PointsService, sessions: async_sessionmaker[AsyncSession]
) -> None:
    user = await create_user(sessions)
    await points.admin_grant(user_id=user, amount=1500, admin_id=7, description="welcome")
    spent = await points.spend(user_id=user, amount=400, key="shop:1", description="bonus request")
    assert (spent.outcome, spent.amount, spent.balance_after) == (Outcome.DEBITED, -400, 1100)
    refused = await points.admin_deduct(user_id=user, amount=1101, admin_id=7)
    assert (refused.outcome, refused.amount, refused.reason) == (
        Outcome.INSUFFICIENT_FUNDS,
        0,
        "insufficient_funds",
    )
    deducted = await points.admin_deduct(user_id=user, amount=1100, admin_id=7, description="fix")
    assert deducted.balance_after == 0
    balance = await points.get_balance(user_id=user)
    assert (balance.balance, balance.lifetime_earned, balance.lifetime_spent) == (0, 1500, 1500)
    assert balance.level == 2  # spending never lowers a level
    report = await audit_ledger(points._ledger_engine, points.rules, "UTC")
    assert report.ok, report.summary()


async def test_admin_grant_records_admin_and_description(
    points: PointsService, sessions: async_sessionmaker[AsyncSession]
) -> None:
    user = await create_user(sessions)
    await points.admin_grant(user_id=user, amount=5, admin_id=42, description="contest winner")
    page = await points.get_history(user_id=user)
    assert page.entries[0].metadata == {"admin_id": 42, "description": "contest winner"}
    assert page.entries[0].transaction_type == "admin_grant"


async def test_level_up_is_reported_once_and_raises_multiplier(
    points: PointsService, sessions: async_sessionmaker[AsyncSession], clock: FakeClock
) -> None:
    user = await create_user(sessions)
    await points.admin_grant(user_id=user, amount=990, admin_id=1)
    crossing = await points.award_request(user_id=user, action="earn_text_request", key="x")
    assert crossing.leveled_up and (crossing.level_before, crossing.level_after) == (1, 2)
    replay = await points.award_request(user_id=user, action="earn_text_request", key="x")
    assert not replay.leveled_up
    clock.advance(seconds=5)
    after = await points.award_request(user_id=user, action="earn_text_request", key="y")
    assert after.amount == 11 and not after.leveled_up  # 10 x 1.1
    balance = await points.get_balance(user_id=user)
    assert (balance.level, balance.earning_multiplier) == (2, Decimal("1.1"))


@pytest.mark.parametrize("amount", [0, -5, 1.5, True, "10", None, 10**13])
async def test_bad_amounts_are_refused_and_nothing_is_written(
    points: PointsService, sessions: async_sessionmaker[AsyncSession], amount: object
) -> None:
    user = await create_user(sessions)
    for call in (points.admin_grant, points.admin_deduct):
        with pytest.raises(InvalidInputError):
            await call(user_id=user, amount=amount, admin_id=1)  # type: ignore[arg-type]
    with pytest.raises(InvalidInputError):
        await points.spend(user_id=user, amount=amount, key="s")  # type: ignore[arg-type]
    assert await ledger_rows(sessions) == 0


async def test_other_bad_input_is_refused_and_nothing_is_written(
    points: PointsService, sessions: async_sessionmaker[AsyncSession]
) -> None:
    user = await create_user(sessions)
    with pytest.raises(InvalidInputError, match="unknown action"):
        await points.award_request(user_id=user, action="earn_poetry", key="k")
    with pytest.raises(InvalidInputError, match="limit is 128"):
        await points.award_request(user_id=user, action="earn_text_request", key="k" * 129)
    with pytest.raises(InvalidInputError, match="non-empty"):
        await points.award_request(user_id=user, action="earn_text_request", key="  ")
    with pytest.raises(InvalidInputError, match="limit is 500"):
        await points.admin_grant(user_id=user, amount=1, admin_id=1, description="d" * 501)
    with pytest.raises(InvalidInputError, match="refer themselves"):
        await points.award_referral_signup(referrer_id=user, referred_id=user)
    with pytest.raises(InvalidInputError, match="not a paid"):
        await points.award_subscription(user_id=user, tier="FREE", months=1, payment_id="p")
    with pytest.raises(InvalidInputError, match="months"):
        await points.award_subscription(user_id=user, tier="VIP", months=0, payment_id="p")
    with pytest.raises(UnknownUserError):
        await points.award_request(user_id=999, action="earn_text_request", key="k")
    with pytest.raises(UnknownUserError):
        await points.claim_daily_login(user_id=999)
    with pytest.raises(UnknownUserError):
        await points.admin_grant(user_id=999, amount=1, admin_id=1)
    assert await ledger_rows(sessions) == 0


async def test_every_movement_logs_a_diamond_line_and_replays_warn(
    points: PointsService, sessions: async_sessionmaker[AsyncSession]
) -> None:
    user = await create_user(sessions)
    with capture_logs() as logs:
        await points.award_request(user_id=user, action="earn_text_request", key="text_req:5:9")
        await points.award_request(user_id=user, action="earn_text_request", key="text_req:5:9")
    moved = [e for e in logs if "💎" in e["event"]]
    assert len(moved) == 1
    assert {k: moved[0][k] for k in ("user_id", "type", "amount", "balance_after", "key")} == {
        "user_id": user,
        "type": "earn_text_request",
        "amount": 10,
        "balance_after": 10,
        "key": "text_req:5:9",
    }
    duplicate = [e for e in logs if e["event"] == "Duplicate transaction"]
    assert len(duplicate) == 1 and duplicate[0]["log_level"] == "warning"


async def test_a_second_daily_claim_is_expected_and_logged_at_info(
    points: PointsService, sessions: async_sessionmaker[AsyncSession]
) -> None:
    """A returning user pressing 🎁 again is not a redelivery: no warning for it."""
    user = await create_user(sessions)
    await points.claim_daily_login(user_id=user)
    with capture_logs() as logs:
        again = await points.claim_daily_login(user_id=user)
    assert again.duplicate
    assert [(e["event"], e["log_level"]) for e in logs] == [("daily bonus already claimed", "info")]
    assert logs[0]["key"] == again.transaction_id and logs[0]["user_id"] == user
