"""Admin analytics: every section against figures computed here, independently, from the ledger.

The ledger is built through PointsService over a couple of weeks of fake time (users joining,
daily claims and broken streaks, requests including rate-limited ones, grants, deducts and
spends including refused ones, referrals, subscriptions), in UTC and in a zone with a DST
change inside the period. The expected figures come from `SELECT * FROM points_transactions`
and plain Python, never from the rollups or the balance rows the service reads.
"""

from __future__ import annotations

import asyncio
import itertools
import random
import struct
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from config.points_config import DEFAULT_RULES, RequestAction, Tier
from src.bot.charts import earned_vs_spent_figure, earned_vs_spent_png
from src.locales import translator
from src.locales.numbers import grouped
from src.services.analytics_service import (
    ROLLUP_GRACE,
    AnalyticsService,
    DailyPoint,
    LevelCount,
    Overview,
    TypeTotal,
    streak_bands,
)
from src.services.points_service import PointsService
from src.services.points_types import InvalidInputError
from src.services.user_service import UserService
from tests.conftest import ServiceFactory
from tests.support.clock import FakeClock
from tests.support.factories import next_user_id, set_tier

# Spans the US switch to summer time (2026-03-08), so a local day there is once 23 hours.
START = datetime(2026, 3, 1, 15, 0, tzinfo=UTC)
DAYS = 16
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


# ------------------------------------------------------------------ building the ledger


async def build_ledger(
    points: PointsService,
    sessions: async_sessionmaker[AsyncSession],
    clock: FakeClock,
    *,
    days: int = DAYS,
    seed: int = 7,
    start: datetime = START,
) -> list[int]:
    """A varied ledger through the service; returns the user ids in joining order."""
    rng = random.Random(seed)
    registry = UserService(session_factory=sessions, clock=clock)
    keys = itertools.count()
    users: list[int] = []
    loyal: list[int] = []  # claim every day: long streaks
    clock.set(start)
    for day in range(days):
        # Next day at a varying hour, so rows fall on both sides of local midnights.
        clock.set(max(clock(), start + timedelta(days=day, hours=rng.uniform(-9, 9))))
        for _ in range(4 if day == 0 else rng.randint(0, 2)):
            uid = next_user_id()
            await registry.register(telegram_id=uid, first_name=f"U{uid}")
            if rng.random() < 0.25:
                await set_tier(sessions, uid, rng.choice([Tier.BASIC, Tier.VIP]), FAR)
            users.append(uid)
            if len(loyal) < 2:
                loyal.append(uid)
        for uid in users:
            if uid in loyal or rng.random() < 0.6:
                await points.claim_daily_login(user_id=uid)
            for _ in range(rng.randint(0, 4)):
                action = rng.choice(list(RequestAction))
                await points.award_request(user_id=uid, action=action, key=f"r{next(keys)}")
                clock.advance(seconds=rng.choice([1, 4, 6, 12]))  # some inside the interval
            roll = rng.random()
            if roll < 0.08:
                await points.admin_grant(user_id=uid, amount=rng.randint(1, 40) * 50, admin_id=1)
            elif roll < 0.16:
                # Sometimes more than the balance: a recorded refusal.
                await points.spend(
                    user_id=uid, amount=rng.choice([50, 300, 5000]), key=f"s{next(keys)}"
                )
            elif roll < 0.20:
                await points.admin_deduct(user_id=uid, amount=rng.choice([10, 100_000]), admin_id=1)
            elif roll < 0.23 and len(users) > 1:
                other = rng.choice([u for u in users if u != uid])
                await points.award_referral_signup(referrer_id=uid, referred_id=other)
            elif roll < 0.25:
                await points.award_subscription(
                    user_id=uid, tier=Tier.PREMIUM, months=1, payment_id=f"p{next(keys)}"
                )
            clock.advance(seconds=rng.randint(1, 90))
    return users


FAR = datetime(2100, 1, 1, tzinfo=UTC)


# ------------------------------------------------------------------ independent figures


