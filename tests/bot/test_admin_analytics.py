"""/points_analytics: every section, ↻ refresh and the 30-day chart.

The figures on screen are checked against values this test computes itself from the ledger,
users and balance rows (plain Python over the rows), never against AnalyticsService.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from aiogram.methods import SendPhoto
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from config.points_config import RequestAction
from src.bot import charts
from src.database.models import PointsBalance, PointsTransaction, User
from src.services.points_service import PointsService
from src.services.user_service import UserService
from tests.bot.admin_helpers import ADMIN, PRESSED_ID, become_admin
from tests.bot.helpers import LANGS, LEVEL_ICONS, LEVEL_NAMES, calls, tr
from tests.support.clock import FakeClock
from tests.support.telegram import BotHarness, buttons, only

SECTIONS = ["overview", "day", "types", "levels", "streaks", "top"]
TABS = [*SECTIONS, "payments"]  # the payments tab: tests/bot/test_payments_admin.py
BANDS = [("1-2", 1, 2), ("3-6", 3, 6), ("7-13", 7, 13), ("14-29", 14, 29), ("30-99", 30, 99)]
NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
ANNA, BORIS, CAROL, DAN, EVE = 630_001, 630_002, 630_003, 630_004, 630_005


async def register(
    sessions: async_sessionmaker[AsyncSession], clock: FakeClock, uid: int, **fields: Any
) -> None:
    await UserService(session_factory=sessions, clock=clock).register(telegram_id=uid, **fields)


async def build_ledger(
    points: PointsService, sessions: async_sessionmaker[AsyncSession], clock: FakeClock
) -> None:
    """Ten days of mixed activity, ending at NOW (2026-03-10 12:00 UTC)."""
    clock.set(datetime(2026, 3, 1, 10, 0, tzinfo=UTC))
    await register(sessions, clock, ANNA, first_name="Anna")
    await register(sessions, clock, BORIS, username="boris")
    await register(sessions, clock, EVE, first_name="Eve")
    await points.claim_daily_login(user_id=ANNA)
    await points.admin_grant(user_id=BORIS, amount=3_000, admin_id=ADMIN)
    await points.award_request(user_id=ANNA, action=RequestAction.TEXT, key="t:1")
    clock.set(datetime(2026, 3, 5, 9, 0, tzinfo=UTC))
    await register(sessions, clock, CAROL, first_name="Carol")
    await points.admin_grant(user_id=CAROL, amount=20_000, admin_id=ADMIN)
    await points.admin_deduct(user_id=BORIS, amount=500, admin_id=ADMIN)
    await points.spend(user_id=ANNA, amount=50, key="shop:1")
    await points.admin_deduct(user_id=BORIS, amount=999_999, admin_id=ADMIN)  # refused: 0 row
    clock.set(datetime(2026, 3, 8, 8, 0, tzinfo=UTC))
    await points.claim_daily_login(user_id=ANNA)  # streak restarts at 1
    clock.set(datetime(2026, 3, 9, 8, 0, tzinfo=UTC))
    await points.claim_daily_login(user_id=ANNA)  # 2
    await points.claim_daily_login(user_id=BORIS)  # 1
    clock.set(datetime(2026, 3, 9, 13, 0, tzinfo=UTC))
    await points.award_request(user_id=CAROL, action=RequestAction.TEXT, key="t:2")
    clock.set(datetime(2026, 3, 10, 8, 0, tzinfo=UTC))
    await points.claim_daily_login(user_id=ANNA)  # 3: +150 bonus
    clock.set(datetime(2026, 3, 10, 11, 0, tzinfo=UTC))
    await register(sessions, clock, DAN, first_name="Dan")
    await points.claim_daily_login(user_id=DAN)
    clock.set(NOW)


@dataclass
class Figures:
    """What the screens must show, computed here from the rows."""

    users: int
    with_balance: int
    circulation: int
    earned: int
    spent: int
    day: tuple[int, int, int, int, int]  # earned, spent, transactions, active, new
    by_type: dict[str, tuple[int, int]]  # type -> (count, signed total)
    levels: dict[int, int]
    streaks: list[int]  # the active streaks
    top: list[tuple[int, int, int, str]]  # (user_id, balance, level, name)
    per_day: dict[date, tuple[int, int]]


async def figures(sessions: async_sessionmaker[AsyncSession], now: datetime) -> Figures:
    async with sessions() as session:
        rows = list(await session.scalars(select(PointsTransaction)))
        users = list(await session.scalars(select(User)))
        balances = list(await session.scalars(select(PointsBalance)))
    moved = [r for r in rows if r.amount != 0]  # zero rows are recorded refusals
    since = now - timedelta(hours=24)
    recent = [r for r in moved if r.created_at >= since]
    by_type: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for r in moved:
        by_type[r.transaction_type][0] += 1
        by_type[r.transaction_type][1] += r.amount
    per_day: dict[date, list[int]] = defaultdict(lambda: [0, 0])
    for r in moved:
        day = r.created_at.astimezone(UTC).date()
        per_day[day][0 if r.amount > 0 else 1] += abs(r.amount)
    yesterday = now.date() - timedelta(days=1)
    names = {u.telegram_id: u.first_name or f"@{u.username}" for u in users}
    ranked = sorted(balances, key=lambda b: (-b.balance, b.user_id))[:5]
    return Figures(
        users=len(users),
        with_balance=sum(1 for b in balances if b.balance > 0),
        circulation=sum(b.balance for b in balances),
        earned=sum(r.amount for r in moved if r.amount > 0),
        spent=-sum(r.amount for r in moved if r.amount < 0),
        day=(
            sum(r.amount for r in recent if r.amount > 0),
            -sum(r.amount for r in recent if r.amount < 0),
            len(recent),
            len({r.user_id for r in recent}),
            sum(1 for u in users if u.created_at >= since),
        ),
        by_type={k: (v[0], v[1]) for k, v in by_type.items()},
        levels=dict(Counter(b.level for b in balances)),
        streaks=[
            b.current_streak
            for b in balances
            if b.last_daily_login is not None and b.last_daily_login >= yesterday
        ],
        top=[(b.user_id, b.balance, b.level, names[b.user_id]) for b in ranked],
        per_day={k: (v[0], v[1]) for k, v in per_day.items()},
    )


def signed(n: int, lang: str) -> str:
    """+1,200 / −500 in English; +1 200 / −500 (no-break space) in Russian."""
    text = f"{abs(n):,}".replace(",", "\xa0" if lang == "ru" else ",")
    return ("+" if n > 0 else "−" if n < 0 else "") + text


def decimal(value: float, lang: str) -> str:
    text = f"{value:.1f}"
    return text.replace(".", ",") if lang == "ru" else text


def body(lang: str, section: str, f: Figures) -> list[str]:
    t = tr(lang)
    match section:
        case "overview":
            return [
                t("admin-an-users", count=f.users, with_balance=f.with_balance),
                t("admin-an-circulation", points=f.circulation),
                t("admin-an-earned", points=f.earned),
                t("admin-an-spent", points=f.spent),
            ]
        case "day":
            earned, spent, moves, active, new = f.day
            return [
                t("admin-an-day-earned", points=earned),
                t("admin-an-day-spent", points=spent),
                t("admin-an-day-transactions", count=moves),
                t("admin-an-day-active", count=active),
                t("admin-an-day-new", count=new),
            ]
        case "types":
            return [
                t("admin-an-type", type=t(f"tx-{kind}"), count=count, total=signed(total, lang))
                for kind, (count, total) in sorted(f.by_type.items())
            ]
        case "levels":
            total = sum(f.levels.values())
            return [
                t(
                    "admin-an-level",
                    icon=LEVEL_ICONS[lv - 1],
                    name=LEVEL_NAMES[lang][lv - 1],
                    users=f.levels.get(lv, 0),
                    share=decimal(100 * f.levels.get(lv, 0) / total, lang),
                )
                for lv in range(1, 7)
            ]
        case "streaks":
            alive = f.streaks
            bands = [(label, sum(1 for s in alive if lo <= s <= hi)) for label, lo, hi in BANDS]
            bands.append(("100+", sum(1 for s in alive if s >= 100)))
            return [
                t("admin-an-streak-active", count=len(alive)),
                t("admin-an-streak-average", days=decimal(sum(alive) / len(alive), lang)),
                t("admin-an-streak-longest", days=max(alive)),
                "",
                t("admin-an-streak-bands"),
                *(t("admin-an-streak-band", band=label, users=n) for label, n in bands),
            ]
        case "top":
            medals = ["🥇", "🥈", "🥉", "4.", "5."]
            return [
                t(
                    "admin-an-top",
                    place=medals[i],
                    name=name,
                    id=str(uid),
                    balance=balance,
                    icon=LEVEL_ICONS[level - 1],
                )
                for i, (uid, balance, level, name) in enumerate(f.top)
            ]
    raise AssertionError(section)


def screen(lang: str, section: str, lines: list[str]) -> str:
    t = tr(lang)
    head = [t("admin-an-title", section=t(f"admin-an-tab-{section}"))]
    day = "10 Mar" if lang == "en" else "10 мар."  # unambiguous in both languages
    stamp = t("admin-an-updated", time=f"{day} 2026 12:00:00 (UTC)")
    return "\n".join([*head, "", *lines, "", stamp])


def analytics_buttons(lang: str, section: str) -> list[tuple[str, str]]:
    t = tr(lang)
    tabs = [
        (f"• {t(f'admin-an-tab-{s}')}" if s == section else t(f"admin-an-tab-{s}"), f"adm_an:{s}:0")
        for s in TABS
    ]
    return [
        *tabs,
        (t("admin-button-refresh"), f"adm_an:{section}:1"),
        (t("admin-menu-chart"), "adm_ch:30"),
        (t("admin-button-menu"), "adm"),
    ]


@pytest.fixture
async def scenario(
    harness: BotHarness,
    points: PointsService,
    sessions: async_sessionmaker[AsyncSession],
    clock: FakeClock,
) -> None:
    await build_ledger(points, sessions, clock)


async def admin_and_figures(
    harness: BotHarness, sessions: async_sessionmaker[AsyncSession], lang: str
) -> Figures:
    """The admin's first contact registers them (a new user too), then the expected figures."""
    await become_admin(harness, lang)
    return await figures(sessions, NOW)


