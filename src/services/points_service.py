"""PointsService: the only code that moves points.

Each movement is one call of a plpgsql function (see alembic/versions/0002 and
src/database/ledger_calls.py): one round trip, one database transaction, correct across
concurrent callers and processes. This class turns the configured rules into the functions'
parameters, validates input before anything is written, logs every movement, and maps the
database's answer to a typed outcome; src/services/ledger_runner.py sends the call (alone or
batched) and retries it when that is safe.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta
from typing import Any, Final, TypeVar

import structlog
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from config.points_config import PointsRules, RequestAction, Tier, TransactionType
from src.database.ledger_batch import LedgerItem
from src.database.ledger_calls import LedgerResult, move_in_session
from src.services.earn_batcher import BatchConfig, EarnBatcher
from src.services.ledger_runner import LedgerRunner, ledger_params
from src.services.points_math import MAX_TELEGRAM_ID, check_int, check_text
from src.services.points_outcome import finish_outcome
from src.services.points_reads import Clock, PointsReads
from src.services.points_types import (
    InvalidInputError,
    PointsOutcome,
)
from src.services.rank_service import RankService

log = structlog.get_logger(__name__)

T = TypeVar("T")

MAX_SUBSCRIPTION_MONTHS: Final = 120
# Group commit on by default (src/services/earn_batcher.py); None sends every call alone.
DEFAULT_BATCHING: Final = BatchConfig()


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
        batching: BatchConfig | None = DEFAULT_BATCHING,
        ranks: RankService | None = None,
    ) -> None:
        super().__init__(
            engine,
            session_factory=session_factory,
            rules=rules,
            timezone=timezone,
            clock=clock,
            ranks=ranks,
        )
        self._runner = LedgerRunner(
            ledger_engine=self._ledger_engine,
            params=ledger_params(rules, timezone),
            batching=batching,
            ranks=ranks,
            max_retries=max_retries,
        )
        self._intervals = {
            action: timedelta(seconds=rule.min_interval_seconds)
            for action, rule in rules.requests.items()
        }

    @property
    def batcher(self) -> EarnBatcher | None:
        return self._runner.batcher

    async def aclose(self) -> None:
        """Answer every movement still queued for a batch; later ones go one by one."""
        await self._runner.aclose()

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
        result = await self._runner.submit(
            LedgerItem(
                kind="earn",
                user_id=user_id,
                amount=rule.base_points,
                transaction_type=action.value,
                key=key,
                interval=self._intervals[action],
                metadata=metadata,
                now=self._db_now(),
            )
        )
        return self._finish(result, user_id=user_id, transaction_type=action.value, key=key)

    async def claim_daily_login(self, *, user_id: int) -> PointsOutcome:
        """Once per day in the configured zone; `duplicate=True` means already claimed today."""
        result = await self._runner.submit(
            LedgerItem(
                kind="daily",
                user_id=user_id,
                amount=self._rules.daily_login_points,
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
        result = await self._runner.submit(
            LedgerItem(
                kind="move",
                user_id=user_id,
                amount=amount,
                transaction_type=transaction_type,
                key=key,
                metadata=metadata,
                now=self._db_now(),
            )
        )
        return self._finish(result, user_id=user_id, transaction_type=transaction_type, key=key)

    def _finish(
        self, result: LedgerResult, *, user_id: int, transaction_type: str, key: str
    ) -> PointsOutcome:
        return finish_outcome(result, user_id=user_id, transaction_type=transaction_type, key=key)

    # ------------------------------------------------------------------ inside a transaction

    async def move_within(
        self,
        session: AsyncSession,
        *,
        user_id: int,
        transaction_type: TransactionType,
        key: str,
        amount: int,
        metadata: dict[str, Any] | None = None,
    ) -> LedgerResult:
        """A fixed movement inside the caller's transaction (a payment commits with its bonus:
        src/services/payment_service.py). Call `settled` with the result after the commit."""
        self._check_key(key)
        return await move_in_session(
            session,
            user_id=user_id,
            transaction_type=transaction_type.value,
            key=key,
            amount=amount,
            metadata=metadata,
            levels=self._runner.levels,
            now=self._db_now(),
        )

    def settled(
        self, result: LedgerResult, *, user_id: int, transaction_type: str, key: str
    ) -> PointsOutcome:
        """Log, count and index a committed `move_within`, as every other movement is."""
        if self._ranks is not None:
            self._ranks.moved(user_id, result)
        return self._finish(result, user_id=user_id, transaction_type=transaction_type, key=key)
