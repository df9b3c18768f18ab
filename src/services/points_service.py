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
from datetime import date, datetime, timedelta
from typing import Any, Final

import asyncpg
import structlog
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession, async_sessionmaker

from config.points_config import PointsRules, RequestAction, Tier, TransactionType
from src import metrics
from src.database import ledger_calls
from src.database.ledger_calls import LedgerResult, LevelArrays
from src.database.ledger_errors import CONNECTION_LOST, RETRYABLE_SQLSTATES, sqlstate
from src.services.points_math import MAX_TELEGRAM_ID, check_int, check_text
from src.services.points_reads import Clock, PointsReads
from src.services.points_types import (
    IdempotencyConflictError,
    InvalidInputError,
    Outcome,
    PointsOutcome,
    UnknownUserError,
)

log = structlog.get_logger(__name__)

MAX_SUBSCRIPTION_MONTHS: Final = 120


class PointsService(PointsReads):
    """Movements here; reads (balance, history, ...) and the clock come from PointsReads."""

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
        super().__init__(
            engine, session_factory=session_factory, rules=rules, timezone=timezone, clock=clock
        )
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
        check_int("months", months, maximum=MAX_SUBSCRIPTION_MONTHS)
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
        check_int("amount", amount)
        return await self._admin_move(
            TransactionType.ADMIN_GRANT, user_id, amount, admin_id, description, key
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
        check_int("amount", amount)
        return await self._admin_move(
            TransactionType.ADMIN_DEDUCT, user_id, -amount, admin_id, description, key
        )

    async def spend(
        self, *, user_id: int, amount: int, key: str, description: str | None = None
    ) -> PointsOutcome:
        """Generic debit for features that spend points; refused (not clipped) below zero."""
        check_int("amount", amount)
        self._check_key(key)
        self._check_description(description)
        return await self._move(
            user_id=user_id,
            transaction_type=TransactionType.SPEND,
            key=key,
            amount=-amount,
            metadata={"description": description} if description else None,
        )

    # ------------------------------------------------------------------ internals

    def _db_now(self) -> datetime | None:
        return self._clock() if self._clock else None

    def _today_for(self, result: LedgerResult) -> date:
        stamp = result.created_at or self.now()
        return stamp.astimezone(self._tz).date()

    def _check_key(self, key: object, *, name: str = "transaction key") -> None:
        check_text(key, name=name, limit=self._rules.max_transaction_key_length, required=True)

    def _check_description(self, description: str | None) -> None:
        check_text(description, name="description", limit=self._rules.max_description_length)

    @staticmethod
    def _check_referral(referrer_id: int, referred_id: int) -> None:
        if referrer_id == referred_id:
            raise InvalidInputError("a user cannot refer themselves")

    async def _admin_move(
        self,
        transaction_type: TransactionType,
        user_id: int,
        signed_amount: int,
        admin_id: int,
        description: str | None,
        key: str | None,
    ) -> PointsOutcome:
        """A grant (positive) or deduct (negative); a missing key makes a one-off movement."""
        check_int("admin_id", admin_id, maximum=MAX_TELEGRAM_ID)
        self._check_description(description)
        return await self._move(
            user_id=user_id,
            transaction_type=transaction_type,
            key=key or f"{transaction_type.value}:{uuid.uuid4().hex}",
            amount=signed_amount,
            metadata={"admin_id": admin_id, "description": description or ""},
        )

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
                if sqlstate(exc) not in RETRYABLE_SQLSTATES or attempt == self._max_retries:
                    raise
                log.warning("points call retried", sqlstate=sqlstate(exc), attempt=attempt)
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
        metrics.record_points(outcome)
        if outcome.duplicate and transaction_type == TransactionType.DAILY_LOGIN:
            # A returning user claiming again the same day: expected, not a redelivery.
            log.info("daily bonus already claimed", **fields)
        elif outcome.duplicate:
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
