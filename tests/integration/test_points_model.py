"""Model-based test of the ledger (SPEC sections 2-6).

Hypothesis generates random sequences of operations over two or three users: request earns
(fresh keys and replays of used keys), daily logins, admin grants and deducts, spends, tier
changes and clock moves. Each sequence runs against the real PointsService on the real
PostgreSQL and against `Model` below, a plain-Python statement of the rules that shares no
code with the service (the SPEC's numbers are written out here, not read from the config).
After every operation the returned outcome must equal the model's; at the end every balance
must equal the model's and the ledger audit must pass.

The daily cap is lowered to 300 so sequences reach it often, and days are counted in
Europe/Moscow (UTC+3) so local midnight is not UTC midnight.
"""

from __future__ import annotations

import itertools
from collections.abc import Awaitable
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from config.points_config import DEFAULT_RULES, RequestAction, Tier, TransactionType
from src.services.ledger_audit import audit_ledger
from src.services.points_types import (
    IdempotencyConflictError,
    Outcome,
    PointsOutcome,
)
from tests.conftest import ServiceFactory
from tests.support.clock import FakeClock
from tests.support.database import TRUNCATE
from tests.support.factories import create_user, set_tier

TIMEZONE = "Europe/Moscow"
TZ = ZoneInfo(TIMEZONE)
DAILY_CAP = 300
RULES = DEFAULT_RULES.model_copy(update={"max_daily_points_earning": DAILY_CAP})
FAR_FUTURE = datetime(2100, 1, 1, tzinfo=UTC)
START = datetime(2026, 3, 10, 0, 0, tzinfo=UTC)

# SPEC sections 3-5, written out independently of config/points_config.py.
BASE = {RequestAction.TEXT: 10, RequestAction.VISION: 20, RequestAction.CHART: 15}
INTERVAL = {
    RequestAction.TEXT: timedelta(seconds=5),
    RequestAction.VISION: timedelta(seconds=10),
    RequestAction.CHART: timedelta(seconds=10),
}
TIER_MULT = {
    Tier.FREE: Decimal("1.0"),
    Tier.BASIC: Decimal("1.2"),
    Tier.PREMIUM: Decimal("1.5"),
    Tier.VIP: Decimal("2.0"),
}
LEVELS = {  # level: (points required, multiplier)
    1: (0, Decimal("1.0")),
    2: (1_000, Decimal("1.1")),
    3: (5_000, Decimal("1.2")),
    4: (15_000, Decimal("1.3")),
    5: (50_000, Decimal("1.5")),
    6: (150_000, Decimal("2.0")),
}
DAILY_LOGIN = 50
STREAK_BONUS = {1: 50, 3: 150, 7: 500, 14: 1200, 30: 3000, 100: 15000}

LEDGER_ROWS = text("SELECT count(*) FROM points_transactions WHERE user_id = :user_id")
CONFLICT = "conflict"  # the service raised IdempotencyConflictError


