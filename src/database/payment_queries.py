"""Queries over purchases, payments, payment events and reminders. No rules here: see
src/services/payment_service.py."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from src.database.models import (
    Payment,
    PaymentEvent,
    PointsBalance,
    Purchase,
    SubscriptionReminder,
    User,
)


async def insert_purchase(session: AsyncSession, **values: Any) -> Purchase:
    row = Purchase(**values)
    session.add(row)
    await session.flush()
    return row


async def purchase_by_reference(
    session: AsyncSession, provider: str, reference: str, *, lock: bool = False
) -> Purchase | None:
    query = select(Purchase).where(Purchase.reference == reference, Purchase.provider == provider)
    if lock:
        query = query.with_for_update()
    return (await session.scalars(query)).first()


async def purchase_by_id(session: AsyncSession, purchase_id: int) -> Purchase | None:
    return await session.get(Purchase, purchase_id)


async def insert_payment(session: AsyncSession, **values: Any) -> int | None:
    """The new payment's id, or None if (provider, provider_payment_id) is already recorded."""
    return await session.scalar(
        insert(Payment)
        .values(**values)
        .on_conflict_do_nothing(index_elements=[Payment.provider, Payment.provider_payment_id])
        .returning(Payment.id)
    )


async def payment_by_provider_id(
    session: AsyncSession, provider: str, provider_payment_id: str, *, lock: bool = False
) -> Payment | None:
    query = select(Payment).where(
        Payment.provider == provider, Payment.provider_payment_id == provider_payment_id
    )
    if lock:
        query = query.with_for_update()
    return (await session.scalars(query)).first()


async def payment_by_id(session: AsyncSession, payment_id: int) -> Payment | None:
    return await session.get(Payment, payment_id)


async def later_credited_payments(session: AsyncSession, user_id: int, payment_id: int) -> int:
    """How many credited payments of the user came after `payment_id`."""
    rows = await session.scalars(
        select(Payment.id).where(
            Payment.user_id == user_id, Payment.id > payment_id, Payment.status == "credited"
        )
    )
    return len(list(rows))


async def lock_user(session: AsyncSession, user_id: int) -> User | None:
    return (
        await session.scalars(select(User).where(User.telegram_id == user_id).with_for_update())
    ).first()


async def lock_balances(session: AsyncSession, user_ids: list[int | None]) -> None:
    """Lock these users' balance rows in user-id order (the order every batch takes them)."""
    ids = sorted({u for u in user_ids if u is not None})
    await session.execute(
        select(PointsBalance.user_id)
        .where(PointsBalance.user_id.in_(ids))
        .order_by(PointsBalance.user_id)
        .with_for_update()
    )


async def insert_event(session: AsyncSession, **values: Any) -> int:
    """A provider's status report as it came (provider, id, reference, status, amount, ...)."""
    row = PaymentEvent(**values)
    session.add(row)
    await session.flush()
    return row.id


async def claim_reminder(
    session: AsyncSession, *, user_id: int, kind: str, expires_at: datetime, now: datetime
) -> bool:
    """True if this call marked the reminder (it was not sent before)."""
    claimed = await session.scalar(
        insert(SubscriptionReminder)
        .values(user_id=user_id, kind=kind, expires_at=expires_at, sent_at=now)
        .on_conflict_do_nothing()
        .returning(SubscriptionReminder.user_id)
    )
    return claimed is not None


async def expiring_users(
    session: AsyncSession, *, after: datetime, until: datetime, limit: int
) -> list[User]:
    """Paid-tier users whose expiry falls in (after, until]: the reminder candidates."""
    rows = await session.scalars(
        select(User)
        .where(
            User.tier != "FREE",
            User.tier_expires_at > after,
            User.tier_expires_at <= until,
        )
        .order_by(User.tier_expires_at)
        .limit(limit)
    )
    return list(rows)


async def set_subscription_canceled(
    session: AsyncSession, purchase_id: int, canceled: bool
) -> None:
    await session.execute(
        update(Purchase).where(Purchase.id == purchase_id).values(canceled=canceled)
    )


async def active_stars_subscription(session: AsyncSession, user_id: int) -> Purchase | None:
    """The user's latest paid Stars subscription (cancelled or not)."""
    rows = await session.scalars(
        select(Purchase)
        .where(
            Purchase.user_id == user_id,
            Purchase.provider == "stars",
            Purchase.recurring.is_(True),
            Purchase.status == "paid",
        )
        .order_by(Purchase.id.desc())
        .limit(1)
    )
    return rows.first()
