"""/points, its buttons (History, Leaderboard, How to earn, Main), /level and stale buttons."""

from __future__ import annotations

from datetime import UTC, datetime
from html import escape

import pytest
from aiogram.types import CallbackQuery, Chat, InaccessibleMessage, Update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from config.points_config import Tier
from src.services.points_service import PointsService
from tests.bot.helpers import (
    LANGS,
    LEVEL_ICONS,
    LEVEL_NAMES,
    MARCH_10,
    break_method,
    calls,
    invite_link_of,
    ledger,
    multiplier,
    tr,
    user_with_points,
)
from tests.conftest import ADMIN_ID
from tests.support.clock import FakeClock
from tests.support.factories import create_user, set_tier
from tests.support.telegram import BotHarness, buttons

ME = 300_001
MENU_ID = 1  # the message id BotHarness.press puts on the pressed message


def points_buttons(lang: str) -> list[tuple[str, str]]:
    t = tr(lang)
    return [
        (t("menu-history"), "pts:history:0"),
        (t("menu-top"), "pts:top:0"),
        (t("menu-earn"), "pts:earn:0"),
        (t("menu-daily"), "pts:daily:0"),
        (t("menu-subscribe"), "sub:menu::0::0"),
    ]


def back_button(lang: str) -> list[tuple[str, str]]:
    return [(tr(lang)("button-back"), "pts:main:0")]


# ---------------------------------------------------------------------------- /points


@pytest.mark.parametrize("lang", LANGS)
async def test_points_card_shows_balance_level_progress_streak_rank_today_and_link(
    harness: BotHarness,
    points: PointsService,
    sessions: async_sessionmaker[AsyncSession],
    clock: FakeClock,
    lang: str,
) -> None:
    rich = await create_user(sessions, first_name="Rich")
    await points.admin_grant(user_id=rich, amount=9000, admin_id=ADMIN_ID)
    await harness.send("/start", user_id=ME, language_code=lang)  # +100, streak 1
    await points.admin_grant(user_id=ME, amount=2900, admin_id=ADMIN_ID)  # 3000: level 2
    await harness.send("what is bitcoin?", user_id=ME, language_code=lang)  # +11 (level 2)

    requests = await harness.send("/points", user_id=ME, language_code=lang)

    t = tr(lang)
    expected = "\n".join(
        [
            t("points-title"),
            "",
            t("points-balance", balance=3011),
            t(
                "points-level",
                icon="📈",
                name=LEVEL_NAMES[lang][1],
                level=2,
                multiplier=multiplier("1.1", lang),
            ),
            t("points-lifetime", earned=3011),
            t("points-progress", bar="▰▰▰▰▰▱▱▱▱▱", percent=50),  # (3011-1000)/4000
            t("points-to-next", missing=1989, icon="🔍", name=LEVEL_NAMES[lang][2]),
            "",
            t("points-streak", streak=1, longest=1),
            t("points-rank", rank=2),
            t("points-today", earned=11, cap=10000),
            "",
            t("points-invite", link=await invite_link_of(sessions, ME)),
        ]
    )
    assert calls(requests) == [("send", ME, expected)]
    assert buttons(requests[-1]) == points_buttons(lang)


async def test_points_card_literally(
    harness: BotHarness, points: PointsService, sessions: async_sessionmaker[AsyncSession]
) -> None:
    await harness.send("/start", user_id=ME, language_code="ru")  # 100
    await points.admin_grant(user_id=ME, amount=1, admin_id=ADMIN_ID)  # 101

    (ru,) = [c[2] for c in calls(await harness.send("/points", user_id=ME))]
    await harness.send("/start", user_id=ME + 1)  # 100
    (en,) = [c[2] for c in calls(await harness.send("/points", user_id=ME + 1))]

    assert "Баланс: <b>101</b> поинт\n" in ru
    assert "Уровень: 🌱 <b>Новичок</b> (уровень 1, ×1,0)" in ru
    assert "▰▱▱▱▱▱▱▱▱▱ 10%" in ru
    assert "До уровня 📈 Трейдер: 899 поинтов" in ru
    assert "🔥 Серия: 1 день (рекорд: 1)" in ru
    assert "Сегодня за запросы: 0 / 10\xa0000" in ru
    assert "Balance: <b>100</b> points" in en
    assert "900 points to 📈 Trader" in en
    assert "🏆 Rank: #2" in en
    assert "Today from requests: 0 / 10,000" in en
    link = await invite_link_of(sessions, ME + 1)
    assert link.startswith("https://t.me/syntra_bot?start=ref_") and link in en


