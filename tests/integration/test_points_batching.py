"""Group commit (src/services/earn_batcher.py, points_batch in migration 0006).

Movements started in the same turn of the event loop are queued together and go out as one
call of `points_batch`; these tests start them with `asyncio.gather`, so they share a batch,
and read the batcher's counters to prove it.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from structlog.testing import capture_logs

from config.points_config import DEFAULT_RULES
from config.settings import PROJECT_ROOT
from src.database.engine import create_engine, create_session_factory
from src.services.earn_batcher import BatchConfig, BatcherClosedError, EarnBatcher
from src.services.ledger_audit import audit_ledger
from src.services.points_service import PointsService
from src.services.points_types import IdempotencyConflictError, Outcome, PointsOutcome
from tests.conftest import ServiceFactory
from tests.support.clock import FakeClock
from tests.support.factories import create_user

TEXT = "earn_text_request"
ROWS = text("SELECT user_id, transaction_id, amount FROM points_transactions ORDER BY id")


def batcher_of(points: PointsService) -> EarnBatcher:
    assert points.batcher is not None, "batching is on by default"
    return points.batcher


async def at_once(*calls: Awaitable[PointsOutcome]) -> list[PointsOutcome | BaseException]:
    return await asyncio.gather(*calls, return_exceptions=True)


async def ledger(engine: AsyncEngine) -> list[tuple[int, str, int]]:
    async with engine.connect() as conn:
        return [(u, k, a) for u, k, a in await conn.execute(ROWS)]


@contextmanager
def timers_armed() -> Iterator[list[str]]:
    """Who armed each timer on the running loop meanwhile: the file of the first frame
    outside asyncio (call_later and asyncio.sleep go through call_at)."""
    loop = asyncio.get_running_loop()
    armed: list[str] = []
    original = loop.call_at
    asyncio_dir = str(Path(asyncio.__file__).parent)

    def spy(when: float, callback: Callable[..., object], *args: Any, **kw: Any) -> Any:
        frame = sys._getframe(1)
        while frame.f_back is not None and frame.f_code.co_filename.startswith(asyncio_dir):
            frame = frame.f_back
        armed.append(frame.f_code.co_filename)
        return original(when, callback, *args, **kw)

    loop.call_at = spy  # type: ignore[method-assign]
    try:
        yield armed
    finally:
        del loop.call_at  # back to the class's method


async def test_a_lone_earn_goes_out_at_once_and_alone(
    points: PointsService, sessions: async_sessionmaker[AsyncSession]
) -> None:
    user = await create_user(sessions)
    batcher = batcher_of(points)
    with timers_armed() as armed:
        call = asyncio.create_task(points.award_request(user_id=user, action=TEXT, key="k1"))
        await asyncio.sleep(0)  # the caller runs: its movement is queued, a flusher started
        assert batcher.waiting == 1
        await asyncio.sleep(0)  # the next turn: the flusher has taken it and is sending it
        assert batcher.waiting == 0
        outcome = await call
        asyncio.get_running_loop().call_later(0, lambda: None).cancel()  # the spy's self-test
    assert outcome.outcome is Outcome.AWARDED and outcome.amount == 10
    assert armed[-1] == __file__, "the spy names who armed a timer"
    # asyncpg may arm its own statement-cache expiry timers; none may come from our code.
    ours = [f for f in armed if f.startswith(str(PROJECT_ROOT / "src"))]
    assert ours == [], "no timer: a lone movement never waits for company"
    assert (batcher.stats.calls, batcher.stats.items, batcher.stats.largest) == (1, 1, 1)


async def test_movements_started_together_share_one_call(
    points: PointsService, sessions: async_sessionmaker[AsyncSession], engine: AsyncEngine
) -> None:
    users = [await create_user(sessions) for _ in range(5)]
    outcomes = await at_once(
        *(points.award_request(user_id=u, action=TEXT, key=f"k{u}") for u in reversed(users)),
        *(points.admin_grant(user_id=u, amount=7, admin_id=1, key=f"g{u}") for u in users),
        *(points.claim_daily_login(user_id=u) for u in users),
    )
    assert all(isinstance(o, PointsOutcome) and o.paid for o in outcomes), outcomes
    stats = batcher_of(points).stats
    assert (stats.calls, stats.items, stats.fallbacks) == (1, 15, 0)
    # Applied in user order, each user's movements in the order they were started.
    by_user = [row[0] for row in await ledger(engine)]
    assert by_user == sorted(by_user)
    assert {o.balance_after for o in outcomes if isinstance(o, PointsOutcome)} >= {117}
    assert (await audit_ledger(engine, DEFAULT_RULES, "UTC")).ok


async def test_replays_inside_one_batch(
    points: PointsService, sessions: async_sessionmaker[AsyncSession], engine: AsyncEngine
) -> None:
    user = await create_user(sessions)
    earn, again, conflict, daily, daily_again, grant, grant_again, grant_other = await at_once(
        points.award_request(user_id=user, action=TEXT, key="req:1"),
        points.award_request(user_id=user, action=TEXT, key="req:1"),
        points.award_request(user_id=user, action="earn_vision_request", key="req:1"),
        points.claim_daily_login(user_id=user),
        points.claim_daily_login(user_id=user),
        points.admin_grant(user_id=user, amount=100, admin_id=1, key="grant:1"),
        points.admin_grant(user_id=user, amount=100, admin_id=1, key="grant:1"),
        points.admin_grant(user_id=user, amount=200, admin_id=1, key="grant:1"),
    )
    assert batcher_of(points).stats.largest == 8, "all eight went out in one call"
    assert isinstance(earn, PointsOutcome) and isinstance(again, PointsOutcome)
    assert (earn.outcome, earn.amount, earn.duplicate) == (Outcome.AWARDED, 10, False)
    assert (again.outcome, again.amount, again.balance_after, again.duplicate) == (
        Outcome.AWARDED,
        10,
        earn.balance_after,
        True,
    )
    assert isinstance(conflict, IdempotencyConflictError)
    assert isinstance(daily, PointsOutcome) and isinstance(daily_again, PointsOutcome)
    assert (daily.amount, daily.streak, daily.duplicate) == (100, 1, False)
    assert (daily_again.amount, daily_again.streak, daily_again.duplicate) == (100, 1, True)
    assert daily_again.transaction_id == daily.transaction_id
    assert isinstance(grant, PointsOutcome) and isinstance(grant_again, PointsOutcome)
    assert (grant.amount, grant.balance_after, grant.duplicate) == (100, 210, False)
    assert (grant_again.amount, grant_again.balance_after, grant_again.duplicate) == (
        100,
        210,
        True,
    )
    assert isinstance(grant_other, IdempotencyConflictError)
    rows = await ledger(engine)
    assert [(k, a) for _, k, a in rows] == [
        ("req:1", 10),
        (daily.transaction_id, 100),
        ("grant:1", 100),
    ]
    assert (await audit_ledger(engine, DEFAULT_RULES, "UTC")).ok


async def test_a_poisoned_item_fails_alone(
    points: PointsService, sessions: async_sessionmaker[AsyncSession], engine: AsyncEngine
) -> None:
    """The database refuses the whole batch's arguments (a NUL is not valid in jsonb): the
    items are sent again one by one, and only the bad one's caller gets an error."""
    first, poisoned, last = [await create_user(sessions) for _ in range(3)]
    ok_1, bad, ok_2 = await at_once(
        points.award_request(user_id=first, action=TEXT, key="a"),
        points.award_request(user_id=poisoned, action=TEXT, key="b", metadata={"n": "\x00"}),
        points.award_request(user_id=last, action=TEXT, key="c"),
    )
    assert isinstance(ok_1, PointsOutcome) and ok_1.amount == 10
    assert isinstance(ok_2, PointsOutcome) and ok_2.amount == 10
    assert isinstance(bad, asyncpg.PostgresError) and bad.sqlstate == "22P05"
    stats = batcher_of(points).stats
    assert (stats.calls, stats.items, stats.fallbacks) == (1, 3, 1)
    assert await ledger(engine) == [(first, "a", 10), (last, "c", 10)]


