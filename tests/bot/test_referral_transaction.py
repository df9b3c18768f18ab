"""`/start ref_<code>`: registration and the referral are one transaction (issue: a failure
between registering the newcomer and applying the link lost the referral for good, since the
newcomer was no longer brand-new). The failure is injected at that very point, on the real
database: the lookup of the referrer's chain, after the newcomer's row was inserted."""

from __future__ import annotations

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from src.bootstrap import AppContext
from src.database import user_queries
from src.database.models import User
from tests.bot.helpers import balance_of, db_user, tr
from tests.support.telegram import BotHarness, texts

REFERRER = 650_001
NEWCOMER = 650_002


async def _exists(sessions: async_sessionmaker[AsyncSession], user_id: int) -> bool:
    async with sessions() as session:
        return await session.get(User, user_id) is not None


@pytest.fixture
def failing_once(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The first referrer-chain lookup fails (a dropped connection, say); later ones work."""
    real = user_queries.referrer_chain
    calls: list[int] = []

    async def flaky(session: AsyncSession, user_id: int) -> list[int]:
        calls.append(user_id)
        if len(calls) == 1:
            raise ConnectionResetError("connection lost between registration and referral")
        return await real(session, user_id)

    monkeypatch.setattr(user_queries, "referrer_chain", flaky)
    return calls


async def test_a_failure_between_registration_and_referral_loses_neither(
    harness: BotHarness,
    context: AppContext,
    sessions: async_sessionmaker[AsyncSession],
    failing_once: list[int],
) -> None:
    await harness.send("/start", user_id=REFERRER, first_name="Anna")
    code = (await db_user(sessions, REFERRER)).referral_code
    update = harness.message_update(f"/start ref_{code}", user_id=NEWCOMER, first_name="Bob")

    first = await harness.feed(update)

    assert texts(first) == [tr("en")("error-unavailable")]  # a clear answer, not an error
    assert not await _exists(sessions, NEWCOMER)  # the registration rolled back with the link
    assert context.failures.get("user_registration") == 1
    assert context.failures.get("handler") == 0

    again = await harness.feed(update)  # Telegram delivers it again (or Bob taps the link again)

    assert tr("en")("start-referred", referrer="Anna") in texts(again)[-1]
    assert (await db_user(sessions, NEWCOMER)).referrer_id == REFERRER
    assert await balance_of(sessions, REFERRER) == 100 + 500
    assert failing_once == [REFERRER, REFERRER]


async def test_the_service_registers_and_links_in_one_transaction(
    context: AppContext, sessions: async_sessionmaker[AsyncSession], failing_once: list[int]
) -> None:
    anna = await context.users.register(telegram_id=REFERRER, first_name="Anna")
    code = f"ref_{anna.user.referral_code}"

    with pytest.raises(ConnectionResetError):
        await context.users.register(telegram_id=NEWCOMER, referral_code=code)
    assert not await _exists(sessions, NEWCOMER)

    bob = await context.users.register(telegram_id=NEWCOMER, referral_code=code)

    assert bob.created and bob.referral is not None
    assert (bob.referral.referrer_id, bob.referral.refusal) == (REFERRER, None)
    assert (await db_user(sessions, NEWCOMER)).referrer_id == REFERRER