@dataclass
class Ledger:
    """Everything the sections show, computed from the raw rows in Python."""

    rows: list[dict[str, Any]]
    users: dict[int, tuple[datetime, str | None]]  # id -> (created_at, first_name)
    tz: ZoneInfo
    now: datetime
    final_balance: dict[int, int] = field(default_factory=dict)
    earned_by_user: Counter[int] = field(default_factory=Counter)

    def __post_init__(self) -> None:
        for r in self.rows:  # ordered by id: commit order per user
            uid = int(r["user_id"])
            self.final_balance[uid] = int(r["balance_after"])
            self.earned_by_user[uid] += max(int(r["amount"]), 0)

    @property
    def moves(self) -> list[dict[str, Any]]:
        return [r for r in self.rows if r["amount"] != 0]

    def local(self, moment: datetime) -> date:
        return moment.astimezone(self.tz).date()

    @property
    def today(self) -> date:
        return self.now.astimezone(self.tz).date()

    def overview(self) -> Overview:
        earned = sum(int(r["amount"]) for r in self.moves if int(r["amount"]) > 0)
        spent = -sum(int(r["amount"]) for r in self.moves if int(r["amount"]) < 0)
        assert sum(self.final_balance.values()) == earned - spent  # the ledger itself adds up
        return Overview(
            users_total=len(self.users),
            users_with_balance=sum(1 for b in self.final_balance.values() if b > 0),
            circulation=sum(self.final_balance.values()),
            lifetime_earned=earned,
            lifetime_spent=spent,
        )

    def last_24h(self) -> tuple[int, int, int, int, int]:
        since = self.now - timedelta(hours=24)
        recent = [r for r in self.moves if r["created_at"] >= since]
        amounts = [int(r["amount"]) for r in recent]
        return (
            sum(a for a in amounts if a > 0),
            -sum(a for a in amounts if a < 0),
            len(recent),
            len({r["user_id"] for r in recent}),
            sum(1 for created, _ in self.users.values() if created >= since),
        )

    def by_type(self) -> list[TypeTotal]:
        count: Counter[str] = Counter()
        total: Counter[str] = Counter()
        for r in self.moves:
            count[str(r["transaction_type"])] += 1
            total[str(r["transaction_type"])] += int(r["amount"])
        return [TypeTotal(t, count[t], total[t]) for t in sorted(count)]

    def levels(self) -> list[LevelCount]:
        per = Counter(DEFAULT_RULES.level_for(self.earned_by_user[u]) for u in self.users)
        n = len(self.users)
        return [
            LevelCount(lv.level, per[lv.level], per[lv.level] / n if n else 0.0)
            for lv in DEFAULT_RULES.levels
        ]

    def active_streaks(self) -> list[int]:
        """Current streak of every user whose streak is alive, from claim dates alone."""
        claims: dict[int, list[date]] = defaultdict(list)
        for r in self.rows:
            if r["transaction_type"] == "earn_daily_login":
                claims[int(r["user_id"])].append(self.local(r["created_at"]))
        alive = []
        yesterday = self.today - timedelta(days=1)
        for dates in claims.values():
            dates.sort()
            if dates[-1] < yesterday:
                continue
            streak = 1
            for earlier, later in itertools.pairwise(dates):
                streak = streak + 1 if (later - earlier).days == 1 else 1
            alive.append(streak)
        return alive

    def top(self, limit: int) -> list[tuple[int, int, int, str]]:
        order = sorted(self.users, key=lambda u: (-self.final_balance.get(u, 0), u))[:limit]
        return [
            (rank, u, self.final_balance.get(u, 0), self.users[u][1] or "")
            for rank, u in enumerate(order, 1)
        ]

    def daily(self, days: int) -> list[DailyPoint]:
        first = self.today - timedelta(days=days - 1)
        earned: Counter[date] = Counter()
        spent: Counter[date] = Counter()
        for r in self.moves:
            day, amount = self.local(r["created_at"]), int(r["amount"])
            if amount > 0:
                earned[day] += amount
            else:
                spent[day] -= amount
        return [
            DailyPoint(d, earned[d], spent[d])
            for d in (first + timedelta(days=i) for i in range(days))
        ]


async def read_ledger(engine: AsyncEngine, timezone: str, now: datetime) -> Ledger:
    async with engine.connect() as conn:
        rows = (
            await conn.execute(text("SELECT * FROM points_transactions ORDER BY id"))
        ).mappings()
        ledger_rows = [dict(r) for r in rows.all()]
        users = (
            await conn.execute(text("SELECT telegram_id, created_at, first_name FROM users"))
        ).all()
    return Ledger(
        rows=ledger_rows,
        users={int(u): (c, f) for u, c, f in users},
        tz=ZoneInfo(timezone),
        now=now,
    )


def analytics_for(
    engine: AsyncEngine,
    sessions: async_sessionmaker[AsyncSession],
    clock: FakeClock,
    timezone: str = "UTC",
) -> AnalyticsService:
    return AnalyticsService(
        engine=engine, session_factory=sessions, rules=DEFAULT_RULES, timezone=timezone, clock=clock
    )


