"""Test users: created through the same service the bot uses."""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from config.points_config import Tier
from src.database.models import User
from src.services.user_service import UserService

_ids = itertools.count(100_001)


def next_user_id() -> int:
    return next(_ids)


async def create_user(
    sessions: async_sessionmaker[AsyncSession],
    *,
    telegram_id: int | None = None,
    tier: Tier = Tier.FREE,
    tier_expires_at: datetime | None = None,
    language_code: str = "en",
    username: str | None = None,
    first_name: str | None = "Test",
) -> int:
    user_id = telegram_id or next_user_id()
    await UserService(session_factory=sessions).register(
        telegram_id=user_id,
        username=username,
        first_name=first_name,
        language_code=language_code,
    )
    if tier is not Tier.FREE:
        expires = tier_expires_at or datetime(2100, 1, 1).astimezone()
        await set_tier(sessions, user_id, tier, expires)
    return user_id


async def set_tier(
    sessions: async_sessionmaker[AsyncSession], user_id: int, tier: Tier, expires: datetime
) -> None:
    async with sessions() as session, session.begin():
        await session.execute(
            update(User)
            .where(User.telegram_id == user_id)
            .values(tier=tier.value, tier_expires_at=expires)
        )


def far_future() -> datetime:
    return datetime.now().astimezone() + timedelta(days=3650)