async def test_the_scenario_is_what_it_says(
    scenario: None, sessions: async_sessionmaker[AsyncSession]
) -> None:
    """Sanity of the independent computation on a few hand-checked values."""
    f = await figures(sessions, NOW)
    assert (f.users, f.with_balance) == (5, 4)
    assert sorted(f.streaks) == [1, 1, 3]  # Boris (yesterday), Dan (today), Anna (today)
    assert f.day[3:] == (3, 1)  # Carol, Anna and Dan moved; Dan is new
    assert f.by_type["admin_deduct"] == (1, -500)  # the refused deduct is not counted
    assert [uid for uid, *_ in f.top] == [CAROL, BORIS, ANNA, DAN, EVE]


@pytest.mark.parametrize("lang", LANGS)
async def test_analytics_command_opens_the_overview(
    harness: BotHarness,
    sessions: async_sessionmaker[AsyncSession],
    scenario: None,
    lang: str,
) -> None:
    ledger_ready = await admin_and_figures(harness, sessions, lang)

    requests = await harness.send("/points_analytics", user_id=ADMIN)

    assert calls(requests) == [
        ("send", ADMIN, screen(lang, "overview", body(lang, "overview", ledger_ready)))
    ]
    assert buttons(requests[0]) == analytics_buttons(lang, "overview")


