"""/admin (and /points_admin): the menu, its usage screens, and stale admin buttons."""

from __future__ import annotations

import pytest

from tests.bot.admin_helpers import ADMIN, PRESSED_ID, become_admin
from tests.bot.helpers import LANGS, calls, tr
from tests.support.telegram import BotHarness, buttons


def menu_buttons(lang: str) -> list[tuple[str, str]]:
    t = tr(lang)
    return [
        (t("admin-menu-analytics"), "adm_an:overview:0"),
        (t("admin-menu-chart"), "adm_ch:30"),
        (t("admin-menu-config"), "adm_cf:rates"),
        (t("admin-menu-grant"), "adm_hp:grant"),
        (t("admin-menu-deduct"), "adm_hp:deduct"),
        (t("admin-menu-user"), "adm_hp:user"),
    ]


@pytest.mark.parametrize("command", ["/admin", "/points_admin"])
@pytest.mark.parametrize("lang", LANGS)
async def test_admin_command_shows_the_menu_with_every_section(
    harness: BotHarness, command: str, lang: str
) -> None:
    requests = await harness.send(command, user_id=ADMIN, language_code=lang)

    assert calls(requests) == [("send", ADMIN, tr(lang)("admin-menu"))]
    assert buttons(requests[0]) == menu_buttons(lang)


def test_menu_text_literally() -> None:
    assert tr("en")("admin-menu").startswith("🛠 <b>Admin panel</b>\n\n📊 Analytics")
    assert tr("ru")("admin-menu").startswith("🛠 <b>Панель администратора</b>")
    assert "/points_grant" in tr("ru")("admin-menu")


@pytest.mark.parametrize("lang", LANGS)
async def test_menu_button_brings_the_menu_back(harness: BotHarness, lang: str) -> None:
    await become_admin(harness, lang)

    requests = await harness.press("adm", user_id=ADMIN)

    assert calls(requests) == [
        ("answer", None, None),
        ("edit", ADMIN, PRESSED_ID, tr(lang)("admin-menu")),
    ]
    assert buttons(requests[-1]) == menu_buttons(lang)


@pytest.mark.parametrize("topic", ["grant", "deduct", "user"])
@pytest.mark.parametrize("lang", LANGS)
async def test_usage_screens_explain_the_command_with_an_example(
    harness: BotHarness, topic: str, lang: str
) -> None:
    await become_admin(harness, lang)

    requests = await harness.press(f"adm_hp:{topic}", user_id=ADMIN)

    t = tr(lang)
    text = t(f"admin-usage-{topic}", threshold=10_000, maximum=1_000_000)
    assert calls(requests) == [("answer", None, None), ("edit", ADMIN, PRESSED_ID, text)]
    assert buttons(requests[-1]) == [(t("admin-button-menu"), "adm")]
    assert f"/points_{topic}" in text


def test_usage_texts_literally() -> None:
    en = tr("en")("admin-usage-grant", threshold=10_000, maximum=1_000_000)
    assert "From 10,000 points you confirm with a button; at most 1,000,000 per operation." in en
    assert "Example: <code>/points_grant @alice 500 Contest winner</code>" in en
    ru = tr("ru")("admin-usage-deduct", threshold=10_000, maximum=1_000_000)
    assert "От 10\xa0000 поинтов действие подтверждается кнопкой" in ru


@pytest.mark.parametrize(
    "data",
    ["adm_an:bogus:0", "adm_cf:nope", "adm_ok:abc", "adm_us:x:0:0", "adm_zz", "adm:extra"],
)
@pytest.mark.parametrize("lang", LANGS)
async def test_stale_or_malformed_admin_buttons_get_a_polite_alert(
    harness: BotHarness, data: str, lang: str
) -> None:
    await become_admin(harness, lang)

    requests = await harness.press(data, user_id=ADMIN)

    assert calls(requests) == [("answer", tr(lang)("admin-stale"), True)]


async def test_other_stale_buttons_still_get_the_general_alert(harness: BotHarness) -> None:
    requests = await harness.press("pts:nothing:0", user_id=ADMIN, language_code="ru")

    assert calls(requests) == [("answer", tr("ru")("button-stale"), True)]


async def test_admins_in_admin_ids_get_the_admin_commands_in_their_chat_menu() -> None:
    from aiogram.methods import SetMyCommands
    from aiogram.types import BotCommandScopeChat, BotCommandScopeDefault

    from config.settings import load_settings
    from src.bot.dispatcher import ADMIN_MENU_COMMANDS, register_commands
    from src.bot.local_session import local_bot

    bot, session = local_bot()
    settings = load_settings(_env_file=None, ADMIN_IDS=f"{ADMIN},42")

    await register_commands(bot, settings)

    sent = [r for r in session.take() if isinstance(r, SetMyCommands)]
    default = [r for r in sent if isinstance(r.scope, BotCommandScopeDefault)]
    per_chat = [r for r in sent if isinstance(r.scope, BotCommandScopeChat)]
    assert len(default) == 3
    scopes = [r.scope for r in per_chat if isinstance(r.scope, BotCommandScopeChat)]
    assert [(s.chat_id, r.language_code) for s, r in zip(scopes, per_chat, strict=True)] == [
        (42, "ru"),
        (42, "en"),
        (42, None),
        (ADMIN, "ru"),
        (ADMIN, "en"),
        (ADMIN, None),
    ]
    ru = per_chat[0]
    assert [c.command for c in ru.commands][-len(ADMIN_MENU_COMMANDS) :] == list(
        ADMIN_MENU_COMMANDS
    )
    assert ru.commands[-1].description == tr("ru")("admin-cmd-points_refund")
    assert all(c.description for r in per_chat for c in r.commands)
