"""Admin panel edge cases: input parsing, stale usernames and redelivered commands."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from config.points_config import DEFAULT_RULES
from src.database.models import User
from src.services.admin_commands import (
    AdminErrorCode,
    AdminInputError,
    parse_amount_command,
    parse_user_ref,
)
from tests.bot.admin_helpers import ADMIN, TARGET, admin_actions, become_admin, make_target
from tests.bot.helpers import balance_of
from tests.support.telegram import BotHarness


@pytest.mark.parametrize(
    "amount",
    [
        "١٠",  # Arabic-Indic digits: int() reads 10
        "１０",  # fullwidth digits
        "1٠٠",  # mixed scripts: int() reads 100
        "۵",  # Extended Arabic-Indic five (looks like a zero/o)
    ],
)
def test_an_amount_in_non_ascii_digits_is_not_a_whole_number(amount: str) -> None:
    with pytest.raises(AdminInputError) as caught:
        parse_amount_command(f"{TARGET} {amount}", DEFAULT_RULES)
    assert caught.value.code is AdminErrorCode.NOT_INTEGER


@pytest.mark.parametrize("user", ["١٢٣٤٥٦", "１２３４５６", "61٠٠٠1"])
def test_a_user_id_in_non_ascii_digits_is_refused(user: str) -> None:
    with pytest.raises(AdminInputError) as caught:
        parse_user_ref(user)
    assert caught.value.code is AdminErrorCode.USER_FORMAT


def test_a_huge_negative_amount_is_not_positive_rather_than_above_the_limit() -> None:
    with pytest.raises(AdminInputError) as caught:
        parse_amount_command(f"{TARGET} -99999999999999999999", DEFAULT_RULES)
    assert caught.value.code is AdminErrorCode.NOT_POSITIVE


def test_leading_zeros_do_not_make_a_small_amount_too_large() -> None:
    assert parse_amount_command(f"{TARGET} {'0' * 20}5", DEFAULT_RULES).amount == 5


def test_plus_sign_is_still_accepted() -> None:
    assert parse_amount_command(f"{TARGET} +5", DEFAULT_RULES).amount == 5


async def test_a_stale_username_does_not_win_over_its_current_holder(
    harness: BotHarness, sessions: async_sessionmaker[AsyncSession]
) -> None:
    """Telegram usernames move between people; the stored one is only refreshed when the user
    writes to the bot. Old holder first (stale), current holder seen later: @alice must be the
    current holder."""
    await become_admin(harness, "en")
    old = await make_target(sessions, telegram_id=TARGET, username="alice")
    # The old holder renamed themselves (the bot has not seen them since); a new user took it.
    new = await make_target(sessions, telegram_id=TARGET + 1, username="Alice")
    async with sessions() as session, session.begin():
        await session.execute(
            update(User)
            .where(User.telegram_id == old)
            .values(last_seen_at=User.last_seen_at - timedelta(days=3))
        )

    await harness.send("/points_grant @alice 100", user_id=ADMIN)

    assert await balance_of(sessions, new) == 100
    assert await balance_of(sessions, old) == 0


async def test_a_redelivered_large_command_asks_for_one_confirmation(
    harness: BotHarness, sessions: async_sessionmaker[AsyncSession]
) -> None:
    await become_admin(harness, "en")
    await make_target(sessions)
    update_ = harness.message_update(f"/points_grant {TARGET} 25000", user_id=ADMIN)
    await harness.feed(update_)
    await harness.feed(update_)  # Telegram delivers the same update again

    actions = await admin_actions(sessions)
    assert len(actions) == 1
    for action in actions:  # the admin confirms every prompt they were shown
        await harness.press(f"adm_ok:{action.id}", user_id=ADMIN)
    assert await balance_of(sessions, TARGET) == 25_000