@pytest.mark.parametrize("section", SECTIONS)
@pytest.mark.parametrize("lang", LANGS)
async def test_each_section_button_shows_figures_matching_the_ledger(
    harness: BotHarness,
    sessions: async_sessionmaker[AsyncSession],
    scenario: None,
    section: str,
    lang: str,
) -> None:
    ledger_ready = await admin_and_figures(harness, sessions, lang)

    requests = await harness.press(f"adm_an:{section}:0", user_id=ADMIN)

    expected = screen(lang, section, body(lang, section, ledger_ready))
    assert calls(requests) == [("answer", None, None), ("edit", ADMIN, PRESSED_ID, expected)]
    assert buttons(requests[-1]) == analytics_buttons(lang, section)


@pytest.mark.parametrize("lang", LANGS)
async def test_refresh_shows_new_movements(
    harness: BotHarness,
    points: PointsService,
    sessions: async_sessionmaker[AsyncSession],
    scenario: None,
    lang: str,
) -> None:
    before = await admin_and_figures(harness, sessions, lang)
    await points.admin_grant(user_id=EVE, amount=777, admin_id=ADMIN)
    now = await figures(sessions, NOW)
    assert now.day[0] == before.day[0] + 777

    requests = await harness.press("adm_an:day:1", user_id=ADMIN)

    t = tr(lang)
    assert calls(requests) == [
        ("answer", t("admin-an-refreshed"), None),
        ("edit", ADMIN, PRESSED_ID, screen(lang, "day", body(lang, "day", now))),
    ]