async def test_an_item_failing_mid_batch_leaves_nothing_half_written(
    make_service: ServiceFactory,
    clean_db: None,
    sessions: async_sessionmaker[AsyncSession],
    engine: AsyncEngine,
) -> None:
    """The middle user's key is longer than the ledger column (rules allowing 256): the
    function fails after the first user's movement was applied in the same transaction."""
    points = make_service(
        rules=DEFAULT_RULES.model_copy(update={"max_transaction_key_length": 256})
    )
    first, poisoned, last = [await create_user(sessions) for _ in range(3)]
    results = await at_once(
        points.admin_grant(user_id=last, amount=5, admin_id=1, key="c"),
        points.admin_grant(user_id=poisoned, amount=5, admin_id=1, key="b" * 200),
        points.admin_grant(user_id=first, amount=5, admin_id=1, key="a"),
    )
    assert isinstance(results[1], asyncpg.PostgresError) and results[1].sqlstate == "22001"
    assert [r.balance_after for r in (results[0], results[2]) if isinstance(r, PointsOutcome)] == [
        5,
        5,
    ]
    assert batcher_of(points).stats.fallbacks == 1
    assert sorted(await ledger(engine)) == [(first, "a", 5), (last, "c", 5)]
    assert (await audit_ledger(engine, DEFAULT_RULES, "UTC")).ok