async def assert_sections_match(service: AnalyticsService, engine: AsyncEngine) -> None:
    expected = await read_ledger(engine, service.timezone, service.now())
    assert await service.overview() == expected.overview()
    last = await service.last_24h()
    assert (
        last.earned,
        last.spent,
        last.transactions,
        last.active_users,
        last.new_users,
    ) == expected.last_24h()
    assert await service.by_type() == expected.by_type()
    assert await service.levels() == expected.levels()

    streaks = await service.streaks()
    alive = expected.active_streaks()
    assert streaks.active == len(alive)
    assert streaks.longest == max(alive, default=0)
    assert streaks.average == pytest.approx(sum(alive) / len(alive) if alive else 0.0)
    bands = streak_bands(sorted(DEFAULT_RULES.streak_bonuses))
    assert streaks.bands == [
        (label, sum(1 for s in alive if s >= low and (high is None or s <= high)))
        for label, low, high in bands
    ]

    top = await service.top(5)
    assert [(e.rank, e.user_id, e.balance, e.display_name) for e in top] == expected.top(5)
    assert await service.daily_series(30) == expected.daily(30)
    assert await service.daily_series(3) == expected.daily(3)


async def rollup_state(engine: AsyncEngine) -> tuple[str, date | None, datetime | None] | None:
    async with engine.connect() as conn:
        row = (
            await conn.execute(
                text("SELECT timezone, rolled_through, rolled_until FROM points_rollup_state")
            )
        ).first()
    return (row[0], row[1], row[2]) if row else None


def watermark(service: AnalyticsService) -> datetime:
    """ROLLUP_GRACE before the service's clock, down to the minute (computed here)."""
    return (service.now() - ROLLUP_GRACE).replace(second=0, microsecond=0)


def expected_state(service: AnalyticsService) -> tuple[str, date, datetime]:
    until = watermark(service)
    last_full_day = until.astimezone(ZoneInfo(service.timezone)).date() - timedelta(days=1)
    return service.timezone, last_full_day, until


def totals_per_day(
    ledger: Ledger, rows: list[dict[str, Any]]
) -> dict[tuple[date, str], tuple[int, int, int]]:
    out: dict[tuple[date, str], tuple[int, int, int]] = {}
    for r in rows:
        key = (ledger.local(r["created_at"]), str(r["transaction_type"]))
        count, credits, debits = out.get(key, (0, 0, 0))
        amount = int(r["amount"])
        out[key] = (count + 1, credits + max(amount, 0), debits + max(-amount, 0))
    return out


async def stored_totals(engine: AsyncEngine) -> dict[tuple[date, str], tuple[int, int, int]]:
    async with engine.connect() as conn:
        rows = await conn.execute(
            text("SELECT day, transaction_type, tx_count, credits, debits FROM points_daily_totals")
        )
        return {(d, t): (n, c, s) for d, t, n, c, s in rows.all()}


def rolled_rows(ledger: Ledger, service: AnalyticsService) -> list[dict[str, Any]]:
    return [r for r in ledger.moves if r["created_at"] < watermark(service)]


# ------------------------------------------------------------------ tests


async def test_every_section_matches_the_ledger_across_days(
    points: PointsService,
    engine: AsyncEngine,
    sessions: async_sessionmaker[AsyncSession],
    clock: FakeClock,
) -> None:
    await build_ledger(points, sessions, clock)
    service = analytics_for(engine, sessions, clock)
    assert await rollup_state(engine) is None
    await assert_sections_match(service, engine)
    # Rolled up on the way to the watermark (today included); only the rows since are live.
    assert await rollup_state(engine) == expected_state(service)
    expected = await read_ledger(engine, "UTC", clock())
    rolled = rolled_rows(expected, service)
    assert 0 < len(rolled) < len(expected.moves)
    assert await stored_totals(engine) == totals_per_day(expected, rolled)

    # Two more days of activity: the watermark crosses the new midnights, figures stay exact.
    await build_ledger(points, sessions, clock, days=2, seed=8, start=clock() + timedelta(days=1))
    await assert_sections_match(service, engine)
    assert await rollup_state(engine) == expected_state(service)
    # Minutes later the watermark moved on, adding to the totals of the current day.
    clock.advance(minutes=7)
    await assert_sections_match(service, engine)
    expected = await read_ledger(engine, "UTC", clock())
    assert await stored_totals(engine) == totals_per_day(expected, rolled_rows(expected, service))