def test_analytics_texts_literally() -> None:
    en, ru = tr("en"), tr("ru")
    assert en("admin-an-type", type="🎁 Daily bonus", count=1, total="+100") == (
        "🎁 Daily bonus: 1 transaction, <b>+100</b>"
    )
    assert ru("admin-an-type", type="x", count=3, total="+5") == "x: 3 транзакции, <b>+5</b>"
    assert ru("admin-an-streak-longest", days=5) == "🏆 Самая длинная серия: <b>5 дней</b>"
    assert en("admin-an-circulation", points=1_234_567) == (
        "💎 Points in circulation: <b>1,234,567</b>"
    )


@pytest.mark.parametrize("lang", LANGS)
async def test_an_empty_system_shows_zeros_and_no_data(harness: BotHarness, lang: str) -> None:
    await become_admin(harness, lang)  # the admin is the only user, with no points

    overview = await harness.press("adm_an:overview:0", user_id=ADMIN)
    types = await harness.press("adm_an:types:0", user_id=ADMIN)

    t = tr(lang)
    assert t("admin-an-users", count=1, with_balance=0) in calls(overview)[-1][3]
    assert t("admin-an-empty") in calls(types)[-1][3].splitlines()


# ---------------------------------------------------------------------------- the chart


@pytest.mark.parametrize("lang", LANGS)
async def test_chart_is_a_png_of_earned_vs_spent_per_day_for_30_days(
    harness: BotHarness,
    sessions: async_sessionmaker[AsyncSession],
    scenario: None,
    monkeypatch: pytest.MonkeyPatch,
    lang: str,
) -> None:
    ledger_ready = await admin_and_figures(harness, sessions, lang)
    drawn: list[tuple[list[tuple[date, int, int]], dict[str, str]]] = []
    real = charts.earned_vs_spent_png

    def spy(series: list[Any], **labels: str) -> bytes:
        drawn.append(([(p.day, p.earned, p.spent) for p in series], labels))
        return real(series, **labels)

    monkeypatch.setattr(charts, "earned_vs_spent_png", spy)

    requests = await harness.press("adm_ch:30", user_id=ADMIN)

    t = tr(lang)
    days = [NOW.date() - timedelta(days=29 - i) for i in range(30)]
    expected_series = [(d, *ledger_ready.per_day.get(d, (0, 0))) for d in days]
    earned = sum(e for _, e, _ in expected_series)
    spent = sum(s for _, _, s in expected_series)
    caption = t("admin-chart-caption", days=30, timezone="UTC", earned=earned, spent=spent)
    assert calls(requests) == [("answer", None, None), ("SendPhoto",)]
    (sent,) = only(requests, SendPhoto)
    assert sent.chat_id == ADMIN and sent.caption == caption
    ((series, labels),) = drawn
    assert series == expected_series
    assert labels == {
        "title": t("admin-chart-title", days=30),
        "earned_label": t("admin-chart-earned"),
        "spent_label": t("admin-chart-spent"),
        "language": lang,
    }
    photo = harness.session.photos[-1]
    assert photo.data.startswith(b"\x89PNG\r\n\x1a\n") and len(photo.data) > 10_000
    assert photo.filename == "points-30d.png"


@pytest.mark.parametrize("data", ["adm_ch:0", "adm_ch:100000"])
async def test_a_forged_chart_length_gets_the_stale_alert(harness: BotHarness, data: str) -> None:
    await become_admin(harness, "ru")

    requests = await harness.press(data, user_id=ADMIN)

    assert calls(requests) == [("answer", tr("ru")("admin-stale"), True)]
