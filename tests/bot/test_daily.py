"""/daily and the 🎁 Daily bonus button: once per day in the configured zone, streaks (SPEC 4)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from src.services.points_service import PointsService
from tests.bot.conftest import HarnessFactory
from tests.bot.helpers import (
    LANGS,
    LEVEL_ICONS,
    LEVEL_NAMES,
    balance_of,
    break_method,
    calls,
    ledger,
    multiplier,
    tr,
    user_with_points,
)
from tests.conftest import ADMIN_ID
from tests.support.clock import FakeClock
from tests.support.factories import create_user
from tests.support.telegram import BotHarness, buttons

ME = 400_001
MENU_ID = 1


def claimed(lang: str, amount: int, streak: int, *, bonus: int = 0, next_: tuple[int, int]) -> str:
    t = tr(lang)
    lines = [t("daily-claimed", amount=amount), t("daily-streak-line", streak=streak)]
    if bonus:
        lines.append(t("daily-bonus-line", bonus=bonus))
    lines.append(t("daily-next-milestone", bonus=next_[0], day=next_[1]))
    return "\n".join(lines)


def already(lang: str, streak: int, hours: int, minutes: int) -> str:
    return tr(lang)("daily-already", streak=streak, hours=hours, minutes=minutes)


@pytest.mark.parametrize("lang", LANGS)
async def test_streak_over_three_days_pays_100_50_200(
    harness: BotHarness, sessions: async_sessionmaker[AsyncSession], clock: FakeClock, lang: str
) -> None:
    day1 = await harness.send("/daily", user_id=ME, language_code=lang)
    clock.advance(days=1)
    day2 = await harness.send("/daily", user_id=ME, language_code=lang)
    clock.advance(days=1)
    day3 = await harness.send("/daily", user_id=ME, language_code=lang)

    assert calls(day1) == [("send", ME, claimed(lang, 100, 1, bonus=50, next_=(150, 3)))]
    assert calls(day2) == [("send", ME, claimed(lang, 50, 2, next_=(150, 3)))]
    assert calls(day3) == [("send", ME, claimed(lang, 200, 3, bonus=150, next_=(500, 7)))]
    assert await balance_of(sessions, ME) == 350
    assert [r.transaction_id for r in await ledger(sessions, ME)] == [
        f"daily:{ME}:2026-03-10",
        f"daily:{ME}:2026-03-11",
        f"daily:{ME}:2026-03-12",
    ]


async def test_daily_texts_literally(harness: BotHarness, clock: FakeClock) -> None:
    (ru1,) = [c[2] for c in calls(await harness.send("/daily", user_id=ME, language_code="ru"))]
    clock.advance(days=1)
    (ru2,) = [c[2] for c in calls(await harness.send("/daily", user_id=ME))]
    (en1,) = [c[2] for c in calls(await harness.send("/daily", user_id=ME + 1))]

    assert ru1 == (
        "🎁 Ежедневный бонус: <b>+100</b> поинтов\n"
        "🔥 Серия: <b>1 день</b>\n"
        "🌟 Включая бонус за серию: +50\n"
        "Следующий бонус за серию: +150 на 3-й день."
    )
    assert "<b>+50</b> поинтов\n🔥 Серия: <b>2 дня</b>" in ru2
    assert en1.startswith("🎁 Daily bonus: <b>+100</b> points\n🔥 Streak: <b>1 day</b>")


@pytest.mark.parametrize("lang", LANGS)
async def test_second_claim_the_same_day_says_when_the_next_opens(
    harness: BotHarness, sessions: async_sessionmaker[AsyncSession], clock: FakeClock, lang: str
) -> None:
    await harness.send("/daily", user_id=ME, language_code=lang)  # 12:00 UTC
    noon = await harness.send("/daily", user_id=ME)
    clock.set(datetime(2026, 3, 10, 23, 15, tzinfo=UTC))
    late = await harness.send("/daily", user_id=ME)

    assert calls(noon) == [("send", ME, already(lang, 1, 12, 0))]
    assert calls(late) == [("send", ME, already(lang, 1, 0, 45))]
    assert await balance_of(sessions, ME) == 100


async def test_already_claimed_literally(harness: BotHarness, clock: FakeClock) -> None:
    await harness.send("/daily", user_id=ME, language_code="ru")
    clock.advance(hours=11, minutes=15)

    (text,) = [c[2] for c in calls(await harness.send("/daily", user_id=ME))]

    assert text == (
        "✅ Сегодняшний бонус уже получен (серия: 1 день). Следующий откроется через 0 ч 45 мин."
    )


async def test_missed_day_restarts_the_streak(
    harness: BotHarness, clock: FakeClock, sessions: async_sessionmaker[AsyncSession]
) -> None:
    await harness.send("/daily", user_id=ME)
    clock.advance(days=1)
    await harness.send("/daily", user_id=ME)  # streak 2
    clock.advance(days=2)  # a day without a claim

    requests = await harness.send("/daily", user_id=ME)

    assert calls(requests) == [("send", ME, claimed("en", 100, 1, bonus=50, next_=(150, 3)))]
    assert await balance_of(sessions, ME) == 250


@pytest.mark.parametrize("lang", LANGS)
async def test_21_and_22_day_streaks(
    harness: BotHarness,
    points: PointsService,
    sessions: async_sessionmaker[AsyncSession],
    clock: FakeClock,
    lang: str,
) -> None:
    await create_user(sessions, telegram_id=ME, language_code=lang)
    for _ in range(20):
        await points.claim_daily_login(user_id=ME)
        clock.advance(days=1)

    day21 = await harness.send("/daily", user_id=ME)
    clock.advance(days=1)
    day22 = await harness.send("/daily", user_id=ME)

    assert calls(day21) == [("send", ME, claimed(lang, 50, 21, next_=(3000, 30)))]
    assert calls(day22) == [("send", ME, claimed(lang, 50, 22, next_=(3000, 30)))]
    literal = {
        "ru": ("<b>21 день</b>", "<b>22 дня</b>"),
        "en": ("<b>21 days</b>", "<b>22 days</b>"),
    }
    assert literal[lang][0] in calls(day21)[0][2]
    assert literal[lang][1] in calls(day22)[0][2]


# ---------------------------------------------------------------------------- time zone


async def test_day_turns_at_midnight_in_the_configured_zone(
    moscow: BotHarness, sessions: async_sessionmaker[AsyncSession], clock: FakeClock
) -> None:
    clock.set(datetime(2026, 3, 10, 20, 30, tzinfo=UTC))  # 23:30 in Moscow
    before = await moscow.send("/daily", user_id=ME, language_code="ru")
    again = await moscow.send("/daily", user_id=ME)
    clock.advance(minutes=40)  # 21:10 UTC: still 10 March in UTC, 00:10 on 11 March in Moscow
    after = await moscow.send("/daily", user_id=ME)

    assert calls(before) == [("send", ME, claimed("ru", 100, 1, bonus=50, next_=(150, 3)))]
    assert calls(again) == [("send", ME, already("ru", 1, 0, 30))]
    assert calls(after) == [("send", ME, claimed("ru", 50, 2, next_=(150, 3)))]
    assert [r.transaction_id for r in await ledger(sessions, ME)] == [
        f"daily:{ME}:2026-03-10",
        f"daily:{ME}:2026-03-11",
    ]


async def test_utc_midnight_is_not_a_new_day_in_moscow(
    moscow: BotHarness, sessions: async_sessionmaker[AsyncSession], clock: FakeClock
) -> None:
    clock.set(datetime(2026, 3, 10, 21, 10, tzinfo=UTC))  # 00:10 on 11 March in Moscow
    await moscow.send("/daily", user_id=ME)
    clock.set(datetime(2026, 3, 11, 0, 30, tzinfo=UTC))  # a new UTC day, 03:30 in Moscow

    requests = await moscow.send("/daily", user_id=ME)

    assert calls(requests) == [("send", ME, already("en", 1, 20, 30))]
    assert await balance_of(sessions, ME) == 100


async def test_same_moments_in_a_utc_bot_are_one_day(harness: BotHarness, clock: FakeClock) -> None:
    clock.set(datetime(2026, 3, 10, 20, 30, tzinfo=UTC))
    await harness.send("/daily", user_id=ME)
    clock.advance(minutes=40)

    requests = await harness.send("/daily", user_id=ME)

    assert calls(requests) == [("send", ME, already("en", 1, 2, 50))]


# ---------------------------------------------------------------------------- the button


@pytest.mark.parametrize("lang", LANGS)
async def test_daily_button_pressed_twice_says_already_claimed(
    harness: BotHarness, sessions: async_sessionmaker[AsyncSession], lang: str
) -> None:
    first = await harness.press("pts:daily:0", user_id=ME, language_code=lang)
    second = await harness.press("pts:daily:0", user_id=ME, language_code=lang)

    back = [(tr(lang)("button-back"), "pts:main:0")]
    assert calls(first) == [
        ("answer", None, None),
        ("edit", ME, MENU_ID, claimed(lang, 100, 1, bonus=50, next_=(150, 3))),
    ]
    assert buttons(first[-1]) == back
    assert calls(second) == [("answer", None, None), ("edit", ME, MENU_ID, already(lang, 1, 12, 0))]
    assert buttons(second[-1]) == back
    assert await balance_of(sessions, ME) == 100


# ---------------------------------------------------------------------------- level-up, failure


def level_up(lang: str, level: int) -> str:
    mults = ["1.0", "1.1", "1.2", "1.3", "1.5", "2.0"]
    return tr(lang)(
        "level-up",
        icon=LEVEL_ICONS[level - 1],
        name=LEVEL_NAMES[lang][level - 1],
        level=level,
        multiplier=multiplier(mults[level - 1], lang),
    )


@pytest.mark.parametrize("lang", LANGS)
async def test_daily_that_crosses_a_level_congratulates_after_the_bonus(
    harness: BotHarness,
    points: PointsService,
    sessions: async_sessionmaker[AsyncSession],
    lang: str,
) -> None:
    await user_with_points(sessions, points, ME, lang, 950)

    requests = await harness.send("/daily", user_id=ME)

    assert calls(requests) == [
        ("send", ME, claimed(lang, 100, 1, bonus=50, next_=(150, 3))),
        ("send", ME, level_up(lang, 2)),
    ]


async def test_daily_button_that_crosses_a_level_congratulates_after_the_bonus(
    harness: BotHarness, points: PointsService, sessions: async_sessionmaker[AsyncSession]
) -> None:
    await create_user(sessions, telegram_id=ME, language_code="ru")
    await points.admin_grant(user_id=ME, amount=950, admin_id=ADMIN_ID)

    requests = await harness.press("pts:daily:0", user_id=ME)

    assert calls(requests) == [
        ("answer", None, None),
        ("edit", ME, MENU_ID, claimed("ru", 100, 1, bonus=50, next_=(150, 3))),
        ("send", ME, level_up("ru", 2)),
    ]


async def test_start_that_crosses_a_level_congratulates_after_the_welcome(
    harness: BotHarness, points: PointsService, sessions: async_sessionmaker[AsyncSession]
) -> None:
    await create_user(sessions, telegram_id=ME)
    await points.admin_grant(user_id=ME, amount=950, admin_id=ADMIN_ID)

    requests = await harness.send("/start", user_id=ME)

    assert [c[0] for c in calls(requests)] == ["send", "send"]
    assert calls(requests)[1] == ("send", ME, level_up("en", 2))


@pytest.mark.parametrize("lang", LANGS)
async def test_points_failure_on_daily_is_a_polite_error(
    harness: BotHarness, points: PointsService, monkeypatch: pytest.MonkeyPatch, lang: str
) -> None:
    break_method(monkeypatch, points, "claim_daily_login", RuntimeError("connection refused"))

    requests = await harness.send("/daily", user_id=ME, language_code=lang)

    assert calls(requests) == [("send", ME, tr(lang)("error-generic"))]
    assert harness.dispatcher["failures"].get("handler") == 1


@pytest.mark.parametrize(
    ("utc_now", "hours", "minutes"),
    [
        (datetime(2026, 3, 29, 10, 0, tzinfo=UTC), 12, 0),  # 12:00 CEST on a 23-hour day
        (datetime(2026, 10, 25, 11, 0, tzinfo=UTC), 12, 0),  # 12:00 CET on a 25-hour day
        (datetime(2026, 3, 28, 22, 30, tzinfo=UTC), 0, 30),  # 23:30 CET, the evening before
    ],
)
async def test_time_to_the_next_bonus_is_right_on_daylight_saving_days(
    make_harness: HarnessFactory, clock: FakeClock, utc_now: datetime, hours: int, minutes: int
) -> None:
    berlin = make_harness(TIMEZONE="Europe/Berlin")
    clock.set(utc_now)
    await berlin.send("/daily", user_id=ME)

    requests = await berlin.send("/daily", user_id=ME)

    assert calls(requests) == [("send", ME, already("en", 1, hours, minutes))]
