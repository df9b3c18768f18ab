"""Reads behind the admin views of payments (analytics, user card). No rules here."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from src.database.models import Payment, User

PROBLEMS_SHOWN = 5


async def revenue(session: AsyncSession) -> list[tuple[str, str, int, Decimal]]:
    """(provider, currency, payments, total) of credited payments."""
    rows = await session.execute(
        select(Payment.provider, Payment.currency, func.count(), func.sum(Payment.amount))
        .where(Payment.status == "credited")
        .group_by(Payment.provider, Payment.currency)
        .order_by(Payment.provider, Payment.currency)
    )
    return [(p, c, int(n), t) for p, c, n, t in rows.all()]


async def subscribers(session: AsyncSession, now: datetime) -> dict[str, int]:
    rows = await session.execute(
        select(User.tier, func.count())
        .where(User.tier != "FREE", User.tier_expires_at > now)
        .group_by(User.tier)
    )
    return {tier: int(n) for tier, n in rows.all()}


async def refund_count(session: AsyncSession) -> int:
    count = await session.scalar(
        select(func.count()).select_from(Payment).where(Payment.status == "refunded")
    )
    return int(count or 0)


async def problems(session: AsyncSession) -> list[Payment]:
    """The latest payments not credited, or refunded with points left unrecovered."""
    rows = await session.scalars(
        select(Payment)
        .where(
            (Payment.status.in_(("mismatch", "expired", "unknown_purchase")))
            | (Payment.refund_unrecovered > 0)
        )
        .order_by(Payment.id.desc())
        .limit(PROBLEMS_SHOWN)
    )
    return list(rows)


async def user_payments(
    session: AsyncSession, user_id: int, limit: int
) -> tuple[list[Payment], int]:
    rows = await session.scalars(
        select(Payment).where(Payment.user_id == user_id).order_by(Payment.id.desc()).limit(limit)
    )
    total = await session.scalar(
        select(func.count()).select_from(Payment).where(Payment.user_id == user_id)
    )
    return list(rows), int(total or 0)