async def test_points_card_shows_the_lifetime_figure_the_next_level_is_computed_from(
    harness: BotHarness, points: PointsService, sessions: async_sessionmaker[AsyncSession]
) -> None:
    """Balance 23,000 and "15,000 points to Master" only add up with the 35,000 earned shown."""
    await user_with_points(sessions, points, ME, "en", 35_000)
    await points.admin_deduct(user_id=ME, amount=12_000, admin_id=ADMIN_ID)

    (text,) = [c[2] for c in calls(await harness.send("/points", user_id=ME))]

    lines = text.splitlines()
    assert "Balance: <b>23,000</b> points" in lines
    earned = "📈 Earned in total: 35,000 (the level counts these; spending never lowers it)"
    assert lines.index(earned) < lines.index("15,000 points to 💎 Master")
    ru = tr("ru")("points-lifetime", earned=35_000)
    assert (
        ru
        == "📈 Заработано за всё время: 35\xa0000 (уровень считается по ним; траты его не снижают)"
    )


@pytest.mark.parametrize("lang", LANGS)
async def test_points_card_at_the_top_level(
    harness: BotHarness,
    points: PointsService,
    sessions: async_sessionmaker[AsyncSession],
    lang: str,
) -> None:
    await user_with_points(sessions, points, ME, lang, 150_000)

    (text,) = [c[2] for c in calls(await harness.send("/points", user_id=ME))]

    t = tr(lang)
    assert t("points-progress", bar="▰" * 10, percent=100) in text.splitlines()
    assert t("points-top-level") in text.splitlines()
    assert t("points-streak", streak=0, longest=0) in text.splitlines()


async def test_main_button_edits_the_message_into_the_card(
    harness: BotHarness, sessions: async_sessionmaker[AsyncSession]
) -> None:
    sent = await harness.send("/points", user_id=ME, language_code="ru")
    card = calls(sent)[0][2]

    requests = await harness.press("pts:main:0", user_id=ME)

    assert calls(requests) == [("answer", None, None), ("edit", ME, MENU_ID, card)]
    assert buttons(requests[-1]) == points_buttons("ru")


# ---------------------------------------------------------------------------- history


async def make_seven_movements(
    harness: BotHarness, points: PointsService, clock: FakeClock, lang: str
) -> None:
    """12:00 daily +100; 12:01..12:06 grants of +1..+6 (balances 101, 103, ..., 121)."""
    await harness.send("/start", user_id=ME, language_code=lang)
    for amount in range(1, 7):
        clock.advance(minutes=1)
        await points.admin_grant(user_id=ME, amount=amount, admin_id=ADMIN_ID)


def history_page(lang: str, page: int, pages: int, lines: list[tuple[str, str, str, int]]) -> str:
    t = tr(lang)
    return "\n".join(
        [
            t("history-title", page=page, pages=pages),
            "",
            *(
                t("history-line", date=date, type=t(key), amount=amount, balance=balance)
                for date, key, amount, balance in lines
            ),
        ]
    )