async def test_batches_racing_on_the_same_users_do_not_deadlock(
    app_database_url: str,
    clean_db: None,
    sessions: async_sessionmaker[AsyncSession],
    engine: AsyncEngine,
    clock: FakeClock,
) -> None:
    """Two services (as two processes: own pools, own batchers) send batches over the same
    users started in opposite orders; the function takes rows in user order, so no batch ever
    waits for a lock another holds while holding one it wants."""
    users = [await create_user(sessions) for _ in range(8)]
    engines = [create_engine(app_database_url, pool_size=2) for _ in range(2)]
    services = [
        PointsService(
            engine=e, session_factory=create_session_factory(e), rules=DEFAULT_RULES, clock=clock
        )
        for e in engines
    ]
    try:
        with capture_logs() as logs:
            for round_ in range(25):
                orders = [users, users[::-1]]
                await asyncio.gather(
                    *(
                        at_once(
                            *(
                                s.admin_grant(
                                    user_id=u, amount=1, admin_id=1, key=f"r{round_}:{n}:{u}"
                                )
                                for u in order
                            )
                        )
                        for n, (s, order) in enumerate(zip(services, orders, strict=True))
                    )
                )
    finally:
        for engine_ in engines:
            await engine_.dispose()
    retried = [e for e in logs if e["event"] == "points call retried"]
    assert retried == [], "a deadlock (40P01) was detected and retried"
    assert all(batcher_of(s).stats.largest == 8 for s in services)
    async with engine.connect() as conn:
        balances = set((await conn.scalars(text("SELECT balance FROM points_balances"))).all())
    assert balances == {50}
    assert (await audit_ledger(engine, DEFAULT_RULES, "UTC")).ok


async def _backend_waiting_in(engine: AsyncEngine, function: str, *, not_pid: int = 0) -> int:
    """The pid of the backend running `function`, once it waits for a row lock."""
    for _ in range(500):
        async with engine.connect() as conn:
            pid = await conn.scalar(
                text(
                    "SELECT pid FROM pg_stat_activity WHERE query LIKE :q "
                    "AND wait_event_type = 'Lock' AND pid NOT IN (pg_backend_pid(), :other)"
                ),
                {"q": f"%{function}(%", "other": not_pid},
            )
        if pid is not None:
            return int(pid)
        await asyncio.sleep(0.01)
    raise AssertionError(f"no backend waiting in {function}")


async def test_connection_lost_mid_batch_is_retried(
    app_database_url: str,
    clean_db: None,
    sessions: async_sessionmaker[AsyncSession],
    engine: AsyncEngine,
    clock: FakeClock,
) -> None:
    """The server ends the batch's session while it waits for a lock half-way through: the
    batch (rolled back) is sent again on a new connection and every caller gets its answer."""
    users = [await create_user(sessions) for _ in range(3)]
    own = create_engine(app_database_url, pool_size=2)  # its own pool: the others stay healthy
    points = PointsService(
        engine=own, session_factory=create_session_factory(own), rules=DEFAULT_RULES, clock=clock
    )
    try:
        async with engine.connect() as blocker:
            blocking = await blocker.begin()
            await blocker.execute(
                text("SELECT 1 FROM points_balances WHERE user_id = :u FOR UPDATE"),
                {"u": users[1]},
            )
            with capture_logs() as logs:
                calls = asyncio.ensure_future(
                    at_once(
                        *(points.award_request(user_id=u, action=TEXT, key=f"k{u}") for u in users)
                    )
                )
                victim = await _backend_waiting_in(engine, "points_batch")
                async with engine.connect() as killer:
                    assert await killer.scalar(
                        text("SELECT pg_terminate_backend(:pid)"), {"pid": victim}
                    )
                # The retry, on another connection, waits for the same lock: let it through.
                await _backend_waiting_in(engine, "points_batch", not_pid=victim)
                await blocking.commit()
                outcomes = await calls
    finally:
        await own.dispose()
    assert [(o.amount, o.duplicate) for o in outcomes if isinstance(o, PointsOutcome)] == [
        (10, False)
    ] * 3, outcomes
    assert any(e["event"] == "points call retried" for e in logs)
    stats = batcher_of(points).stats
    assert (stats.calls, stats.fallbacks) == (1, 0)
    assert sorted(await ledger(engine)) == [(u, f"k{u}", 10) for u in users]


