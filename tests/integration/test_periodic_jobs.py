"""Background jobs run once at a time across processes (advisory locks), and survive failures."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from src.services.failures import FailureCounter
from src.services.periodic_jobs import JobRunner, PeriodicJob, lock_key


def runner_with(engine: AsyncEngine, name: str, run: PeriodicJob) -> JobRunner:
    runner = JobRunner(engine, FailureCounter())
    runner.add(run)
    return runner


async def test_two_workers_never_run_the_same_job_at_once(app_database_url: str) -> None:
    # Two runners on two engines stand for two worker processes sharing the database.
    engines = [create_async_engine(app_database_url) for _ in range(2)]
    running = 0
    overlaps = 0
    ran = 0
    release, started = asyncio.Event(), asyncio.Event()

    async def chore() -> None:
        nonlocal running, overlaps, ran
        running += 1
        overlaps += running > 1
        ran += 1
        started.set()
        await release.wait()
        running -= 1

    try:
        runners = [
            runner_with(e, "reminders", PeriodicJob("reminders", 60, chore)) for e in engines
        ]
        first = asyncio.create_task(runners[0].run_once("reminders"))
        await asyncio.wait_for(started.wait(), 10)
        assert await runners[1].run_once("reminders") is False  # held by the first worker
        release.set()
        assert await first is True
        assert await runners[1].run_once("reminders") is True  # released after the run
        assert (ran, overlaps) == (2, 0)
    finally:
        for engine in engines:
            await engine.dispose()


async def test_a_failing_job_is_counted_and_releases_its_lock(engine: AsyncEngine) -> None:
    failures = FailureCounter()
    runner = JobRunner(engine, failures)

    async def broken() -> None:
        raise RuntimeError("provider down")

    runner.add(PeriodicJob("poller", 60, broken))
    assert await runner.run_once("poller") is True
    assert await runner.run_once("poller") is True
    assert failures.get("job:poller") == 2
    async with engine.connect() as conn:
        held = await conn.execute(
            text("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND objid = :low"),
            {"low": lock_key("poller") & 0xFFFFFFFF},
        )
        assert held.scalar() == 0


async def test_the_loop_ticks_until_closed(engine: AsyncEngine) -> None:
    ticks = 0
    three = asyncio.Event()

    async def chore() -> None:
        nonlocal ticks
        ticks += 1
        if ticks == 3:
            three.set()

    runner = JobRunner(engine, FailureCounter())
    runner.add(PeriodicJob("rollup", 0.01, chore))
    runner.start()
    await asyncio.wait_for(three.wait(), 10)
    await runner.aclose()
    seen = ticks
    await asyncio.sleep(0.05)
    assert ticks == seen


def test_job_names_are_unique(engine: AsyncEngine) -> None:
    async def chore() -> None:
        return None

    runner = JobRunner(engine, FailureCounter())
    runner.add(PeriodicJob("a", 1, chore))
    with pytest.raises(ValueError, match="already registered"):
        runner.add(PeriodicJob("a", 1, chore))
