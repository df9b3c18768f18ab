"""PointsService: the only code that moves points.

Each movement is one call of a plpgsql function (see alembic/versions/0002 and
src/database/ledger_calls.py): one round trip, one database transaction, correct across
concurrent callers and processes. This class turns the configured rules into the functions'
parameters, validates input before anything is written, retries on serialization failures
and deadlocks, logs every movement, and maps the database's answer to a typed outcome.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from datetime import date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Final
from zoneinfo import ZoneInfo

import asyncpg
import structlog
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession, async_sessionmaker

from config.points_config import PointsRules, RequestAction, Tier, TransactionType
from src import metrics
from src.database import ledger_calls, points_queries, user_queries
from src.database.ledger_calls import LedgerResult, LevelArrays
from src.services.points_types import (
    BalanceView,
    HistoryEntry,
    HistoryPage,
    IdempotencyConflictError,
    InvalidInputError,
    Leaderboard,
    LeaderboardEntry,
    LevelInfo,
    Outcome,
    PersonalRates,
    PointsOutcome,
    TypeStats,
    UnknownUserError,
    UserStats,
)
from src.services.user_types import display_name

log = structlog.get_logger(__name__)

Clock = Callable[[], datetime]

# 40001 serialization_failure, 40P01 deadlock_detected: safe to retry, nothing was written.
RETRYABLE_SQLSTATES: Final = frozenset({"40001", "40P01"})
CONNECTION_LOST: Final = (
    OSError,
    asyncpg.exceptions.ConnectionDoesNotExistError,
    asyncpg.exceptions.InterfaceError,
    # What asyncpg raises when the server ended the session between two calls.
    asyncpg.exceptions.InternalClientError,
)
MAX_AMOUNT: Final = 10**12  # far above any real movement, far below bigint overflow
MAX_PAGE: Final = 100
MAX_SUBSCRIPTION_MONTHS: Final = 120


def _sqlstate(exc: BaseException) -> str | None:
    # asyncpg errors carry it themselves; SQLAlchemy wraps the driver's error in `.orig`.
    source = exc.orig if isinstance(exc, DBAPIError) else exc
    return getattr(source, "sqlstate", None) or getattr(source, "pgcode", None)


def _check_int(name: str, value: object, *, minimum: int = 1, maximum: int = MAX_AMOUNT) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidInputError(f"{name} must be a whole number, got {value!r}")
    if value < minimum:
        raise InvalidInputError(f"{name} must be at least {minimum}, got {value}")
    if value > maximum:
        raise InvalidInputError(f"{name} must be at most {maximum}, got {value}")
    return value


def effective_tier(tier: str, expires_at: datetime | None, now: datetime) -> Tier:
    """The stored tier while it has not expired, else FREE (SPEC 1)."""
    if expires_at is None or expires_at <= now:
        return Tier.FREE
    return Tier(tier)


def request_points(base: int, level_multiplier: Decimal, tier_multiplier: Decimal) -> int:
    """SPEC rounding: exact Decimal product, half up (the database function does the same)."""
    exact = Decimal(base) * level_multiplier * tier_multiplier
    return int(exact.quantize(Decimal(1), rounding=ROUND_HALF_UP))


async def load_top(session: AsyncSession, limit: int) -> list[LeaderboardEntry]:
    """The first `limit` places of the leaderboard (balance desc, then user id)."""
    rows = await points_queries.top_balances(session, limit)
    return [
        LeaderboardEntry(
            rank=place,
            user_id=uid,
            display_name=display_name(uid, username, first_name),
            balance=balance,
            level=level,
        )
        for place, (uid, balance, level, username, first_name) in enumerate(rows, 1)
    ]


class PointsService:
    def __init__(
        self,
        *,
        engine: AsyncEngine,
        session_factory: async_sessionmaker[AsyncSession],
        rules: PointsRules,
        timezone: str = "UTC",
        clock: Clock | None = None,
        max_retries: int = 5,
    ) -> None:
        # AUTOCOMMIT: each ledger call is a single-statement transaction (one round trip).
        self._ledger_engine = engine.execution_options(isolation_level="AUTOCOMMIT")
        self._sessions = session_factory
        self._rules = rules
        self._timezone = timezone
        self._tz = ZoneInfo(timezone)
        # None means "the database clock" (clock_timestamp() after the row lock); tests pass one.
        self._clock = clock
        self._max_retries = max_retries
        self._levels = LevelArrays(
            thresholds=[lvl.points_required for lvl in rules.levels],
            multipliers=[lvl.earning_multiplier for lvl in rules.levels],
        )
        self._tier_names = [t.value for t in rules.tier_multipliers]
        self._tier_mults = list(rules.tier_multipliers.values())
        days = sorted(rules.streak_bonuses)
        self._bonus_days = days
        self._bonus_points = [rules.streak_bonuses[d] for d in days]

    @property
    def rules(self) -> PointsRules:
        return self._rules

    @property
    def timezone(self) -> str:
        return self._timezone

    def now(self) -> datetime:
        return self._clock() if self._clock else datetime.now(self._tz)

    def today(self) -> date:
        return self.now().astimezone(self._tz).date()

    def until_next_day(self) -> timedelta:
        """Time left until the next day starts in the configured zone (the next daily claim).

        The next local midnight, not "today's midnight + 24 h": DST days last 23 or 25 hours.
        """
        local = self.now().astimezone(self._tz)
        midnight = datetime.combine(local.date() + timedelta(days=1), time(), tzinfo=self._tz)
        return timedelta(seconds=midnight.timestamp() - local.timestamp())

    # ------------------------------------------------------------------ credits

    async def award_request(
        self,
        *,
        user_id: int,
        action: RequestAction | str,
        key: str,
        metadata: dict[str, Any] | None = None,
    ) -> PointsOutcome:
        """Pay for a served request (text, vision, chart); `key` comes from the Telegram update."""
        try:
            action = RequestAction(action)
        except ValueError:
            known = ", ".join(a.value for a in RequestAction)
            raise InvalidInputError(f"unknown action {action!r}; known: {known}") from None
        self._check_key(key)
        rule = self._rules.requests[action]
        result = await self._run(
            lambda conn: ledger_calls.earn_request(
                conn,
                user_id=user_id,
                transaction_type=action.value,
                key=key,
                base=rule.base_points,
                interval=timedelta(seconds=rule.min_interval_seconds),
                daily_cap=self._rules.max_daily_points_earning,
                tier_names=self._tier_names,
                tier_multipliers=self._tier_mults,
                levels=self._levels,
                timezone=self._timezone,
                metadata=metadata,
                now=self._db_now(),
            )
        )
        return self._finish(result, user_id=user_id, transaction_type=action.value, key=key)

    async def claim_daily_login(self, *, user_id: int) -> PointsOutcome:
        """Once per day in the configured zone; `duplicate=True` means already claimed today."""
        result = await self._run(
            lambda conn: ledger_calls.claim_daily(
                conn,
                user_id=user_id,
                base=self._rules.daily_login_points,
                bonus_days=self._bonus_days,
                bonus_points=self._bonus_points,
                levels=self._levels,
                timezone=self._timezone,
                now=self._db_now(),
            )
        )
        key = f"daily:{user_id}:{self._today_for(result)}"
        return self._finish(
            result, user_id=user_id, transaction_type=TransactionType.DAILY_LOGIN, key=key
        )

    async def award_referral_signup(self, *, referrer_id: int, referred_id: int) -> PointsOutcome:
        """The referrer's bonus for a new user who joined by their link: once per referred user."""
        self._check_referral(referrer_id, referred_id)
        return await self._move(
            user_id=referrer_id,
            transaction_type=TransactionType.REFERRAL_SIGNUP,
            key=f"ref_signup:{referred_id}",
            amount=self._rules.referral_signup_points,
            metadata={"referred_id": referred_id},
        )

    async def award_referral_purchase(
        self, *, referrer_id: int, referred_id: int, payment_id: str
    ) -> PointsOutcome:
        """The referrer's bonus for the referred user's FIRST paid purchase (the key makes it once)."""
        self._check_referral(referrer_id, referred_id)
        self._check_key(payment_id, name="payment_id")
        return await self._move(
            user_id=referrer_id,
            transaction_type=TransactionType.REFERRAL_PURCHASE,
            key=f"ref_purchase:{referred_id}",
            amount=self._rules.referral_purchase_points,
            metadata={"referred_id": referred_id, "payment_id": payment_id},
        )

    async def award_subscription(
        self, *, user_id: int, tier: Tier | str, months: int, payment_id: str
    ) -> PointsOutcome:
        try:
            tier = Tier(tier)
        except ValueError:
            raise InvalidInputError(f"unknown tier {tier!r}") from None
        if tier not in self._rules.subscription_points_per_month:
            raise InvalidInputError(f"tier {tier.value} is not a paid subscription")
        _check_int("months", months, maximum=MAX_SUBSCRIPTION_MONTHS)
        self._check_key(payment_id, name="payment_id")
        return await self._move(
            user_id=user_id,
            transaction_type=TransactionType.SUBSCRIPTION,
            key=f"subscription:{payment_id}",
            amount=self._rules.subscription_points_per_month[tier] * months,
            metadata={"tier": tier.value, "months": months, "payment_id": payment_id},
        )

    async def admin_grant(
        self,
        *,
        user_id: int,
        amount: int,
        admin_id: int,
        description: str | None = None,
        key: str | None = None,
    ) -> PointsOutcome:
        _check_int("amount", amount)
        return await self._move(
            user_id=user_id,
            transaction_type=TransactionType.ADMIN_GRANT,
            key=key or f"admin_grant:{uuid.uuid4().hex}",
            amount=amount,
            metadata=self._admin_metadata(admin_id, description),
        )

    # ------------------------------------------------------------------ debits

    async def admin_deduct(
        self,
        *,
        user_id: int,
        amount: int,
        admin_id: int,
        description: str | None = None,
        key: str | None = None,
    ) -> PointsOutcome:
        """Outcome INSUFFICIENT_FUNDS (nothing moved) if the balance is below `amount`."""
        _check_int("amount", amount)
        return await self._move(
            user_id=user_id,
            transaction_type=TransactionType.ADMIN_DEDUCT,
            key=key or f"admin_deduct:{uuid.uuid4().hex}",
            amount=-amount,
            metadata=self._admin_metadata(admin_id, description),
        )

    async def spend(
        self, *, user_id: int, amount: int, key: str, description: str | None = None
    ) -> PointsOutcome:
        """Generic debit for features that spend points; refused (not clipped) below zero."""
        _check_int("amount", amount)
        self._check_key(key)
        self._check_description(description)
        return await self._move(
            user_id=user_id,
            transaction_type=TransactionType.SPEND,
            key=key,
            amount=-amount,
            metadata={"description": description} if description else None,
        )

    # ------------------------------------------------------------------ reads

    async def get_balance(self, *, user_id: int, language: str = "en") -> BalanceView:
        # The hottest read (every /points, every Mini App open): one autocommit SELECT, no
        # ORM session and no BEGIN/ROLLBACK round trips around it.
        async with self._ledger_engine.connect() as conn:
            try:
                row = await points_queries.balance_row(conn, user_id)
            except CONNECTION_LOST as exc:
                await conn.invalidate(exc)  # bypassed SQLAlchemy: tell the pool ourselves
                raise
        if row is None:
            raise UnknownUserError(user_id)
        level = self._rules.level(min(row.level, self._rules.max_level))
        if row.level >= self._rules.max_level:
            next_points, progress = 0, 1.0
        else:
            upper = self._rules.level(row.level + 1).points_required
            band = upper - level.points_required
            next_points = max(upper - row.lifetime_earned, 0)
            progress = min(max((row.lifetime_earned - level.points_required) / band, 0.0), 1.0)
        return BalanceView(
            balance=row.balance,
            lifetime_earned=row.lifetime_earned,
            lifetime_spent=row.lifetime_spent,
            level=row.level,
            level_name=level.name_ru if language == "ru" else level.name_en,
            level_icon=level.icon,
            earning_multiplier=row.earning_multiplier,
            current_streak=self._live_streak(row.current_streak, row.last_daily_login),
            longest_streak=row.longest_streak,
            next_level_points=next_points,
            progress_to_next_level=round(progress, 4),
        )

    async def get_history(self, *, user_id: int, limit: int = 10, offset: int = 0) -> HistoryPage:
        _check_int("limit", limit, maximum=MAX_PAGE)
        _check_int("offset", offset, minimum=0, maximum=10**9)
        async with self._sessions() as session:
            if not await points_queries.user_exists(session, user_id):
                raise UnknownUserError(user_id)
            rows, total = await points_queries.history(session, user_id, limit=limit, offset=offset)
        entries = [
            HistoryEntry(
                id=r.id,
                transaction_type=r.transaction_type,
                amount=r.amount,
                balance_after=r.balance_after,
                transaction_id=r.transaction_id,
                created_at=r.created_at,
                metadata=dict(r.metadata_json or {}),
            )
            for r in rows
        ]
        return HistoryPage(entries=entries, total=total, limit=limit, offset=offset)

    async def get_leaderboard(self, *, limit: int = 10, user_id: int | None = None) -> Leaderboard:
        _check_int("limit", limit, maximum=MAX_PAGE)
        async with self._sessions() as session:
            top = await load_top(session, limit)
            me = next((e for e in top if e.user_id == user_id), None)
            if user_id is not None and me is None:
                row = await points_queries.get_balance_row(session, user_id)
                if row is not None:
                    rank = await points_queries.rank_of(session, user_id, row.balance)
                    user = await user_queries.get_user(session, user_id)
                    me = LeaderboardEntry(
                        rank=rank,
                        user_id=user_id,
                        display_name=display_name(
                            user_id,
                            user.username if user else None,
                            user.first_name if user else None,
                        ),
                        balance=row.balance,
                        level=row.level,
                    )
        return Leaderboard(top=top, me=me)

    def get_levels(self) -> list[LevelInfo]:
        return [
            LevelInfo(
                level=lvl.level,
                name_ru=lvl.name_ru,
                name_en=lvl.name_en,
                icon=lvl.icon,
                points_required=lvl.points_required,
                earning_multiplier=lvl.earning_multiplier,
                description=lvl.description,
                color=lvl.color,
            )
            for lvl in self._rules.levels
        ]

    async def get_stats(self, *, user_id: int) -> UserStats:
        async with self._sessions() as session:
            row = await points_queries.get_balance_row(session, user_id)
            if row is None:
                raise UnknownUserError(user_id)
            by_type = await points_queries.stats_by_type(session, user_id)
            rank = await points_queries.rank_of(session, user_id, row.balance)
            referrals = await user_queries.count_referrals(session, user_id)
        stats = {t: TypeStats(count=c, total=s) for t, c, s in by_type}
        earned_today = row.earned_today if row.earned_today_date == self.today() else 0
        return UserStats(
            by_type=stats,
            transactions=sum(s.count for s in stats.values()),
            total_earned=row.lifetime_earned,
            total_spent=row.lifetime_spent,
            earned_today=earned_today,
            daily_cap=self._rules.max_daily_points_earning,
            rank=rank,
            current_streak=self._live_streak(row.current_streak, row.last_daily_login),
            longest_streak=row.longest_streak,
            referrals=referrals,
        )

    async def personal_rates(self, *, user_id: int) -> PersonalRates:
        async with self._sessions() as session:
            row = await points_queries.get_balance_row(session, user_id)
            user = await user_queries.get_user(session, user_id)
        if row is None or user is None:
            raise UnknownUserError(user_id)
        level_mult = self._rules.level(min(row.level, self._rules.max_level)).earning_multiplier
        tier = effective_tier(user.tier, user.tier_expires_at, self.now())
        tier_mult = self._rules.tier_multipliers[tier]
        return PersonalRates(
            level=row.level,
            level_multiplier=level_mult,
            tier=tier.value,
            tier_multiplier=tier_mult,
            requests={
                action.value: request_points(rule.base_points, level_mult, tier_mult)
                for action, rule in self._rules.requests.items()
            },
        )

    async def sync_levels(self) -> None:
        """Make `points_levels` mirror the rules in force (an override file may change them)."""
        rows: list[dict[str, object]] = [lvl.model_dump() for lvl in self._rules.levels]
        async with self._sessions() as session, session.begin():
            await points_queries.replace_levels(session, rows)

    # ------------------------------------------------------------------ internals

    def _db_now(self) -> datetime | None:
        return self._clock() if self._clock else None

    def _today_for(self, result: LedgerResult) -> date:
        stamp = result.created_at or self.now()
        return stamp.astimezone(self._tz).date()

    def _live_streak(self, streak: int, last_claim: date | None) -> int:
        # A streak whose last claim is older than yesterday is already broken: show 0.
        if last_claim is None or last_claim < self.today() - timedelta(days=1):
            return 0
        return streak

    def _check_key(self, key: object, *, name: str = "transaction key") -> None:
        if not isinstance(key, str) or not key.strip():
            raise InvalidInputError(f"{name} must be a non-empty string")
        limit = self._rules.max_transaction_key_length
        if len(key) > limit:
            raise InvalidInputError(f"{name} is {len(key)} characters long; the limit is {limit}")

    def _check_description(self, description: str | None) -> None:
        limit = self._rules.max_description_length
        if description is not None and len(description) > limit:
            raise InvalidInputError(
                f"description is {len(description)} characters long; the limit is {limit}"
            )

    @staticmethod
    def _check_referral(referrer_id: int, referred_id: int) -> None:
        if referrer_id == referred_id:
            raise InvalidInputError("a user cannot refer themselves")

    def _admin_metadata(self, admin_id: int, description: str | None) -> dict[str, Any]:
        _check_int("admin_id", admin_id, maximum=2**63 - 1)
        self._check_description(description)
        return {"admin_id": admin_id, "description": description or ""}

    async def _move(
        self,
        *,
        user_id: int,
        transaction_type: str,
        key: str,
        amount: int,
        metadata: dict[str, Any] | None,
    ) -> PointsOutcome:
        self._check_key(key)
        result = await self._run(
            lambda conn: ledger_calls.move(
                conn,
                user_id=user_id,
                transaction_type=transaction_type,
                key=key,
                amount=amount,
                metadata=metadata,
                levels=self._levels,
                now=self._db_now(),
            )
        )
        return self._finish(result, user_id=user_id, transaction_type=transaction_type, key=key)

    async def _run(
        self, call: Callable[[AsyncConnection], Awaitable[LedgerResult]]
    ) -> LedgerResult:
        for attempt in range(1, self._max_retries + 1):
            try:
                async with self._ledger_engine.connect() as conn:
                    try:
                        return await call(conn)
                    except CONNECTION_LOST as exc:
                        # The call bypassed SQLAlchemy's statement layer, so the pool did not
                        # see the loss: drop the connection ourselves.
                        await conn.invalidate(exc)
                        raise
            except CONNECTION_LOST as exc:
                # Safe to repeat: the key makes a call that did commit come back as a replay.
                if attempt == self._max_retries:
                    raise
                log.warning("points call retried", reason=type(exc).__name__, attempt=attempt)
            except (DBAPIError, asyncpg.PostgresError) as exc:
                if _sqlstate(exc) not in RETRYABLE_SQLSTATES or attempt == self._max_retries:
                    raise
                log.warning("points call retried", sqlstate=_sqlstate(exc), attempt=attempt)
                await asyncio.sleep(0.005 * 2**attempt)
        raise AssertionError("unreachable")  # pragma: no cover

    def _finish(
        self, result: LedgerResult, *, user_id: int, transaction_type: str, key: str
    ) -> PointsOutcome:
        if result.outcome == "unknown_user":
            raise UnknownUserError(user_id)
        if result.outcome == "conflict":
            original = {"amount": result.amount, "ledger_id": result.ledger_id}
            raise IdempotencyConflictError(key, original)
        outcome = PointsOutcome(
            outcome=Outcome(result.outcome),
            user_id=user_id,
            transaction_type=transaction_type,
            transaction_id=key,
            amount=result.amount,
            balance_after=result.balance_after,
            level_before=result.level_before or 1,
            level_after=result.level_after or 1,
            duplicate=result.duplicate,
            streak=result.streak,
            created_at=result.created_at,
        )
        fields = {
            "user_id": user_id,
            "type": transaction_type,
            "amount": outcome.amount,
            "balance_after": outcome.balance_after,
            "key": key,
        }
        metrics.record_points(
            transaction_type=transaction_type,
            outcome=outcome.outcome.value,
            amount=outcome.amount,
            duplicate=outcome.duplicate,
        )
        if outcome.duplicate:
            log.warning("Duplicate transaction", outcome=outcome.outcome.value, **fields)
        elif outcome.paid:
            log.info("💎 points moved", outcome=outcome.outcome.value, **fields)
            if outcome.leveled_up:
                log.info(
                    "level up",
                    user_id=user_id,
                    level_from=outcome.level_before,
                    level_to=outcome.level_after,
                )
        else:
            log.info("points not paid", reason=outcome.reason, **fields)
        return outcome