@pytest.mark.parametrize("lang", LANGS)
async def test_history_pages_newest_first_with_arrows(
    harness: BotHarness, points: PointsService, clock: FakeClock, lang: str
) -> None:
    await make_seven_movements(harness, points, clock, lang)

    first = await harness.press("pts:history:0", user_id=ME)
    second = await harness.press("pts:history:1", user_id=ME)
    back = await harness.press("pts:history:0", user_id=ME)

    page1 = history_page(
        lang,
        1,
        2,
        [
            (f"{MARCH_10[lang]} 12:06", "tx-admin_grant", "+6", 121),
            (f"{MARCH_10[lang]} 12:05", "tx-admin_grant", "+5", 115),
            (f"{MARCH_10[lang]} 12:04", "tx-admin_grant", "+4", 110),
            (f"{MARCH_10[lang]} 12:03", "tx-admin_grant", "+3", 106),
            (f"{MARCH_10[lang]} 12:02", "tx-admin_grant", "+2", 103),
        ],
    )
    page2 = history_page(
        lang,
        2,
        2,
        [
            (f"{MARCH_10[lang]} 12:01", "tx-admin_grant", "+1", 101),
            (f"{MARCH_10[lang]} 12:00", "tx-earn_daily_login", "+100", 100),
        ],
    )
    assert calls(first) == [("answer", None, None), ("edit", ME, MENU_ID, page1)]
    assert buttons(first[-1]) == [("▶", "pts:history:1"), *back_button(lang)]
    assert calls(second) == [("answer", None, None), ("edit", ME, MENU_ID, page2)]
    assert buttons(second[-1]) == [("◀", "pts:history:0"), *back_button(lang)]
    assert calls(back) == calls(first)


async def test_history_texts_literally(
    harness: BotHarness, points: PointsService, clock: FakeClock
) -> None:
    await make_seven_movements(harness, points, clock, "ru")

    (_, (*_, text)) = calls(await harness.press("pts:history:1", user_id=ME))

    assert text.startswith("📜 <b>История</b> (страница 2 из 2)")
    assert "10 мар. 12:00 · 🎁 Ежедневный бонус: <b>+100</b> → 100" in text


@pytest.mark.parametrize(
    ("lang", "deducted", "granted"),
    [
        ("en", "−12,000</b> → 13,600", "+25,600</b> → 25,600"),
        ("ru", "−12\xa0000</b> → 13\xa0600", "+25\xa0600</b> → 25\xa0600"),
    ],
)
async def test_history_amounts_are_grouped_with_a_true_minus(
    harness: BotHarness,
    points: PointsService,
    clock: FakeClock,
    lang: str,
    deducted: str,
    granted: str,
) -> None:
    await harness.send("/level", user_id=ME, language_code=lang)  # registers, moves nothing
    await points.admin_grant(user_id=ME, amount=25_600, admin_id=ADMIN_ID)
    clock.advance(minutes=1)
    await points.admin_deduct(user_id=ME, amount=12_000, admin_id=ADMIN_ID)

    (_, (*_, text)) = calls(await harness.press("pts:history:0", user_id=ME))

    t = tr(lang)
    newest, oldest = text.splitlines()[2:]
    assert newest.endswith(f"{t('tx-admin_deduct')}: <b>{deducted}")
    assert oldest.endswith(f"{t('tx-admin_grant')}: <b>{granted}")


async def test_history_page_past_the_end_shows_the_last_page(
    harness: BotHarness, points: PointsService, clock: FakeClock
) -> None:
    await make_seven_movements(harness, points, clock, "en")
    last = await harness.press("pts:history:1", user_id=ME)

    stale = await harness.press("pts:history:7", user_id=ME)

    assert calls(stale) == calls(last)
    assert buttons(stale[-1]) == buttons(last[-1])


@pytest.mark.parametrize("lang", LANGS)
async def test_empty_history(harness: BotHarness, lang: str) -> None:
    requests = await harness.press("pts:history:0", user_id=ME, language_code=lang)

    assert calls(requests) == [
        ("answer", None, None),
        ("edit", ME, MENU_ID, tr(lang)("history-empty")),
    ]
    assert buttons(requests[-1]) == back_button(lang)


async def test_history_leaves_out_unpaid_requests(harness: BotHarness, clock: FakeClock) -> None:
    await harness.send("first question", user_id=ME)  # +10
    clock.advance(seconds=2)
    await harness.send("second question", user_id=ME)  # inside 5 s: served, not paid

    (_, (*_, text)) = calls(await harness.press("pts:history:0", user_id=ME))

    assert text == history_page("en", 1, 1, [("10 Mar 12:00", "tx-earn_text_request", "+10", 10)])


async def test_history_dates_are_in_the_configured_zone(moscow: BotHarness) -> None:
    await moscow.send("/daily", user_id=ME)  # 12:00 UTC is 15:00 in Moscow

    (_, (*_, text)) = calls(await moscow.press("pts:history:0", user_id=ME))

    assert "10 Mar 15:00 · 🎁 Daily bonus: <b>+100</b> → 100" in text


