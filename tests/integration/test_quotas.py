"""Daily tier quotas (SPEC 8) on a real PostgreSQL: the boundary, concurrency (tasks and
processes), release, redelivery, tiers, the day boundary in the bot's zone, failing open and
the purge of old rows."""

from __future__ import annotations

import asyncio
import multiprocessing
import queue
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from config.points_config import DEFAULT_RULES, PointsRules, RequestAction, Tier
from src.database.engine import create_engine
from src.services.failures import FailureCounter
from src.services.quota_service import PURGE_JOB, QuotaService
from src.services.quota_types import QuotaSlot
from src.services.user_service import UserService
from src.services.user_types import UserProfile
from tests.conftest import ContextFactory
from tests.support.clock import FakeClock
from tests.support.factories import create_user
from tests.support.quota_worker import QuotaTake, QuotaWorkerConfig, run_quota_worker

TEXT, VISION, CHART = RequestAction.TEXT, RequestAction.VISION, RequestAction.CHART
QuotaFactory = Callable[..., QuotaService]


@pytest.fixture
def failures() -> FailureCounter:
    return FailureCounter()


@pytest.fixture
def make_quotas(
    engine: AsyncEngine, clock: FakeClock, failures: FailureCounter, clean_db: None
) -> QuotaFactory:
    def build(
        *,
        rules: PointsRules = DEFAULT_RULES,
        timezone: str = "UTC",
        on: AsyncEngine | None = None,
        timeout: float = 3.0,
        use_clock: bool = True,
    ) -> QuotaService:
        return QuotaService(
            engine=on or engine,
            rules=rules,
            failures=failures,
            timezone=timezone,
            clock=clock if use_clock else None,
            timeout=timeout,
        )

    return build


@pytest.fixture
def quotas(make_quotas: QuotaFactory) -> QuotaService:
    return make_quotas()


async def profile(
    sessions: async_sessionmaker[AsyncSession], tier: Tier = Tier.FREE, **fields: datetime
) -> UserProfile:
    user_id = await create_user(sessions, tier=tier, **fields)
    user = await UserService(session_factory=sessions).get(user_id)
    assert user is not None
    return user


async def counters(sessions: async_sessionmaker[AsyncSession], user_id: int) -> dict[str, int]:
    async with sessions() as session:
        rows = await session.execute(
            text("SELECT action, sum(used) FROM request_quotas WHERE user_id = :u GROUP BY 1"),
            {"u": user_id},
        )
        return {action: int(used) for action, used in rows}


async def slot_keys(sessions: async_sessionmaker[AsyncSession], user_id: int) -> set[str]:
    async with sessions() as session:
        rows = await session.scalars(
            text("SELECT key FROM request_quota_slots WHERE user_id = :u"), {"u": user_id}
        )
        return set(rows)


async def fill(quotas: QuotaService, user: UserProfile, action: RequestAction, n: int) -> None:
    for i in range(n):
        assert (await quotas.take(user, action, f"fill:{action.value}:{i}")).granted


# ---------------------------------------------------------------------------- the boundary


async def test_the_30th_question_is_granted_and_the_31st_refused(
    quotas: QuotaService, sessions: async_sessionmaker[AsyncSession]
) -> None:
    user = await profile(sessions)

    slots = [await quotas.take(user, TEXT, f"text_req:1:{i}") for i in range(1, 32)]

    assert [s.used for s in slots[:30]] == list(range(1, 31))
    assert all(s.granted and s.counted and not s.replay and s.limit == 30 for s in slots[:30])
    refused = slots[30]
    assert (refused.granted, refused.used, refused.limit, refused.tier) == (
        False,
        30,
        30,
        Tier.FREE,
    )
    # FakeClock: 10 March 2026 12:00 UTC; TIMEZONE=UTC.
    assert refused.resets_at == datetime(2026, 3, 11, tzinfo=ZoneInfo("UTC"))
    assert refused.resets_in == timedelta(hours=12)
    assert await counters(sessions, user.telegram_id) == {TEXT.value: 30}
    assert len(await slot_keys(sessions, user.telegram_id)) == 30
    # Each action has its own quota.
    assert (await quotas.take(user, VISION, "vision_req:1:1")).granted


