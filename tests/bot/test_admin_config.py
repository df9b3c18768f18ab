"""/points_config: the rules in force, by section, and whether an override file is active."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tests.bot.admin_helpers import (
    ADMIN,
    PRESSED_ID,
    TARGET,
    admin_actions,
    become_admin,
    make_target,
)
from tests.bot.helpers import LANGS, LEVEL_NAMES, calls, multiplier, tr
from tests.conftest import ContextFactory, harness_for
from tests.support.telegram import BotHarness, buttons

SECTIONS = ["rates", "tiers", "streaks", "limits", "levels"]


def tabs(lang: str, current: str) -> list[tuple[str, str]]:
    t = tr(lang)
    out = []
    for section in SECTIONS:
        text = t(f"admin-config-tab-{section}")
        out.append((f"• {text}" if section == current else text, f"adm_cf:{section}"))
    return [*out, (t("admin-button-menu"), "adm")]


def rates_text(lang: str, *, daily: int = 50, footer: str | None = None) -> str:
    t = tr(lang)
    return "\n".join(
        [
            t("admin-config-title", section=t("admin-config-tab-rates")),
            "",
            t("admin-config-request", label=t("tx-earn_text_request"), points=10),
            t("admin-config-request", label=t("tx-earn_vision_request"), points=20),
            t("admin-config-request", label=t("tx-earn_chart_request"), points=15),
            t("admin-config-daily", points=daily),
            t("admin-config-referral-signup", points=500),
            t("admin-config-referral-purchase", points=1000),
            t("admin-config-subscription", tier="BASIC", points=500),
            t("admin-config-subscription", tier="PREMIUM", points=1500),
            t("admin-config-subscription", tier="VIP", points=3000),
            "",
            footer or t("admin-config-defaults"),
        ]
    )


@pytest.mark.parametrize("lang", LANGS)
async def test_config_command_shows_the_rates_and_says_no_override_is_active(
    harness: BotHarness, lang: str
) -> None:
    requests = await harness.send("/points_config", user_id=ADMIN, language_code=lang)

    assert calls(requests) == [("send", ADMIN, rates_text(lang))]
    assert buttons(requests[0]) == tabs(lang, "rates")


def expected_lines(lang: str, section: str) -> list[str]:
    """A few lines each section must show, written from SPEC's tables."""
    t = tr(lang)
    match section:
        case "rates":
            return [t("admin-config-request", label=t("tx-earn_vision_request"), points=20)]
        case "tiers":
            return [
                t("admin-config-tier", tier=tier, multiplier=multiplier(m, lang))
                for tier, m in [
                    ("FREE", "1.0"),
                    ("BASIC", "1.2"),
                    ("PREMIUM", "1.5"),
                    ("VIP", "2.0"),
                ]
            ]
        case "streaks":
            return [
                t("admin-config-streak", day=day, bonus=bonus)
                for day, bonus in [
                    (1, 50),
                    (3, 150),
                    (7, 500),
                    (14, 1200),
                    (30, 3000),
                    (100, 15000),
                ]
            ]
        case "limits":
            return [
                t("admin-config-interval", label=t("tx-earn_text_request"), seconds="5"),
                t("admin-config-interval", label=t("tx-earn_vision_request"), seconds="10"),
                t("admin-config-interval", label=t("tx-earn_chart_request"), seconds="10"),
                t("admin-config-daily-cap", cap=10_000),
                t("admin-config-admin-limits", maximum=1_000_000, threshold=10_000),
            ]
        case "levels":
            required = [0, 1000, 5000, 15000, 50000, 150000]
            mults = ["1.0", "1.1", "1.2", "1.3", "1.5", "2.0"]
            icons = ["🌱", "📈", "🔍", "⭐", "💎", "👑"]
            return [
                t(
                    "admin-config-level",
                    icon=icons[i],
                    level=i + 1,
                    name=LEVEL_NAMES[lang][i],
                    required=required[i],
                    multiplier=multiplier(mults[i], lang),
                )
                for i in range(6)
            ]
    raise AssertionError(section)


@pytest.mark.parametrize("section", SECTIONS)
@pytest.mark.parametrize("lang", LANGS)
async def test_each_config_section_button(harness: BotHarness, section: str, lang: str) -> None:
    await become_admin(harness, lang)

    requests = await harness.press(f"adm_cf:{section}", user_id=ADMIN)

    t = tr(lang)
    ((kind, *_), (edit, chat, message_id, text)) = calls(requests)
    assert (kind, edit, chat, message_id) == ("answer", "edit", ADMIN, PRESSED_ID)
    lines = text.splitlines()
    assert lines[0] == t("admin-config-title", section=t(f"admin-config-tab-{section}"))
    for line in expected_lines(lang, section):
        assert line in lines, (line, text)
    assert lines[-1] == t("admin-config-defaults")
    assert buttons(requests[-1]) == tabs(lang, section)


def test_config_texts_literally() -> None:
    assert tr("ru")("admin-config-tier", tier="VIP", multiplier="2,0") == "VIP: ×2,0"
    assert tr("en")("admin-config-streak", day=30, bonus=3000) == "Day 30: <b>+3,000</b>"
    assert tr("en")("admin-config-defaults").startswith("📄 Built-in defaults")


# ---------------------------------------------------------------------------- an override file


@pytest.fixture
def overridden(make_context: ContextFactory, tmp_path: Path) -> tuple[BotHarness, Path]:
    """The production dispatcher started with POINTS_CONFIG_FILE pointing at an override."""
    path = tmp_path / "points.toml"
    path.write_text("daily_login_points = 70\nadmin_confirm_threshold = 500\n", encoding="utf-8")
    context = make_context(ADMIN_IDS=str(ADMIN), POINTS_CONFIG_FILE=str(path), LLM_BASE_URL="")
    return harness_for(context), path


@pytest.mark.parametrize("lang", LANGS)
async def test_config_says_an_override_file_is_active_and_shows_its_values(
    overridden: tuple[BotHarness, Path], lang: str
) -> None:
    harness, path = overridden

    requests = await harness.send("/points_config", user_id=ADMIN, language_code=lang)

    footer = tr(lang)("admin-config-override", path=str(path))
    assert calls(requests) == [("send", ADMIN, rates_text(lang, daily=70, footer=footer))]


async def test_the_overridden_confirm_threshold_applies(
    overridden: tuple[BotHarness, Path], sessions: async_sessionmaker[AsyncSession]
) -> None:
    harness, _ = overridden
    await make_target(sessions)

    await harness.send(f"/points_grant {TARGET} 500", user_id=ADMIN)

    assert [a.status for a in await admin_actions(sessions)] == ["pending"]