# ---------------------------------------------------------------------------- leaderboard


@pytest.mark.parametrize("lang", LANGS)
async def test_leaderboard_top_ten_and_own_place_outside_it(
    harness: BotHarness,
    points: PointsService,
    sessions: async_sessionmaker[AsyncSession],
    lang: str,
) -> None:
    others = []
    for i in range(11):
        name = "<Eve & Co>" if i == 0 else f"Player{i}"
        uid = await create_user(sessions, first_name=name)
        await points.admin_grant(user_id=uid, amount=2000 + 100 * i, admin_id=ADMIN_ID)
        others.append((name, 2000 + 100 * i))
    await harness.send("/start", user_id=ME, language_code=lang)  # 100: 12th place

    requests = await harness.press("pts:top:0", user_id=ME)

    t = tr(lang)
    ranked = sorted(others, key=lambda item: -item[1])[:10]
    places = ["🥇", "🥈", "🥉", *(f"{n}." for n in range(4, 11))]
    expected = "\n".join(
        [
            t("top-title"),
            "",
            *(
                t(
                    "top-line",
                    place=place,
                    name=escape(name),
                    balance=balance,
                    icon="📈",
                )
                for place, (name, balance) in zip(places, ranked, strict=True)
            ),
            "",
            t("top-me", rank=12, balance=100),
        ]
    )
    assert calls(requests) == [("answer", None, None), ("edit", ME, MENU_ID, expected)]
    assert "Player10" in expected and "<Eve" not in expected  # the lowest of 11 is cut
    assert "&lt;Eve &amp; Co&gt;" not in expected  # Eve (2000) is 11th: not shown
    assert buttons(requests[-1]) == back_button(lang)


async def test_leaderboard_escapes_names_and_marks_own_place_inside_the_top(
    harness: BotHarness, points: PointsService, sessions: async_sessionmaker[AsyncSession]
) -> None:
    eve = await create_user(sessions, first_name="<Eve & Co>")
    await points.admin_grant(user_id=eve, amount=500, admin_id=ADMIN_ID)
    await harness.send("/start", user_id=ME, language_code="ru")  # 100

    (_, (*_, text)) = calls(await harness.press("pts:top:0", user_id=ME))

    assert text.splitlines() == [
        "🏆 <b>Рейтинг</b>",
        "",
        "🥇 &lt;Eve &amp; Co&gt; — 500 🌱",
        "🥈 User300001 — 100 🌱",
        "",
        "Ваше место: <b>#2</b>, 100 поинтов",
    ]


# ---------------------------------------------------------------------------- how to earn


def how_to_earn(
    lang: str, *, level_mult: str, tier: str, tier_mult: str, rates: tuple[int, int, int]
) -> str:
    t = tr(lang)
    streaks = {1: 50, 3: 150, 7: 500, 14: 1200, 30: 3000, 100: 15000}
    return "\n".join(
        [
            t("earn-title"),
            "",
            t(
                "earn-multipliers",
                level_mult=multiplier(level_mult, lang),
                tier=tier,
                tier_mult=multiplier(tier_mult, lang),
            ),
            t("earn-requests"),
            t("earn-text", amount=rates[0]),
            t("earn-vision", amount=rates[1]),
            t("earn-chart", amount=rates[2]),
            "",
            t("earn-daily", amount=50),
            *(t("earn-streak-line", day=d, bonus=b) for d, b in streaks.items()),
            "",
            t("earn-referrals", signup=500, purchase=1000),
            t("earn-subscriptions", basic=500, premium=1500, vip=3000),
            t("earn-limits", text=5, vision=10, cap=10000),
        ]
    )