async def test_quotas_per_tier_and_action_are_the_rules(
    quotas: QuotaService, sessions: async_sessionmaker[AsyncSession]
) -> None:
    for tier, expected in {
        Tier.FREE: (30, 5, 10),
        Tier.BASIC: (150, 25, 50),
        Tier.PREMIUM: (500, 100, 200),
        Tier.VIP: (None, None, None),
    }.items():
        user = await profile(sessions, tier)
        assert tuple(quotas.limit(user, a) for a in (TEXT, VISION, CHART)) == expected


# ---------------------------------------------------------------------------- concurrency


async def test_concurrent_takes_never_overshoot(
    make_quotas: QuotaFactory, sessions: async_sessionmaker[AsyncSession]
) -> None:
    # The 40 takes queue on one row lock: on a loaded machine that can outlast the default
    # wait, and a take that fails open is not what this test measures.
    quotas = make_quotas(timeout=60)
    user = await profile(sessions)  # FREE: 5 images a day

    slots = await asyncio.gather(*(quotas.take(user, VISION, f"v:{i}") for i in range(40)))

    assert all(s.counted for s in slots)
    granted = [s for s in slots if s.granted]
    assert len(granted) == 5
    assert sorted(s.used or 0 for s in granted) == [1, 2, 3, 4, 5]
    assert all(s.used == 5 for s in slots if s.refused)
    assert await counters(sessions, user.telegram_id) == {VISION.value: 5}
    assert await slot_keys(sessions, user.telegram_id) == {s.key for s in granted}


def _collect(results: multiprocessing.Queue[list[QuotaTake]], n: int) -> list[QuotaTake]:
    taken: list[QuotaTake] = []
    for _ in range(n):
        try:
            taken += results.get(timeout=90)
        except queue.Empty:
            raise AssertionError("a quota worker sent no report") from None
    return taken


async def test_takes_from_several_processes_never_overshoot(
    app_database_url: str, clean_db: None, sessions: async_sessionmaker[AsyncSession]
) -> None:
    """Three processes take at once: each 20 keys of its own and the same 10 shared keys
    (one update delivered to three workers). FREE: 30 questions a day."""
    user = await profile(sessions)
    shared = tuple(f"shared:{i}" for i in range(10))
    configs = [
        QuotaWorkerConfig(
            app_database_url, user.telegram_id, (*shared, *(f"p{p}:{i}" for i in range(20)))
        )
        for p in range(3)
    ]
    ctx = multiprocessing.get_context("spawn")
    barrier = ctx.Barrier(len(configs))
    results: multiprocessing.Queue[list[QuotaTake]] = ctx.Queue()
    processes = [
        ctx.Process(target=run_quota_worker, args=(c, barrier, results), daemon=True)
        for c in configs
    ]
    for process in processes:
        process.start()
    try:
        taken = await asyncio.to_thread(_collect, results, len(processes))
    finally:
        for process in processes:
            process.join(timeout=15)
            if process.is_alive():  # only ever our own children
                process.kill()

    assert len(taken) == 90 and all(t.counted for t in taken)
    first_takes = Counter(t.key for t in taken if t.granted and not t.replay)
    assert sum(first_takes.values()) == 30  # exactly the quota, never more
    assert max(first_takes.values()) == 1  # a key holds one slot however often delivered
    assert await counters(sessions, user.telegram_id) == {TEXT.value: 30}
    assert await slot_keys(sessions, user.telegram_id) == set(first_takes)
    refused = [t for t in taken if not t.granted]
    assert len(refused) == 90 - 30 - sum(1 for t in taken if t.replay)
    assert all(t.key in first_takes for t in taken if t.replay)


# ---------------------------------------------------------------------------- release, replay


async def test_release_gives_the_slot_back_once(
    quotas: QuotaService, sessions: async_sessionmaker[AsyncSession]
) -> None:
    user = await profile(sessions)
    slots = [await quotas.take(user, VISION, f"v:{i}") for i in range(5)]
    refused = await quotas.take(user, VISION, "v:5")
    assert refused.refused

    await quotas.release(slots[2])  # that request was not served
    await quotas.release(slots[2])  # a second release gives nothing more back
    await quotas.release(refused)  # a refused slot holds nothing

    assert await counters(sessions, user.telegram_id) == {VISION.value: 4}
    again = await quotas.take(user, VISION, "v:6")
    assert (again.granted, again.used) == (True, 5)
    assert (await quotas.take(user, VISION, "v:7")).refused


