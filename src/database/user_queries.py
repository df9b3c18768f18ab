"""Queries over users and their balance rows. No rules here: see src/services/user_service.py."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from src.database.models import PointsBalance, User


async def insert_user_if_new(
    session: AsyncSession,
    *,
    telegram_id: int,
    username: str | None,
    first_name: str | None,
    language: str,
    referral_code: str,
    now: datetime | None,
) -> bool:
    """Insert the user (and an empty balance row); True if this call created them."""
    values: dict[str, object] = {
        "telegram_id": telegram_id,
        "username": username,
        "first_name": first_name,
        "language": language,
        "referral_code": referral_code,
    }
    if now is not None:
        values["created_at"] = now
        values["last_seen_at"] = now
    created = await session.scalar(
        insert(User)
        .values(**values)
        # Only a known telegram_id is "not new"; a referral-code clash must raise instead.
        .on_conflict_do_nothing(index_elements=[User.telegram_id])
        .returning(User.telegram_id)
    )
    await session.execute(
        insert(PointsBalance).values(user_id=telegram_id).on_conflict_do_nothing()
    )
    return created is not None


async def touch_user(
    session: AsyncSession,
    *,
    telegram_id: int,
    username: str | None,
    first_name: str | None,
    now: datetime | None,
) -> None:
    await session.execute(
        update(User)
        .where(User.telegram_id == telegram_id)
        .values(
            username=username,
            first_name=first_name,
            last_seen_at=now if now is not None else func.now(),
        )
    )


async def get_user(session: AsyncSession, telegram_id: int) -> User | None:
    return await session.get(User, telegram_id)


async def find_by_username(session: AsyncSession, username: str) -> User | None:
    """The user last seen with this username (any case). Stored usernames go stale (they are
    refreshed only when the user writes) and Telegram hands a released one to someone else, so
    several rows may carry it: the one seen most recently is its current holder."""
    result = await session.scalars(
        select(User)
        .where(func.lower(User.username) == username.lower())
        .order_by(User.last_seen_at.desc(), User.telegram_id.desc())
        .limit(1)
    )
    return result.first()


async def find_by_referral_code(session: AsyncSession, code: str) -> User | None:
    result = await session.scalars(select(User).where(User.referral_code == code))
    return result.first()


async def referrer_chain(session: AsyncSession, telegram_id: int, *, depth: int = 50) -> list[int]:
    """The referrers above a user, nearest first (bounded, in case of corrupt data)."""
    chain: list[int] = []
    current: int | None = telegram_id
    while current is not None and len(chain) < depth:
        current = await session.scalar(select(User.referrer_id).where(User.telegram_id == current))
        if current is not None:
            chain.append(current)
    return chain


async def count_referrals(session: AsyncSession, telegram_id: int) -> int:
    count = await session.scalar(
        select(func.count()).select_from(User).where(User.referrer_id == telegram_id)
    )
    return int(count or 0)