@pytest.mark.parametrize("lang", LANGS)
async def test_how_to_earn_shows_the_users_own_rates(
    harness: BotHarness,
    points: PointsService,
    sessions: async_sessionmaker[AsyncSession],
    lang: str,
) -> None:
    await create_user(sessions, telegram_id=ME, language_code=lang)
    await set_tier(sessions, ME, Tier.PREMIUM, datetime(2030, 1, 1, tzinfo=UTC))
    await points.admin_grant(user_id=ME, amount=5000, admin_id=ADMIN_ID)  # level 3

    requests = await harness.press("pts:earn:0", user_id=ME)

    expected = how_to_earn(
        lang, level_mult="1.2", tier="PREMIUM", tier_mult="1.5", rates=(18, 36, 27)
    )
    assert calls(requests) == [("answer", None, None), ("edit", ME, MENU_ID, expected)]
    assert buttons(requests[-1]) == back_button(lang)
    for literal in ("+18", "+36", "+27"):
        assert literal in expected


async def test_how_to_earn_literally(
    harness: BotHarness, points: PointsService, sessions: async_sessionmaker[AsyncSession]
) -> None:
    await create_user(sessions, telegram_id=ME, language_code="ru")
    await set_tier(sessions, ME, Tier.PREMIUM, datetime(2030, 1, 1, tzinfo=UTC))
    await points.admin_grant(user_id=ME, amount=5000, admin_id=ADMIN_ID)

    (_, (*_, text)) = calls(await harness.press("pts:earn:0", user_id=ME))

    assert "Ваши множители: уровень ×1,2 · PREMIUM ×1,5" in text
    assert "💬 Вопрос ИИ: +18\n🖼 Анализ изображения: +36\n📈 Анализ графика: +27" in text


async def test_how_to_earn_for_a_new_free_user(harness: BotHarness) -> None:
    (_, (*_, text)) = calls(await harness.press("pts:earn:0", user_id=ME))

    assert text == how_to_earn(
        "en", level_mult="1.0", tier="FREE", tier_mult="1.0", rates=(10, 20, 15)
    )


async def test_how_to_earn_ignores_an_expired_tier(
    harness: BotHarness, points: PointsService, sessions: async_sessionmaker[AsyncSession]
) -> None:
    await create_user(sessions, telegram_id=ME)
    await set_tier(sessions, ME, Tier.VIP, datetime(2026, 3, 1, tzinfo=UTC))  # before the clock
    await points.admin_grant(user_id=ME, amount=5000, admin_id=ADMIN_ID)

    (_, (*_, text)) = calls(await harness.press("pts:earn:0", user_id=ME))

    assert text == how_to_earn(
        "en", level_mult="1.2", tier="FREE", tier_mult="1.0", rates=(12, 24, 18)
    )


# ---------------------------------------------------------------------------- /level


def levels(lang: str, mine: int, footer: str, *, earned: int) -> str:
    t = tr(lang)
    required = [0, 1000, 5000, 15000, 50000, 150000]
    mults = ["1.0", "1.1", "1.2", "1.3", "1.5", "2.0"]
    lines = [t("level-title"), ""]
    for n in range(6):
        line = t(
            "level-line",
            icon=LEVEL_ICONS[n],
            name=LEVEL_NAMES[lang][n],
            required=required[n],
            multiplier=multiplier(mults[n], lang),
        )
        lines.append(t("level-you", line=line) if n + 1 == mine else line)
    return "\n".join([*lines, "", t("points-lifetime", earned=earned), footer])


@pytest.mark.parametrize("lang", LANGS)
async def test_level_lists_all_levels_marks_mine_and_says_what_is_missing(
    harness: BotHarness,
    points: PointsService,
    sessions: async_sessionmaker[AsyncSession],
    lang: str,
) -> None:
    await create_user(sessions, telegram_id=ME, language_code=lang)
    await points.admin_grant(user_id=ME, amount=6000, admin_id=ADMIN_ID)  # level 3

    requests = await harness.send("/level", user_id=ME)

    footer = tr(lang)("level-missing", missing=9000, icon="⭐", name=LEVEL_NAMES[lang][3])
    assert calls(requests) == [("send", ME, levels(lang, 3, footer, earned=6000))]