async def test_a_redelivered_update_takes_no_second_slot(
    quotas: QuotaService, sessions: async_sessionmaker[AsyncSession]
) -> None:
    user = await profile(sessions)
    first = await quotas.take(user, VISION, "vision_req:1:1")
    again = await quotas.take(user, VISION, "vision_req:1:1")
    assert (first.replay, again.granted, again.replay, again.used) == (False, True, True, 1)

    await fill(quotas, user, VISION, 4)
    late = await quotas.take(user, VISION, "vision_req:1:1")  # delivered again at the limit

    assert (late.granted, late.replay, late.used) == (True, True, 5)
    assert (await quotas.take(user, VISION, "vision_req:1:2")).refused
    assert await counters(sessions, user.telegram_id) == {VISION.value: 5}


async def test_a_released_key_delivered_again_takes_a_fresh_slot(
    quotas: QuotaService, sessions: async_sessionmaker[AsyncSession]
) -> None:
    user = await profile(sessions)
    await quotas.release(await quotas.take(user, TEXT, "text_req:1:1"))

    retry = await quotas.take(user, TEXT, "text_req:1:1")

    assert (retry.granted, retry.replay, retry.used) == (True, False, 1)


# ---------------------------------------------------------------------------- tiers


async def test_an_expired_tier_falls_back_to_free_limits(
    quotas: QuotaService, sessions: async_sessionmaker[AsyncSession], clock: FakeClock
) -> None:
    expired = await profile(sessions, Tier.BASIC, tier_expires_at=clock() - timedelta(seconds=1))
    active = await profile(sessions, Tier.BASIC, tier_expires_at=clock() + timedelta(days=1))

    slot = await quotas.take(expired, TEXT, "t:1")

    assert (slot.tier, slot.limit) == (Tier.FREE, 30)
    assert expired.effective_tier(clock()) is Tier.FREE
    assert (await quotas.take(active, TEXT, "t:1")).limit == 150
    clock.advance(days=1)  # the subscription ends while the user keeps writing
    assert (await quotas.take(active, TEXT, "t:2")).limit == 30


async def test_vip_is_unlimited_but_counted(
    quotas: QuotaService, sessions: async_sessionmaker[AsyncSession]
) -> None:
    vip = await profile(sessions, Tier.VIP)
    async with sessions() as session, session.begin():
        await session.execute(
            text(
                "INSERT INTO request_quotas (user_id, day, action, used) "
                "VALUES (:u, '2026-03-10', :a, 100000)"
            ),
            {"u": vip.telegram_id, "a": CHART.value},
        )

    slot = await quotas.take(vip, CHART, "chart_req:1:1")

    assert (slot.granted, slot.limit, slot.used, slot.tier) == (True, None, 100_001, Tier.VIP)
    usage = await quotas.usage(vip)
    assert usage is not None and usage.unlimited
    assert usage.of(CHART).used == 100_001


# ---------------------------------------------------------------------------- the day


async def test_the_day_turns_at_midnight_in_the_bots_zone(
    make_quotas: QuotaFactory, sessions: async_sessionmaker[AsyncSession], clock: FakeClock
) -> None:
    quotas = make_quotas(timezone="Europe/Moscow")  # UTC+3
    user = await profile(sessions)
    clock.set(datetime(2026, 3, 10, 20, 59, tzinfo=UTC))  # 23:59 in Moscow
    await fill(quotas, user, VISION, 5)

    refused = await quotas.take(user, VISION, "late")
    clock.advance(seconds=61)  # 00:00:01 in Moscow, still 10 March in UTC
    fresh = await quotas.take(user, VISION, "after-midnight")

    assert refused.refused
    assert refused.resets_at == datetime(2026, 3, 11, tzinfo=ZoneInfo("Europe/Moscow"))
    assert refused.resets_in == timedelta(minutes=1)
    assert (fresh.granted, fresh.used) == (True, 1)
    usage = await quotas.usage(user)
    assert usage is not None and usage.day == date(2026, 3, 11)
    assert usage.of(VISION).used == 1