async def test_sections_follow_a_zone_with_a_dst_change(
    make_service: ServiceFactory,
    clean_db: None,
    engine: AsyncEngine,
    sessions: async_sessionmaker[AsyncSession],
    clock: FakeClock,
) -> None:
    zone = "America/Los_Angeles"
    await build_ledger(make_service(timezone=zone), sessions, clock, seed=11)
    service = analytics_for(engine, sessions, clock, zone)
    await assert_sections_match(service, engine)
    assert await rollup_state(engine) == expected_state(service)
    expected = await read_ledger(engine, zone, clock())
    assert await stored_totals(engine) == totals_per_day(expected, rolled_rows(expected, service))
    # The series is cut at Los Angeles midnights, not UTC ones.
    utc_series = (await read_ledger(engine, "UTC", clock())).daily(30)
    assert await service.daily_series(30) != utc_series


async def test_a_new_zone_rebuilds_the_rollups(
    points: PointsService,
    engine: AsyncEngine,
    sessions: async_sessionmaker[AsyncSession],
    clock: FakeClock,
) -> None:
    await build_ledger(points, sessions, clock, seed=3)
    utc = analytics_for(engine, sessions, clock)
    await utc.refresh_rollups()
    tokyo = analytics_for(engine, sessions, clock, "Asia/Tokyo")
    expected = await read_ledger(engine, "Asia/Tokyo", clock())
    assert await tokyo.by_type() == expected.by_type()
    assert await tokyo.overview() == expected.overview()
    assert await tokyo.daily_series(30) == expected.daily(30)
    assert await rollup_state(engine) == expected_state(tokyo)
    assert await stored_totals(engine) == totals_per_day(expected, rolled_rows(expected, tokyo))
    # Back to UTC: rebuilt again, and equal to the UTC figures.
    assert await utc.daily_series(30) == (await read_ledger(engine, "UTC", clock())).daily(30)
    assert await rollup_state(engine) == expected_state(utc)


async def test_concurrent_materialisation_counts_every_row_once(
    points: PointsService,
    engine: AsyncEngine,
    sessions: async_sessionmaker[AsyncSession],
    clock: FakeClock,
) -> None:
    await build_ledger(points, sessions, clock, seed=5)
    services = [analytics_for(engine, sessions, clock) for _ in range(8)]
    results = await asyncio.gather(*(s.refresh_rollups() for s in services))
    assert set(results) == {watermark(services[0])}
    expected = await read_ledger(engine, "UTC", clock())
    rolled = rolled_rows(expected, services[0])
    assert await stored_totals(engine) == totals_per_day(expected, rolled)
    sections = await asyncio.gather(*(s.by_type() for s in services))
    assert all(found == expected.by_type() for found in sections)


async def test_the_watermark_trails_the_clock_across_midnight(
    points: PointsService,
    engine: AsyncEngine,
    sessions: async_sessionmaker[AsyncSession],
    clock: FakeClock,
) -> None:
    users = await build_ledger(points, sessions, clock, days=3, seed=9)
    midnight = datetime.combine(clock().date() + timedelta(days=1), datetime.min.time(), UTC)
    clock.set(midnight - timedelta(seconds=20))
    await points.admin_grant(user_id=users[0], amount=77, admin_id=1)
    clock.set(midnight + ROLLUP_GRACE / 2)  # yesterday's last seconds are still in grace
    await points.admin_grant(user_id=users[1], amount=55, admin_id=1)
    service = analytics_for(engine, sessions, clock)
    until = await service.refresh_rollups()
    assert until == watermark(service) == midnight - timedelta(minutes=1)
    assert await rollup_state(engine) == ("UTC", midnight.date() - timedelta(days=2), until)
    await assert_sections_match(service, engine)
    expected = await read_ledger(engine, "UTC", clock())
    assert await stored_totals(engine) == totals_per_day(expected, rolled_rows(expected, service))
    clock.advance(seconds=10)  # the same watermark minute: nothing to do
    assert await service.refresh_rollups() == until
    clock.advance(seconds=ROLLUP_GRACE.total_seconds() + 60)
    assert await service.refresh_rollups() == watermark(service) > midnight
    assert await rollup_state(engine) == expected_state(service)
    assert expected_state(service)[1] == midnight.date() - timedelta(days=1)
    await assert_sections_match(service, engine)
    expected = await read_ledger(engine, "UTC", clock())
    assert await stored_totals(engine) == totals_per_day(expected, rolled_rows(expected, service))