async def test_a_batch_chosen_as_deadlock_victim_is_retried(
    points: PointsService, sessions: async_sessionmaker[AsyncSession], engine: AsyncEngine
) -> None:
    """Another transaction locks the rows in the opposite order; PostgreSQL aborts the batch
    (40P01), and the retry goes through once the other transaction is done."""
    low, high = [await create_user(sessions) for _ in range(2)]
    lock = text("SELECT 1 FROM points_balances WHERE user_id = :u FOR UPDATE")
    async with engine.connect() as other:
        txn = await other.begin()
        await other.execute(lock, {"u": high})
        with capture_logs() as logs:
            calls = asyncio.ensure_future(
                at_once(
                    points.award_request(user_id=low, action=TEXT, key="l"),
                    points.award_request(user_id=high, action=TEXT, key="h"),
                )
            )
            await _backend_waiting_in(engine, "points_batch")  # holds `low`, waits for `high`
            try:
                await other.execute(lock, {"u": low})  # closes the cycle
            finally:
                await txn.commit()
            outcomes = await calls
    assert [o.amount for o in outcomes if isinstance(o, PointsOutcome)] == [10, 10], outcomes
    assert [e.get("sqlstate") for e in logs if e["event"] == "points call retried"] == ["40P01"]
    assert batcher_of(points).stats.fallbacks == 0


async def test_shutdown_answers_every_waiting_caller(
    make_service: ServiceFactory, clean_db: None, sessions: async_sessionmaker[AsyncSession]
) -> None:
    points = make_service()
    users = [await create_user(sessions) for _ in range(6)]
    calls = asyncio.ensure_future(
        at_once(*(points.award_request(user_id=u, action=TEXT, key="k") for u in users))
    )
    await asyncio.sleep(0)  # gather starts the callers ...
    await asyncio.sleep(0)  # ... they queue; no flusher has run yet
    assert batcher_of(points).waiting == 6
    await points.aclose()
    assert [o.amount for o in await calls if isinstance(o, PointsOutcome)] == [10] * 6
    # After the close, movements still work, one by one.
    later = await points.award_request(user_id=users[0], action="earn_chart_request", key="x")
    assert later.amount == 15
    assert batcher_of(points).stats.items == 6


async def test_shutdown_never_leaves_a_caller_hanging(
    app_database_url: str,
    clean_db: None,
    sessions: async_sessionmaker[AsyncSession],
    engine: AsyncEngine,
    clock: FakeClock,
) -> None:
    """A batch stuck behind a lock past the shutdown timeout: its callers get an error."""
    users = [await create_user(sessions) for _ in range(2)]
    own = create_engine(app_database_url, pool_size=2)
    points = PointsService(
        engine=own,
        session_factory=create_session_factory(own),
        rules=DEFAULT_RULES,
        clock=clock,
        batching=BatchConfig(max_items=8, flushers=1),
    )
    try:
        async with engine.connect() as blocker:
            blocking = await blocker.begin()
            await blocker.execute(
                text("SELECT 1 FROM points_balances WHERE user_id = :u FOR UPDATE"),
                {"u": users[0]},
            )
            calls = asyncio.ensure_future(
                at_once(*(points.award_request(user_id=u, action=TEXT, key="k") for u in users))
            )
            await _backend_waiting_in(engine, "points_batch")
            assert points.batcher is not None
            await points.batcher.aclose(timeout=0.2)
            outcomes = await asyncio.wait_for(calls, timeout=10)
            await blocking.rollback()
    finally:
        await own.dispose()
    assert [type(o) for o in outcomes] == [BatcherClosedError] * 2


async def test_batching_off_sends_every_call_alone(
    make_service: ServiceFactory,
    clean_db: None,
    sessions: async_sessionmaker[AsyncSession],
    engine: AsyncEngine,
    clock: FakeClock,
) -> None:
    points = PointsService(
        engine=engine,
        session_factory=create_session_factory(engine),
        rules=DEFAULT_RULES,
        clock=clock,
        batching=None,
    )
    users = [await create_user(sessions) for _ in range(3)]
    outcomes = await at_once(
        *(points.award_request(user_id=u, action=TEXT, key="k") for u in users)
    )
    assert points.batcher is None
    assert [o.amount for o in outcomes if isinstance(o, PointsOutcome)] == [10] * 3


@pytest.mark.parametrize("config", [{"max_items": 0}, {"flushers": 0}])
def test_batch_config_refuses_nonsense(config: dict[str, int]) -> None:
    with pytest.raises(ValueError, match="at least 1"):
        BatchConfig(**config)