async def test_on_the_database_clock_the_day_is_todays(
    make_quotas: QuotaFactory, sessions: async_sessionmaker[AsyncSession]
) -> None:
    quotas = make_quotas(use_clock=False, timezone="Asia/Tokyo")
    user = await profile(sessions)

    slot = await quotas.take(user, TEXT, "t:1")

    today = datetime.now(ZoneInfo("Asia/Tokyo")).date()
    assert slot.resets_at.date() in {today + timedelta(days=1), today + timedelta(days=2)}
    assert timedelta(0) < slot.resets_in <= timedelta(hours=24)


# ---------------------------------------------------------------------------- failing open


async def test_an_unreachable_database_fails_open_and_is_counted(
    make_quotas: QuotaFactory,
    sessions: async_sessionmaker[AsyncSession],
    failures: FailureCounter,
) -> None:
    user = await profile(sessions)
    dead = create_engine("postgresql+asyncpg://nobody@127.0.0.1:1/none", pool_size=1)
    try:
        quotas = make_quotas(on=dead)
        slot = await quotas.take(user, TEXT, "t:1")
        await quotas.release(slot)  # nothing was counted: nothing to give back
        usage = await quotas.usage(user)
    finally:
        await dead.dispose()

    assert (slot.granted, slot.counted, slot.used, slot.limit) == (True, False, None, 30)
    assert usage is None
    assert failures.get("quota") == 2  # the take and the usage read; not the no-op release


async def test_a_stuck_database_fails_open_within_the_timeout(
    make_quotas: QuotaFactory,
    engine: AsyncEngine,
    sessions: async_sessionmaker[AsyncSession],
    failures: FailureCounter,
) -> None:
    quotas = make_quotas(timeout=0.3)
    user = await profile(sessions)
    assert (await quotas.take(user, TEXT, "t:1")).used == 1
    async with engine.connect() as blocker:
        await blocker.execute(
            text("SELECT 1 FROM request_quotas WHERE user_id = :u FOR UPDATE"),
            {"u": user.telegram_id},
        )
        started = time.monotonic()
        stuck = await quotas.take(user, TEXT, "t:2")
        waited = time.monotonic() - started
        await blocker.rollback()

    assert (stuck.granted, stuck.counted) == (True, False)
    assert waited < 2.0
    assert failures.get("quota") == 1
    after = await quotas.take(user, TEXT, "t:3")  # the pool recovered
    assert after.counted and after.granted


# ---------------------------------------------------------------------------- purge


async def test_the_purge_job_keeps_today_and_yesterday(
    make_context: ContextFactory,
    sessions: async_sessionmaker[AsyncSession],
    clock: FakeClock,
) -> None:
    context = make_context()
    quotas = context.quotas
    user = await profile(sessions)
    for days_ago in (3, 2, 1, 0):
        clock.set(datetime(2026, 3, 10, 12, tzinfo=UTC) - timedelta(days=days_ago))
        await quotas.take(user, TEXT, f"t:{days_ago}")

    assert PURGE_JOB in context.jobs.names
    assert await context.jobs.run_once(PURGE_JOB)

    async with sessions() as session:
        days = await session.scalars(
            text("SELECT day FROM request_quotas WHERE user_id = :u ORDER BY day"),
            {"u": user.telegram_id},
        )
        assert list(days) == [date(2026, 3, 9), date(2026, 3, 10)]
    assert await slot_keys(sessions, user.telegram_id) == {"t:1", "t:0"}
    assert await context.quotas.purge() == 0  # nothing left to purge


@pytest.fixture
async def no_user_quotas(make_quotas: QuotaFactory) -> AsyncIterator[QuotaService]:
    yield make_quotas()


async def test_no_user_is_served_uncounted(
    no_user_quotas: QuotaService, failures: FailureCounter
) -> None:
    slot: QuotaSlot = await no_user_quotas.take(None, TEXT, "t:1")

    assert (slot.granted, slot.counted, slot.user_id, slot.tier) == (True, False, None, Tier.FREE)
    assert failures.get("quota") == 0  # the failed registration was counted already