def round_half_up(value: Decimal) -> int:
    return int(value.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def level_for(lifetime_earned: int) -> int:
    return max(level for level, (required, _) in LEVELS.items() if lifetime_earned >= required)


# ---------------------------------------------------------------------------- the model


@dataclass(frozen=True)
class Expected:
    """The fields of a PointsOutcome the model predicts."""

    outcome: Outcome
    amount: int
    balance_after: int
    level_before: int
    level_after: int
    duplicate: bool = False
    streak: int | None = None  # compared for daily logins only


@dataclass(frozen=True)
class UsedKey:
    transaction_type: str
    requested: int | None  # the signed amount asked for (fixed-amount movements only)
    result: Expected


@dataclass
class ModelUser:
    tier: Tier
    tier_expires: datetime = FAR_FUTURE
    balance: int = 0
    lifetime_earned: int = 0
    lifetime_spent: int = 0
    level: int = 1
    streak: int = 0
    longest: int = 0
    last_claim: date | None = None
    last_paid: dict[str, datetime] = field(default_factory=dict)  # per request type
    earned_today: int = 0
    earned_today_date: date | None = None
    keys: dict[str, UsedKey] = field(default_factory=dict)


@dataclass
class Model:
    clock: FakeClock
    users: dict[int, ModelUser]

    def today(self) -> date:
        return self.clock().astimezone(TZ).date()

    def tier(self, user: ModelUser) -> Tier:
        return user.tier if user.tier_expires > self.clock() else Tier.FREE

    def _replay(
        self, user: ModelUser, key: str, transaction_type: str, requested: int | None
    ) -> Expected | str | None:
        """A used key: the original outcome (duplicate=True), or CONFLICT; None if unused."""
        used = user.keys.get(key)
        if used is None:
            return None
        if used.transaction_type != transaction_type:
            return CONFLICT
        if requested is not None and used.requested != requested:
            return CONFLICT
        # The level fields of a replay describe the user now; nothing else changes.
        return replace(used.result, duplicate=True, level_before=user.level, level_after=user.level)

    def _post(
        self,
        user: ModelUser,
        key: str,
        transaction_type: str,
        outcome: Outcome,
        amount: int,
        *,
        requested: int | None = None,
        streak: int | None = None,
    ) -> Expected:
        level_before = user.level
        user.balance += amount
        if amount > 0:
            user.lifetime_earned += amount
            user.level = max(user.level, level_for(user.lifetime_earned))
        else:
            user.lifetime_spent -= amount
        result = Expected(outcome, amount, user.balance, level_before, user.level, streak=streak)
        user.keys[key] = UsedKey(transaction_type, requested, result)  # refusals are recorded too
        return result

    def earn(self, user_id: int, action: RequestAction, key: str) -> Expected | str:
        user = self.users[user_id]
        kind = action.value
        replay = self._replay(user, key, kind, None)
        if replay is not None:
            return replay
        now = self.clock()
        last = user.last_paid.get(kind)
        if last is not None and now < last + INTERVAL[action]:
            return self._post(user, key, kind, Outcome.RATE_LIMITED, 0)
        full = round_half_up(BASE[action] * LEVELS[user.level][1] * TIER_MULT[self.tier(user)])
        today = self.today()
        earned = user.earned_today if user.earned_today_date == today else 0
        amount = min(full, max(DAILY_CAP - earned, 0))
        if amount == 0:
            return self._post(user, key, kind, Outcome.CAPPED, 0)
        user.last_paid[kind] = now
        user.earned_today, user.earned_today_date = earned + amount, today
        outcome = Outcome.AWARDED if amount == full else Outcome.PARTIALLY_CAPPED
        return self._post(user, key, kind, outcome, amount)

    def claim_daily(self, user_id: int) -> tuple[str, Expected | str]:
        user = self.users[user_id]
        today = self.today()
        key = f"daily:{user_id}:{today.isoformat()}"
        replay = self._replay(user, key, TransactionType.DAILY_LOGIN, None)
        if replay is not None:
            return key, replay
        consecutive = user.last_claim == today - timedelta(days=1)
        streak = user.streak + 1 if consecutive else 1
        user.streak, user.longest, user.last_claim = streak, max(user.longest, streak), today
        amount = DAILY_LOGIN + STREAK_BONUS.get(streak, 0)
        return key, self._post(
            user, key, TransactionType.DAILY_LOGIN, Outcome.AWARDED, amount, streak=streak
        )

    def move(self, user_id: int, kind: str, key: str, signed: int) -> Expected | str:
        user = self.users[user_id]
        replay = self._replay(user, key, kind, signed)
        if replay is not None:
            return replay
        if user.balance + signed < 0:  # refused, never clipped
            return self._post(user, key, kind, Outcome.INSUFFICIENT_FUNDS, 0, requested=signed)
        outcome = Outcome.AWARDED if signed > 0 else Outcome.DEBITED
        return self._post(user, key, kind, outcome, signed, requested=signed)

    def live_streak(self, user: ModelUser) -> int:
        if user.last_claim is None or user.last_claim < self.today() - timedelta(days=1):
            return 0
        return user.streak

    def earned_today(self, user: ModelUser) -> int:
        return user.earned_today if user.earned_today_date == self.today() else 0


def level_progress(user: ModelUser) -> tuple[int, float]:
    """SPEC 5: points to the next level and the share of the current band already earned."""
    if user.level == max(LEVELS):
        return 0, 1.0
    lower, upper = LEVELS[user.level][0], LEVELS[user.level + 1][0]
    return upper - user.lifetime_earned, round((user.lifetime_earned - lower) / (upper - lower), 4)


# ---------------------------------------------------------------------------- operations


@dataclass(frozen=True)
class Earn:
    user: int
    action: RequestAction
    replay: int | None  # None: a fresh key; else an index into the keys used so far


@dataclass(frozen=True)
class Daily:
    user: int


@dataclass(frozen=True)
class Move:
    kind: TransactionType  # ADMIN_GRANT, ADMIN_DEDUCT or SPEND
    user: int
    amount: int
    replay: int | None
    same_amount: bool  # on a replay of this user's key of the same kind: repeat its amount


@dataclass(frozen=True)
class SetTier:
    user: int
    tier: Tier
    expires_in: timedelta | None  # None: far in the future


@dataclass(frozen=True)
class Wait:
    delta: timedelta


@dataclass(frozen=True)
class Burst:
    """A user firing requests: `count` earns with fresh keys, the action's interval + `slack`
    seconds apart (slack 0 lands exactly on the interval's end, < 0 inside it)."""

    user: int
    action: RequestAction
    count: int
    slack: int

    def expand(self) -> list[Earn | Wait]:
        gap = INTERVAL[self.action] + timedelta(seconds=self.slack)
        return [Earn(self.user, self.action, None), Wait(gap)] * self.count


@dataclass(frozen=True)
class LoginRun:
    """A user claiming the daily login every `gap` for `count` claims (1 day: a streak)."""

    user: int
    count: int
    gap: timedelta

    def expand(self) -> list[Daily | Wait]:
        return [Daily(self.user), Wait(self.gap)] * self.count


Operation = Earn | Daily | Move | SetTier | Wait | Burst | LoginRun


@dataclass(frozen=True)
class Scenario:
    start: datetime
    tiers: list[Tier]
    operations: list[Operation]


users = st.sampled_from([0, 0, 0, 1, 2])  # user 0 is busy enough to reach the daily cap
replays = st.one_of(st.none(), st.none(), st.none(), st.integers(0, 1000))
tiers = st.sampled_from(list(Tier))
amounts = st.integers(1, 400) | st.sampled_from([999, 1000, 4000, 5000, 15000, 50000, 150000])
seconds = st.integers(0, 20).map(lambda s: timedelta(seconds=s))
long_waits = st.one_of(
    st.integers(1, 30).map(lambda h: timedelta(hours=h)),
    st.integers(1, 3).map(lambda d: timedelta(days=d)),
)
earns = st.builds(Earn, users, st.sampled_from(list(RequestAction)), replays)
moves = st.builds(
    Move,
    st.sampled_from(
        [TransactionType.ADMIN_GRANT, TransactionType.ADMIN_DEDUCT, TransactionType.SPEND]
    ),
    users,
    amounts,
    replays,
    st.booleans(),
)
tier_changes = st.builds(
    SetTier,
    users,
    tiers,
    st.none() | st.integers(1, 3 * 86400).map(lambda s: timedelta(seconds=s)),
)
bursts = st.builds(
    Burst,
    users,
    st.sampled_from(list(RequestAction)),
    st.integers(4, 20),
    st.integers(-3, 2),
)
login_runs = st.builds(
    LoginRun,
    users,
    st.integers(2, 16),
    st.sampled_from([timedelta(hours=h) for h in (12, 20, 24, 24, 24, 30, 48)]),
)
# Weighted towards earns and short waits so that sequences reach the intervals and the cap.
operations = st.one_of(
    *[earns] * 6,
    *[st.builds(Wait, seconds)] * 4,
    st.builds(Wait, long_waits),
    st.builds(Daily, users),
    *[moves] * 2,
    tier_changes,
    *[bursts] * 2,
    login_runs,
)
scenarios = st.builds(
    Scenario,
    start=st.integers(0, 24 * 60 - 1).map(lambda m: START + timedelta(minutes=m)),
    tiers=st.lists(tiers, min_size=2, max_size=3),
    operations=st.lists(operations, min_size=20, max_size=50),
)


def observed(outcome: PointsOutcome | str, *, daily: bool = False) -> Expected | str:
    if isinstance(outcome, str):
        return outcome
    return Expected(
        outcome=outcome.outcome,
        amount=outcome.amount,
        balance_after=outcome.balance_after,
        level_before=outcome.level_before,
        level_after=outcome.level_after,
        duplicate=outcome.duplicate,
        streak=outcome.streak if daily else None,
    )


def check(where: str, actual: PointsOutcome | str, expected: Expected | str, **kw: bool) -> None:
    got = observed(actual, **kw)
    assert got == expected, f"{where}\n  service: {got}\n  model:   {expected}"


async def attempt(call: Awaitable[PointsOutcome]) -> PointsOutcome | str:
    try:
        outcome = await call
    except IdempotencyConflictError:
        event(CONFLICT)  # `--hypothesis-show-statistics` shows what the examples reached
        return CONFLICT
    event(f"{outcome.outcome.value}{' (replay)' if outcome.duplicate else ''}")
    event(f"level {outcome.level_after}")
    return outcome


# ---------------------------------------------------------------------------- the test


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(scenario=scenarios)
async def test_random_sequences_match_the_model(
    engine: AsyncEngine,
    owner_engine: AsyncEngine,
    sessions: async_sessionmaker[AsyncSession],
    make_service: ServiceFactory,
    clock: FakeClock,
    scenario: Scenario,
) -> None:
    # Fixtures are shared by all examples: start each one from an empty ledger.
    async with owner_engine.begin() as conn:
        await conn.execute(TRUNCATE)
    clock.set(scenario.start)
    service = make_service(rules=RULES, timezone=TIMEZONE)
    ids = [await create_user(sessions, tier=tier) for tier in scenario.tiers]
    model = Model(
        clock=clock,
        users={uid: ModelUser(tier=t) for uid, t in zip(ids, scenario.tiers, strict=True)},
    )
    used_keys: list[str] = []  # every key used so far, by any user
    fresh = itertools.count(1)

    def key_for(replay: int | None) -> str:
        if replay is None or not used_keys:
            key = f"key-{next(fresh)}"
            used_keys.append(key)
            return key
        return used_keys[replay % len(used_keys)]

    steps = [
        part
        for op in scenario.operations
        for part in (op.expand() if isinstance(op, Burst | LoginRun) else [op])
    ]
    for step, op in enumerate(steps):
        where = f"step {step}: {op} at {clock().astimezone(TZ).isoformat()}"
        match op:
            case Wait(delta):
                clock.advance(seconds=delta.total_seconds())
            case SetTier(user, tier, expires_in):
                uid = ids[user % len(ids)]
                expires = FAR_FUTURE if expires_in is None else clock() + expires_in
                await set_tier(sessions, uid, tier, expires)
                model.users[uid].tier, model.users[uid].tier_expires = tier, expires
            case Earn(user, action, replay):
                uid, key = ids[user % len(ids)], key_for(replay)
                expected = model.earn(uid, action, key)
                actual = await attempt(service.award_request(user_id=uid, action=action, key=key))
                check(where, actual, expected)
            case Daily(user):
                uid = ids[user % len(ids)]
                key, expected = model.claim_daily(uid)
                outcome = await attempt(service.claim_daily_login(user_id=uid))
                assert isinstance(outcome, PointsOutcome), where
                assert outcome.transaction_id == key, where
                check(where, outcome, expected, daily=True)
                milestone = max(d for d in STREAK_BONUS if d <= (outcome.streak or 1))
                event(f"daily streak >= {milestone}")
                if key not in used_keys:
                    used_keys.append(key)
            case Move(kind, user, amount, replay, same_amount):
                uid, key = ids[user % len(ids)], key_for(replay)
                original = model.users[uid].keys.get(key)
                if same_amount and original and original.transaction_type == kind:
                    assert original.requested is not None
                    amount = abs(original.requested)
                if kind is TransactionType.ADMIN_GRANT:
                    expected = model.move(uid, kind, key, amount)
                    call = service.admin_grant(user_id=uid, amount=amount, admin_id=1, key=key)
                elif kind is TransactionType.ADMIN_DEDUCT:
                    expected = model.move(uid, kind, key, -amount)
                    call = service.admin_deduct(user_id=uid, amount=amount, admin_id=1, key=key)
                else:
                    expected = model.move(uid, kind, key, -amount)
                    call = service.spend(user_id=uid, amount=amount, key=key)
                check(where, await attempt(call), expected)

    for uid, state in model.users.items():
        view = await service.get_balance(user_id=uid)
        assert (
            view.balance,
            view.lifetime_earned,
            view.lifetime_spent,
            view.level,
            view.earning_multiplier,
            view.next_level_points,
            view.progress_to_next_level,
            view.current_streak,
            view.longest_streak,
        ) == (
            state.balance,
            state.lifetime_earned,
            state.lifetime_spent,
            state.level,
            LEVELS[state.level][1],
            *level_progress(state),
            model.live_streak(state),
            state.longest,
        ), f"user {uid}"
        stats = await service.get_stats(user_id=uid)
        assert stats.earned_today == model.earned_today(state), f"user {uid}"
        # One ledger row per used key; refusals are recorded but are not history.
        async with engine.connect() as conn:
            rows = await conn.scalar(LEDGER_ROWS, {"user_id": uid})
        assert rows == len(state.keys), f"user {uid}"
        history = await service.get_history(user_id=uid, limit=1)
        moved = [k for k, used in state.keys.items() if used.result.amount != 0]
        assert history.total == len(moved), f"user {uid}"
    report = await audit_ledger(engine, RULES, TIMEZONE)
    assert report.ok, report.summary()
