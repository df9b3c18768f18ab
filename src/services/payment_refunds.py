"""A refund (Stars refund, NOWPayments `refunded`): end the span, take the bonus back.

The span the payment bought ends: if it is still the user's latest span, the tier and expiry
go back to what they were before the payment (an upgrade's unused lower tier included);
if later purchases stacked on top, the expiry is shortened by the refunded span's length (never
before now). The buyer's subscription bonus is taken back as `refund_subscription`, as much as
the balance covers (never below zero); the rest is recorded on the payment
(`refund_unrecovered`) and shown to admins. The referrer's bonus is kept: the referrer did
nothing wrong (docs/PAYMENTS.md).
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy.ext.asyncio import AsyncSession

from config.points_config import TransactionType
from src.database import payment_queries as q
from src.database.models import PointsBalance, User
from src.services.payment_types import Party, Provider, RefundOutcome, RefundStatus
from src.services.points_math import effective_tier

if TYPE_CHECKING:
    from src.database.ledger_calls import LedgerResult
    from src.database.models import Payment
    from src.services.points_service import PointsService


async def refund_payment(
    session: AsyncSession,
    *,
    points: PointsService,
    provider: Provider,
    provider_payment_id: str,
    raw: dict[str, Any],
    now: datetime,
    moves: list[tuple[LedgerResult, int, TransactionType, str]],
) -> RefundOutcome:
    payment = await q.payment_by_provider_id(session, provider, provider_payment_id, lock=True)
    if payment is None:
        return RefundOutcome(RefundStatus.UNKNOWN_PAYMENT, None)
    if payment.status == "refunded":
        return RefundOutcome(RefundStatus.ALREADY_REFUNDED, payment.id)
    if payment.status != "credited" or payment.user_id is None:
        return RefundOutcome(RefundStatus.NOT_CREDITED, payment.id)
    user = await q.lock_user(session, payment.user_id)
    assert user is not None
    await _end_span(session, user, payment, now)
    balance = await session.get(PointsBalance, user.telegram_id, with_for_update=True)
    available = balance.balance if balance is not None else 0
    clawed = min(payment.bonus, available)
    if clawed > 0:
        key = f"refund:{provider.value}:{provider_payment_id}"
        result = await points.move_within(
            session,
            user_id=user.telegram_id,
            transaction_type=TransactionType.REFUND_SUBSCRIPTION,
            key=key,
            amount=-clawed,
            metadata={"payment_id": payment.id, "bonus": payment.bonus},
        )
        moves.append((result, user.telegram_id, TransactionType.REFUND_SUBSCRIPTION, key))
    payment.status, payment.refunded_at = "refunded", now
    payment.refund_clawed, payment.refund_unrecovered = clawed, payment.bonus - clawed
    payment.raw = {**payment.raw, "refund": raw}
    tier = effective_tier(user.tier, user.tier_expires_at, now)
    return RefundOutcome(
        RefundStatus.REFUNDED,
        payment.id,
        Party(user.telegram_id, user.language),
        clawed,
        payment.bonus - clawed,
        tier.value,
        user.tier_expires_at if tier.value != "FREE" else None,
    )


async def _end_span(session: AsyncSession, user: User, payment: Payment, now: datetime) -> None:
    if payment.span_start is None or payment.span_end is None:
        return
    later = await q.later_credited_payments(session, user.telegram_id, payment.id)
    if later == 0 and user.tier_expires_at == payment.span_end:
        user.tier = payment.prev_tier or "FREE"
        user.tier_expires_at = payment.prev_expires_at
        if user.tier_expires_at is not None and user.tier_expires_at <= now:
            user.tier_expires_at = now  # that earlier span is over too: effective FREE
        return
    if user.tier_expires_at is not None and user.tier_expires_at > now:
        length = payment.span_end - payment.span_start
        user.tier_expires_at = max(now, user.tier_expires_at - length)
