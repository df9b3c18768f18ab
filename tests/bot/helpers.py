"""Shared helpers of the handler tests: a compact view of Bot API calls and ledger lookups."""

from __future__ import annotations

from typing import Any

import pytest
from aiogram.methods import (
    AnswerCallbackQuery,
    EditMessageText,
    GetMe,
    SendChatAction,
    SendMessage,
    TelegramMethod,
)
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from src.database.models import PointsBalance, PointsTransaction, User
from src.locales import Translator, translator
from src.services.points_service import PointsService
from tests.conftest import ADMIN_ID
from tests.support.factories import create_user

LANGS = ("en", "ru")
# Level names as the user sees them (SPEC 5).
LEVEL_NAMES = {
    "en": ["Beginner", "Trader", "Analyst", "Expert", "Master", "Legend"],
    "ru": ["Новичок", "Трейдер", "Аналитик", "Эксперт", "Мастер", "Легенда"],
}
LEVEL_ICONS = ["🌱", "📈", "🔍", "⭐", "💎", "👑"]
# The tests' day (FakeClock: 10 March 2026) as history lines write it, unambiguously.
MARCH_10 = {"en": "10 Mar", "ru": "10 мар."}

Call = tuple[Any, ...]


def calls(requests: list[TelegramMethod[Any]]) -> list[Call]:
    """Every Bot API call as a comparable tuple, in order.

    getMe is left out: aiogram caches the bot's identity, so whether it appears depends only
    on what ran earlier in the same test, not on the behaviour under test.
    """
    out: list[Call] = []
    for r in requests:
        if isinstance(r, GetMe):
            continue
        if isinstance(r, SendMessage):
            out.append(("send", r.chat_id, r.text))
        elif isinstance(r, EditMessageText):
            out.append(("edit", r.chat_id, r.message_id, r.text))
        elif isinstance(r, AnswerCallbackQuery):
            out.append(("answer", r.text, r.show_alert))
        elif isinstance(r, SendChatAction):
            out.append(("action", r.chat_id, r.action))
        else:
            out.append((type(r).__name__,))
    return out


def without_typing(requests: list[TelegramMethod[Any]]) -> list[Call]:
    return [c for c in calls(requests) if c[0] != "action"]


def tr(lang: str) -> Translator:
    return translator(lang)


def multiplier(text: str, lang: str) -> str:
    """'1.2' as shown in `lang` (decimal comma in Russian)."""
    return text.replace(".", ",") if lang == "ru" else text


async def ledger(
    sessions: async_sessionmaker[AsyncSession], user_id: int
) -> list[PointsTransaction]:
    async with sessions() as session:
        rows = await session.scalars(
            select(PointsTransaction)
            .where(PointsTransaction.user_id == user_id)
            .order_by(PointsTransaction.id)
        )
        return list(rows)


async def balance_of(sessions: async_sessionmaker[AsyncSession], user_id: int) -> int:
    async with sessions() as session:
        row = await session.get(PointsBalance, user_id)
        assert row is not None, f"user {user_id} has no balance row"
        return row.balance


async def db_user(sessions: async_sessionmaker[AsyncSession], user_id: int) -> User:
    async with sessions() as session:
        user = await session.get(User, user_id)
        assert user is not None, f"user {user_id} is not registered"
        return user


async def invite_link_of(sessions: async_sessionmaker[AsyncSession], user_id: int) -> str:
    user = await db_user(sessions, user_id)
    return f"https://t.me/syntra_bot?start=ref_{user.referral_code}"


def break_method(
    monkeypatch: pytest.MonkeyPatch, target: object, name: str, error: Exception
) -> None:
    """Make `target.name` raise `error` (a database or service outage seen by a handler)."""

    async def broken(*_: object, **__: object) -> None:
        raise error

    monkeypatch.setattr(target, name, broken)


async def user_with_points(
    sessions: async_sessionmaker[AsyncSession],
    points: PointsService,
    user_id: int,
    lang: str,
    amount: int,
) -> None:
    """A user first seen with `lang`, holding `amount` points granted by the admin."""
    await create_user(sessions, telegram_id=user_id, language_code=lang)
    await points.admin_grant(user_id=user_id, amount=amount, admin_id=ADMIN_ID)
