"""The ledger through PgBouncer in transaction mode (runs when `pgbouncer` is installed).

What breaks and what holds, on a PgBouncer with fewer server connections than clients (so
consecutive transactions of one client land on different server connections):
- asyncpg's statement cache (named statements) fails: "prepared statement ... does not exist";
- with DB_PGBOUNCER=true (the cache off) the whole application works: migrations, level sync,
  grouped earns with replays from many tasks, daily claims, grants, the balance read, the
  background jobs' advisory locks; the audit is clean and nothing is paid twice.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import asyncpg
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from config.points_config import DEFAULT_RULES, RequestAction
from config.settings import load_settings
from src.bootstrap import build_context, prepare_database
from src.services.ledger_audit import audit_ledger
from src.services.periodic_jobs import PeriodicJob
from tests.support.factories import create_user
from tests.support.pgbouncer import PGBOUNCER, PgBouncer

pytestmark = pytest.mark.skipif(PGBOUNCER is None, reason="pgbouncer is not installed")

USERS = 20
EARNS_PER_USER = 15


@pytest.fixture
def bouncer(app_database_url: str, clean_db: None) -> Iterator[PgBouncer]:
    with PgBouncer(app_database_url, pool_size=3) as running:
        yield running


async def test_the_statement_cache_breaks_behind_transaction_pooling(bouncer: PgBouncer) -> None:
    engine = create_async_engine(bouncer.url, pool_size=10)
    failures: list[BaseException] = []

    async def client(n: int) -> None:
        try:
            async with engine.connect() as conn:
                raw = await conn.get_raw_connection()
                driver = raw.driver_connection
                assert driver is not None
                for i in range(30):  # each statement its own transaction (autocommit)
                    await driver.fetchrow("SELECT $1::int + $2::int", i, n)
        except asyncpg.PostgresError as exc:
            failures.append(exc)

    try:
        await asyncio.gather(*(client(n) for n in range(10)))
    finally:
        await engine.dispose()
    assert failures, "expected named prepared statements to get lost between server connections"
    assert all(isinstance(f, asyncpg.InvalidSQLStatementNameError) for f in failures), failures


async def test_the_ledger_through_pgbouncer(bouncer: PgBouncer, engine: AsyncEngine) -> None:
    settings = load_settings(_env_file=None, DB_PGBOUNCER="true", DB_POOL_SIZE="10", TIMEZONE="UTC")
    context = build_context(settings, database_url=bouncer.url)
    other = build_context(settings, database_url=bouncer.url)  # a second worker
    try:
        await prepare_database(context)  # alembic and the level sync, through PgBouncer
        users = [await create_user(context.sessions) for _ in range(USERS)]

        async def earn(user: int, n: int) -> int:
            outcome = await context.points.award_request(
                user_id=user, action=RequestAction.TEXT, key=f"pgb:{user}:{n % 10}"
            )  # n % 10: a third of the calls replay a key
            return outcome.amount if not outcome.duplicate else 0

        paid = await asyncio.gather(
            *(earn(u, n) for n in range(EARNS_PER_USER) for u in users),
            *(context.points.claim_daily_login(user_id=u) for u in users),
            *(other.points.admin_grant(user_id=u, amount=7, admin_id=1) for u in users),
        )
        view = await context.points.get_balance(user_id=users[0])
        assert view.balance > 0

        # Background jobs: one of two workers runs a job; the lock is free afterwards.
        started, release = asyncio.Event(), asyncio.Event()

        async def slow_job() -> None:
            started.set()
            await release.wait()

        for ctx in (context, other):
            ctx.jobs.add(PeriodicJob("pgb-job", 60, slow_job))
        first = asyncio.create_task(context.jobs.run_once("pgb-job"))
        await started.wait()
        assert await other.jobs.run_once("pgb-job") is False  # running elsewhere
        release.set()
        assert await first is True
        assert await other.jobs.run_once("pgb-job") is True  # the lock went with the commit
    finally:
        await context.close()
        await other.close()

    report = await audit_ledger(engine, DEFAULT_RULES, "UTC")
    assert report.ok, report.summary()
    async with engine.connect() as conn:
        rows = (
            await conn.execute(
                text(
                    "SELECT count(*), count(DISTINCT transaction_id), coalesce(sum(amount), 0)"
                    " FROM points_transactions WHERE transaction_id LIKE 'pgb:%'"
                )
            )
        ).one()
    earns = [p for p in paid[: USERS * EARNS_PER_USER] if isinstance(p, int)]
    assert rows[0] == rows[1] == USERS * 10  # one row per key, replays paid nothing
    assert rows[2] == sum(earns)
