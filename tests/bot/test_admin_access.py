"""Who gets the admin panel: ADMIN_IDS and users with is_admin. Everyone else gets exactly the
unknown-command answer for admin commands and a refusal alert for admin buttons, logged."""

from __future__ import annotations

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from structlog.testing import capture_logs

from src.services.points_service import PointsService
from tests.bot.admin_helpers import (
    ADMIN,
    ADMIN_COMMAND_LINES,
    STRANGER,
    TARGET,
    admin_actions,
    all_rows,
    make_target,
    set_admin_flag,
)
from tests.bot.helpers import LANGS, calls, tr
from tests.support.telegram import BotHarness

# One packed value of every admin callback factory, plus forged and malformed ones.
ADMIN_CALLBACKS = [
    "adm",
    "adm_an:overview:0",
    "adm_an:top:1",
    "adm_ch:30",
    "adm_cf:levels",
    "adm_hp:grant",
    f"adm_us:{TARGET}:0:0",
    f"adm_qg:{TARGET}:100",
    f"adm_qd:{TARGET}:100",
    "adm_ok:1",
    "adm_no:1",
    "adm_an:bogus:0",
    "adm_zz:1",
]


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("line", ADMIN_COMMAND_LINES)
async def test_a_non_admin_gets_exactly_the_unknown_command_answer(
    harness: BotHarness, sessions: async_sessionmaker[AsyncSession], line: str, lang: str
) -> None:
    await make_target(sessions)
    unknown = await harness.send("/no_such_command", user_id=STRANGER, language_code=lang)

    with capture_logs() as logs:
        requests = await harness.send(line, user_id=STRANGER, language_code=lang)

    assert calls(requests) == calls(unknown) == [("send", STRANGER, tr(lang)("unknown-command"))]
    refused = [e for e in logs if e["event"] == "admin command refused"]
    assert [(e["user_id"], e["log_level"]) for e in refused] == [(STRANGER, "warning")]
    assert await all_rows(sessions) == []
    assert await admin_actions(sessions) == []


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("data", ADMIN_CALLBACKS)
async def test_a_non_admin_pressing_an_admin_button_gets_a_refusal_alert(
    harness: BotHarness, sessions: async_sessionmaker[AsyncSession], data: str, lang: str
) -> None:
    await make_target(sessions)

    with capture_logs() as logs:
        requests = await harness.press(data, user_id=STRANGER, language_code=lang)

    assert calls(requests) == [("answer", tr(lang)("admin-only"), True)]
    refused = [e for e in logs if e["event"] == "admin callback refused"]
    assert [(e["user_id"], e["data"]) for e in refused] == [(STRANGER, data)]
    assert await all_rows(sessions) == []
    assert await admin_actions(sessions) == []


async def test_a_forged_confirmation_of_a_real_action_is_refused(
    harness: BotHarness, sessions: async_sessionmaker[AsyncSession]
) -> None:
    await make_target(sessions)
    await harness.send(f"/points_grant {TARGET} 50000", user_id=ADMIN)
    (action,) = await admin_actions(sessions)

    requests = await harness.press(f"adm_ok:{action.id}", user_id=STRANGER)

    assert calls(requests) == [("answer", tr("en")("admin-only"), True)]
    assert await all_rows(sessions) == []
    assert (await admin_actions(sessions))[0].status == "pending"


@pytest.mark.parametrize("lang", LANGS)
async def test_a_user_with_the_admin_flag_gets_the_panel(
    harness: BotHarness,
    points: PointsService,
    sessions: async_sessionmaker[AsyncSession],
    lang: str,
) -> None:
    await harness.send("/help", user_id=STRANGER, language_code=lang)
    await set_admin_flag(sessions, STRANGER)
    await make_target(sessions)

    menu = await harness.send("/admin", user_id=STRANGER)
    grant = await harness.send(f"/points_grant {TARGET} 10", user_id=STRANGER)

    assert calls(menu) == [("send", STRANGER, tr(lang)("admin-menu"))]
    assert await points.get_balance(user_id=TARGET) is not None
    assert [r.metadata_json["admin_id"] for r in await all_rows(sessions)] == [STRANGER]
    assert len(calls(grant)) == 2  # the user's notification and the admin's result


async def test_the_admin_filter_is_set_on_the_router_for_messages_and_callbacks() -> None:
    from src.bot.filters.admin import AdminFilter
    from src.bot.handlers.admin import create_routers

    router = create_routers()[0]  # the panel; its screens are sub-routers
    for observer in (router.message, router.callback_query):
        assert any(isinstance(f.callback, AdminFilter) for f in observer._handler.filters or [])
