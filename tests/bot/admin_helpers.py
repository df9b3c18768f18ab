"""Shared pieces of the admin panel tests: the admin, target users, admin_actions lookups."""

from __future__ import annotations

from typing import Any

from aiogram.methods import SendMessage, TelegramMethod
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from src.database.models import AdminAction, PointsTransaction, User
from tests.bot.helpers import tr
from tests.conftest import ADMIN_ID
from tests.support.factories import create_user
from tests.support.telegram import BotHarness

ADMIN = ADMIN_ID
TARGET = 610_001
OTHER = 610_002
STRANGER = 610_099  # a plain user who tries the admin panel
PRESSED_ID = 1  # the message id BotHarness.press puts on the pressed message

# Every admin command with plausible arguments (a non-admin must get nothing from any of them).
ADMIN_COMMAND_LINES = [
    "/admin",
    "/points_admin",
    "/points_analytics",
    "/points_config",
    f"/points_grant {TARGET} 100 gift",
    f"/points_deduct {TARGET} 100",
    f"/points_user {TARGET}",
]


async def become_admin(harness: BotHarness, lang: str) -> None:
    """First contact of the admin: their stored language comes from Telegram's language_code."""
    await harness.send("/help", user_id=ADMIN, language_code=lang)


async def make_target(
    sessions: async_sessionmaker[AsyncSession],
    *,
    telegram_id: int = TARGET,
    lang: str = "en",
    username: str | None = "alice",
    first_name: str | None = "Alice",
) -> int:
    return await create_user(
        sessions,
        telegram_id=telegram_id,
        language_code=lang,
        username=username,
        first_name=first_name,
    )


async def set_admin_flag(sessions: async_sessionmaker[AsyncSession], user_id: int) -> None:
    async with sessions() as session, session.begin():
        await session.execute(update(User).where(User.telegram_id == user_id).values(is_admin=True))


async def admin_actions(sessions: async_sessionmaker[AsyncSession]) -> list[AdminAction]:
    async with sessions() as session:
        return list(await session.scalars(select(AdminAction).order_by(AdminAction.id)))


async def all_rows(sessions: async_sessionmaker[AsyncSession]) -> list[PointsTransaction]:
    async with sessions() as session:
        return list(await session.scalars(select(PointsTransaction).order_by(PointsTransaction.id)))


def sent_to(requests: list[TelegramMethod[Any]], chat_id: int) -> list[str]:
    return [r.text for r in requests if isinstance(r, SendMessage) and r.chat_id == chat_id]


def label(name: str, username: str | None = None) -> str:
    return f"{name} (@{username})" if username else name


def usage(lang: str, op: str) -> str:
    return tr(lang)(f"admin-usage-line-{op}")
