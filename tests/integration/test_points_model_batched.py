"""The model test of test_points_model.py, with movements sent together in one batch.

Each step is a group of earns, daily claims, grants, deducts and spends over two or three
users, started in the same turn of the event loop, so they go out as one `points_batch`
call. The batch applies them user by user, each user's in the order they were started;
users are independent, so the model (which knows nothing of batches) applies them in the
order they were started and every caller's outcome must still equal the model's. Replays
of keys used in the same group, conflicts, refusals and level-ups are all reached.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Awaitable
from dataclasses import dataclass
from datetime import datetime, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from config.points_config import Tier, TransactionType
from src.services.ledger_audit import audit_ledger
from src.services.points_service import PointsService
from src.services.points_types import PointsOutcome
from tests.conftest import ServiceFactory
from tests.integration.test_points_model import (
    RULES,
    START,
    TIMEZONE,
    Daily,
    Earn,
    Expected,
    Model,
    ModelUser,
    Move,
    attempt,
    check,
    earns,
    moves,
    seconds,
    tiers,
    users,
)
from tests.support.clock import FakeClock
from tests.support.database import TRUNCATE
from tests.support.factories import create_user


@dataclass(frozen=True)
class Together:
    """Movements started at once (one batch), then the clock moves by `wait`."""

    calls: list[Earn | Daily | Move]
    wait: timedelta


groups = st.builds(
    Together,
    st.lists(st.one_of(earns, earns, moves, st.builds(Daily, users)), min_size=1, max_size=12),
    seconds,
)


@dataclass(frozen=True)
class Scenario:
    start: datetime
    tiers: list[Tier]
    groups: list[Together]


scenarios = st.builds(
    Scenario,
    start=st.integers(0, 24 * 60 - 1).map(lambda m: START + timedelta(minutes=m)),
    tiers=st.lists(tiers, min_size=2, max_size=3),
    groups=st.lists(groups, min_size=3, max_size=12),
)


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(scenario=scenarios)
async def test_batched_movements_match_the_model(
    engine: AsyncEngine,
    owner_engine: AsyncEngine,
    sessions: async_sessionmaker[AsyncSession],
    make_service: ServiceFactory,
    clock: FakeClock,
    scenario: Scenario,
) -> None:
    async with owner_engine.begin() as conn:  # the application role may not TRUNCATE
        await conn.execute(TRUNCATE)
    clock.set(scenario.start)
    service = make_service(rules=RULES, timezone=TIMEZONE)
    ids = [await create_user(sessions, tier=tier) for tier in scenario.tiers]
    model = Model(
        clock=clock,
        users={uid: ModelUser(tier=t) for uid, t in zip(ids, scenario.tiers, strict=True)},
    )
    used_keys: list[str] = []
    fresh = itertools.count(1)

    def key_for(replay: int | None) -> str:
        if replay is None or not used_keys:
            used_keys.append(f"key-{next(fresh)}")
            return used_keys[-1]
        return used_keys[replay % len(used_keys)]

    for step, group in enumerate(scenario.groups):
        expected: list[Expected | str] = []
        calls: list[Awaitable[PointsOutcome | str]] = []
        for op in group.calls:
            uid = ids[op.user % len(ids)]
            match op:
                case Earn(_, action, replay):
                    key = key_for(replay)
                    expected.append(model.earn(uid, action, key))
                    calls.append(
                        attempt(service.award_request(user_id=uid, action=action, key=key))
                    )
                case Daily(_):
                    key, result = model.claim_daily(uid)
                    expected.append(result)
                    calls.append(attempt(service.claim_daily_login(user_id=uid)))
                case Move(kind, _, amount, replay, same_amount):
                    key = key_for(replay)
                    original = model.users[uid].keys.get(key)
                    if same_amount and original and original.transaction_type == kind:
                        assert original.requested is not None
                        amount = abs(original.requested)
                    signed = amount if kind is TransactionType.ADMIN_GRANT else -amount
                    expected.append(model.move(uid, kind, key, signed))
                    calls.append(attempt(_move(service, kind, uid, amount, key)))
        outcomes = await asyncio.gather(*calls)
        for n, (op, actual, want) in enumerate(zip(group.calls, outcomes, expected, strict=True)):
            check(f"group {step} call {n}: {op}", actual, want, daily=isinstance(op, Daily))
        clock.advance(seconds=group.wait.total_seconds())

    assert service.batcher is not None and service.batcher.stats.fallbacks == 0
    for uid, state in model.users.items():
        view = await service.get_balance(user_id=uid)
        assert (view.balance, view.lifetime_earned, view.lifetime_spent, view.level) == (
            state.balance,
            state.lifetime_earned,
            state.lifetime_spent,
            state.level,
        ), f"user {uid}"
    report = await audit_ledger(engine, RULES, TIMEZONE)
    assert report.ok, report.summary()


def _move(
    service: PointsService, kind: str, uid: int, amount: int, key: str
) -> Awaitable[PointsOutcome]:
    if kind == TransactionType.ADMIN_GRANT:
        return service.admin_grant(user_id=uid, amount=amount, admin_id=1, key=key)
    if kind == TransactionType.ADMIN_DEDUCT:
        return service.admin_deduct(user_id=uid, amount=amount, admin_id=1, key=key)
    return service.spend(user_id=uid, amount=amount, key=key)