async def test_level_literally(harness: BotHarness) -> None:
    (en,) = [c[2] for c in calls(await harness.send("/level", user_id=ME))]
    (ru,) = [c[2] for c in calls(await harness.send("/level", user_id=ME + 1, language_code="ru"))]

    assert "🌱 <b>Beginner</b>: from 0, ×1.0  ◀ you" in en
    assert "👑 <b>Legend</b>: from 150,000, ×2.0\n" in en
    assert en.endswith("You need 1,000 more points for 📈 Trader.")
    assert "🌱 <b>Новичок</b>: от 0, ×1,0  ◀ вы здесь" in ru
    assert ru.endswith("До уровня 📈 Трейдер осталось 1\xa0000 поинтов.")


@pytest.mark.parametrize("lang", LANGS)
async def test_level_at_the_top(
    harness: BotHarness,
    points: PointsService,
    sessions: async_sessionmaker[AsyncSession],
    lang: str,
) -> None:
    await user_with_points(sessions, points, ME, lang, 200_000)

    requests = await harness.send("/level", user_id=ME)

    expected = levels(lang, 6, tr(lang)("level-max"), earned=200_000)
    assert calls(requests) == [("send", ME, expected)]


# ---------------------------------------------------------------------------- stale buttons


STALE_DATA = ["pts:bogus:0", "pts:history:abc", "pts", "legacy_menu_v1", "menu", "lang"]


@pytest.mark.parametrize("lang", LANGS)
async def test_stale_or_malformed_button_gets_a_polite_alert(
    harness: BotHarness, lang: str
) -> None:
    for data in STALE_DATA:
        requests = await harness.press(data, user_id=ME, language_code=lang)

        assert calls(requests) == [("answer", tr(lang)("button-stale"), True)], data


async def test_stale_button_text_literally(harness: BotHarness) -> None:
    requests = await harness.press("pts:bogus:0", user_id=ME, language_code="ru")

    assert calls(requests) == [("answer", "Эта кнопка устарела. Откройте меню заново.", True)]


@pytest.mark.parametrize("lang", LANGS)
async def test_button_on_a_message_too_old_to_edit_gets_a_polite_alert(
    harness: BotHarness, sessions: async_sessionmaker[AsyncSession], lang: str
) -> None:
    """Telegram sends an InaccessibleMessage for old messages: nothing to edit, nothing claimed."""
    for n, data in enumerate(("pts:daily:0", "pts:main:0", "pts:history:0")):
        query = CallbackQuery(
            id=f"old-{data}",
            from_user=harness.user(ME, lang),
            chat_instance="ci",
            message=InaccessibleMessage(chat=Chat(id=ME, type="private"), message_id=5, date=0),
            data=data,
        )

        requests = await harness.feed(Update(update_id=50_000 + n, callback_query=query))

        assert calls(requests) == [("answer", tr(lang)("button-stale"), True)], data
    assert await ledger(sessions, ME) == []


async def test_command_addressed_to_the_bot_by_name(harness: BotHarness) -> None:
    plain = calls(await harness.send("/points", user_id=ME))

    addressed = calls(await harness.send("/points@syntra_bot", user_id=ME))

    assert addressed == plain
    assert addressed[0][2].startswith(tr("en")("points-title"))


@pytest.mark.parametrize("lang", LANGS)
async def test_points_read_failure_is_a_polite_error(
    harness: BotHarness, points: PointsService, monkeypatch: pytest.MonkeyPatch, lang: str
) -> None:
    break_method(monkeypatch, points, "get_balance", ConnectionError("points database is down"))

    via_command = await harness.send("/points", user_id=ME, language_code=lang)
    via_level = await harness.send("/level", user_id=ME, language_code=lang)
    via_button = await harness.press("pts:main:0", user_id=ME, language_code=lang)

    t = tr(lang)
    assert calls(via_command) == calls(via_level) == [("send", ME, t("error-generic"))]
    assert calls(via_button) == [("answer", t("error-generic"), True)]
    assert harness.dispatcher["failures"].get("handler") == 3


@pytest.mark.parametrize("lang", LANGS)
async def test_buttons_while_the_database_is_unreachable(
    harness: BotHarness, monkeypatch: pytest.MonkeyPatch, lang: str
) -> None:
    break_method(
        monkeypatch, harness.dispatcher["users"], "register", ConnectionError("database is down")
    )

    requests = await harness.press("pts:daily:0", user_id=ME, language_code=lang)

    assert calls(requests) == [("answer", tr(lang)("error-unavailable"), True)]