async def test_a_running_writer_keeps_its_rows_live(
    points: PointsService,
    engine: AsyncEngine,
    sessions: async_sessionmaker[AsyncSession],
    clock: FakeClock,
) -> None:
    # Ledger rows stamped in the future of the real clock, so every transaction running now
    # started before the watermark.
    future = datetime(2031, 1, 5, 12, tzinfo=UTC)
    await build_ledger(points, sessions, clock, days=3, seed=4, start=future)
    service = analytics_for(engine, sessions, clock)
    expected = await read_ledger(engine, "UTC", clock())
    async with engine.connect() as writer:
        await writer.execute(text("SELECT pg_current_xact_id()"))  # holds an xid, stays open
        assert await service.refresh_rollups() is None
        assert await service.by_type() == expected.by_type()  # exact without rollups
        await writer.rollback()
    assert await service.refresh_rollups() == watermark(service)
    assert await service.by_type() == expected.by_type()


async def test_empty_system_gives_zeros(
    points: PointsService,
    engine: AsyncEngine,
    sessions: async_sessionmaker[AsyncSession],
    clock: FakeClock,
) -> None:
    service = analytics_for(engine, sessions, clock)
    assert await service.overview() == Overview(0, 0, 0, 0, 0)
    last = await service.last_24h()
    assert (last.earned, last.spent, last.transactions, last.active_users, last.new_users) == (
        0,
    ) * 5
    assert await service.by_type() == []
    assert await service.levels() == [LevelCount(lv, 0, 0.0) for lv in range(1, 7)]
    streaks = await service.streaks()
    assert (streaks.active, streaks.average, streaks.longest) == (0, 0.0, 0)
    assert streaks.bands == [(b, 0) for b in ("1-2", "3-6", "7-13", "14-29", "30-99", "100+")]
    assert await service.top() == []
    series = await service.daily_series()
    assert len(series) == 30 and series[-1].day == clock().date()
    assert all(p.earned == p.spent == 0 for p in series)


async def test_bad_arguments_are_refused(
    engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession], clock: FakeClock
) -> None:
    service = analytics_for(engine, sessions, clock)
    for bad in (0, -1, 101, True, 2.5):
        with pytest.raises(InvalidInputError):
            await service.top(bad)  # type: ignore[arg-type]
    for bad in (0, 367, "30"):
        with pytest.raises(InvalidInputError):
            await service.daily_series(bad)  # type: ignore[arg-type]


def test_streak_bands_follow_the_milestones() -> None:
    assert [label for label, _, _ in streak_bands([1, 3, 7, 14, 30, 100])] == [
        "1-2", "3-6", "7-13", "14-29", "30-99", "100+",
    ]  # fmt: skip
    assert streak_bands([2, 5]) == [("1", 1, 1), ("2-4", 2, 4), ("5+", 5, None)]


def test_chart_is_a_png_of_sensible_size() -> None:
    first = date(2026, 3, 1)
    series = [
        DailyPoint(first + timedelta(days=i), 10_000 + 900 * i, 3_000 + (i % 7) * 400)
        for i in range(30)
    ]
    png = earned_vs_spent_png(
        series, title="Начислено и потрачено", earned_label="Начислено", spent_label="Потрачено"
    )
    assert png.startswith(PNG_SIGNATURE)
    assert 10_000 < len(png) < 400_000
    width, height = struct.unpack(">II", png[16:24])  # the IHDR chunk
    assert (width, height) == (900, 450)
    empty = earned_vs_spent_png([], title="x", earned_label="e", spent_label="s")
    assert empty.startswith(PNG_SIGNATURE)


@pytest.mark.parametrize("lang", ["en", "ru"])
def test_chart_axes_write_numbers_and_dates_as_the_caption_does(lang: str) -> None:
    """One thousands separator on the picture and under it; days with a month name."""
    first = date(2026, 3, 1)
    series = [DailyPoint(first + timedelta(days=i), 10_000 + 900 * i, 3_000) for i in range(30)]
    figure = earned_vs_spent_figure(
        series, title="t", earned_label="e", spent_label="s", language=lang
    )
    figure.canvas.draw()
    axes = figure.axes[0]
    y_labels = [label.get_text() for label in axes.get_yticklabels()]
    x_labels = [label.get_text() for label in axes.get_xticklabels()]

    thousands = [label for label in y_labels if len(label) > 3]
    assert thousands, y_labels
    caption = translator(lang)(
        "admin-chart-caption", days=30, timezone="UTC", earned=12_345, spent=0
    )
    separator = grouped(12_345, lang)[2]  # "," or a no-break space
    assert grouped(12_345, lang) in caption
    for label in thousands:
        assert label == grouped(int(label.replace(separator, "")), lang), (label, y_labels)
    months = ("Mar", "Apr") if lang == "en" else ("мар.", "апр.")
    assert x_labels and all(label.split(" ", 1)[1] in months for label in x_labels), x_labels
