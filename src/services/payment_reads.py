"""The read side of payments: prices, offers, a user's subscription, admin views, reminders.

PaymentService (src/services/payment_service.py) adds the writes on top of this class.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from config.payment_rules import PAID_TIERS, PERIODS
from config.points_config import PointsRules, Tier
from src.database import payment_admin_queries as admin_q
from src.database import payment_queries as q
from src.database.models import Purchase, User
from src.services.payment_types import (
    PendingPurchase,
    PlanUnavailableError,
    Provider,
    PurchaseStatus,
    SubscriptionState,
)
from src.services.payment_views import (
    PaymentLine,
    PaymentsSummary,
    Reminder,
    Revenue,
    UserPayments,
    line_of,
    problem_of,
)
from src.services.points_math import effective_tier
from src.services.points_service import PointsService
from src.services.tier_math import is_downgrade

Clock = Callable[[], datetime]


def purchase_of(row: Purchase) -> PendingPurchase:
    return PendingPurchase(
        id=row.id,
        user_id=row.user_id,
        tier=row.tier,
        months=row.months,
        provider=Provider(row.provider),
        price=row.price,
        currency=row.currency,
        reference=row.reference,
        expires_at=row.expires_at,
        status=PurchaseStatus(row.status),
        recurring=row.recurring,
    )


class PaymentReads:
    def __init__(
        self,
        *,
        session_factory: async_sessionmaker[AsyncSession],
        points: PointsService,
        rules: PointsRules,
        clock: Clock | None = None,
    ) -> None:
        self._sessions = session_factory
        self._points = points
        self._rules = rules
        self._clock = clock

    def now(self) -> datetime:
        return self._clock() if self._clock else datetime.now(UTC)

    # ------------------------------------------------------------------ prices

    def price(self, provider: Provider, tier: str, months: int) -> tuple[Decimal, str]:
        """(price, currency) of a plan with `provider`, from the rules (never from a client)."""
        if tier not in PAID_TIERS or months not in PERIODS:
            raise PlanUnavailableError(f"no plan {tier} x {months} months")
        plan = self._rules.payments.price_list(provider.value)
        return plan.price(tier, months), plan.currency

    def bonus_for(self, tier: str, months: int) -> int:
        """The subscription bonus a plan pays (points per month x months)."""
        return self._rules.subscription_points_per_month[Tier(tier)] * months

    @property
    def offer_minutes(self) -> int:
        return self._rules.payments.offer_minutes

    def monthly_prices(self, provider: Provider) -> dict[str, Decimal]:
        plan = self._rules.payments.price_list(provider.value)
        return {tier: plan.price(tier, 1) for tier in PAID_TIERS}

    def downgrade_refused(
        self, *, tier: str, current_tier: str, current_expires: datetime | None
    ) -> bool:
        """True if `tier` is below the user's active tier (it is offered after that ends)."""
        return is_downgrade(
            current_tier=current_tier, current_expires=current_expires, tier=tier, now=self.now()
        )

    # ------------------------------------------------------------------ lookups

    async def find_pending(self, provider: Provider, reference: str) -> PendingPurchase | None:
        """The offer with this reference if it is still pending (a gateway checks before use)."""
        async with self._sessions() as session:
            row = await q.purchase_by_reference(session, provider.value, reference)
        if row is None or row.status != PurchaseStatus.PENDING:
            return None
        return purchase_of(row)

    async def get_purchase(self, purchase_id: int) -> PendingPurchase | None:
        async with self._sessions() as session:
            row = await q.purchase_by_id(session, purchase_id)
        return purchase_of(row) if row else None

    async def subscription_state(self, user_id: int) -> SubscriptionState:
        now = self.now()
        async with self._sessions() as session:
            user = await session.get(User, user_id)
            sub = await q.active_stars_subscription(session, user_id)
        if user is None:
            return SubscriptionState("FREE", None)
        tier = effective_tier(user.tier, user.tier_expires_at, now)
        live = sub is not None and tier.value == sub.tier
        return SubscriptionState(
            tier=tier.value,
            expires_at=user.tier_expires_at if tier.value != "FREE" else None,
            stars_subscription=purchase_of(sub) if sub is not None and live else None,
            stars_subscription_canceled=bool(sub and sub.canceled),
            stars_charge_id=sub.charge_id if sub is not None and live else None,
        )

    async def set_subscription_canceled(self, *, purchase_id: int, canceled: bool) -> None:
        """Record a Stars subscription's cancel/re-enable (after Telegram accepted it)."""
        async with self._sessions() as session, session.begin():
            await q.set_subscription_canceled(session, purchase_id, canceled)

    # ------------------------------------------------------------------ admin views

    async def summary(self) -> PaymentsSummary:
        """Revenue by provider and currency, active subscribers by tier, open problems."""
        async with self._sessions() as session:
            return PaymentsSummary(
                revenue=tuple(Revenue(*r) for r in await admin_q.revenue(session)),
                subscribers=await admin_q.subscribers(session, self.now()),
                refunds=await admin_q.refund_count(session),
                problems=tuple(problem_of(p) for p in await admin_q.problems(session)),
            )

    async def user_payments(self, user_id: int, *, limit: int = 5) -> UserPayments:
        async with self._sessions() as session:
            rows, total = await admin_q.user_payments(session, user_id, limit)
        return UserPayments(tuple(line_of(p) for p in rows), total)

    async def payment(
        self,
        *,
        payment_id: int | None = None,
        provider: Provider | None = None,
        provider_payment_id: str = "",
    ) -> PaymentLine | None:
        """One payment, by our id or by the provider's (the admin's /points_refund)."""
        async with self._sessions() as session:
            if payment_id is not None:
                row = await q.payment_by_id(session, payment_id)
            else:
                assert provider is not None
                row = await q.payment_by_provider_id(session, provider, provider_payment_id)
        return line_of(row) if row else None

    # ------------------------------------------------------------------ reminders

    async def due_reminders(self, *, limit: int = 500) -> list[Reminder]:
        """Claim the reminders due now (3 days before expiry, and at expiry): each is marked
        sent in this call, so it is handed out once however many workers ask."""
        now = self.now()
        soon = timedelta(days=self._rules.payments.reminder_days_before)
        due: list[Reminder] = []
        async with self._sessions() as session, session.begin():
            for kind, after, until in (
                ("expired", now - timedelta(days=1), now),
                ("soon", now, now + soon),
            ):
                for user in await q.expiring_users(session, after=after, until=until, limit=limit):
                    assert user.tier_expires_at is not None
                    if await q.claim_reminder(
                        session,
                        user_id=user.telegram_id,
                        kind=kind,
                        expires_at=user.tier_expires_at,
                        now=now,
                    ):
                        due.append(
                            Reminder(
                                user.telegram_id,
                                user.language,
                                kind,
                                user.tier,
                                user.tier_expires_at,
                            )
                        )
        return due
